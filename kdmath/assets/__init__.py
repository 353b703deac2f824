"""Data files that travel with kdmath: ``shakespeare_bpe_2048.json``, the committed Tiny Shakespeare
tokenizer (see :func:`kdmath.bpe.shakespeare_tokenizer`)."""
