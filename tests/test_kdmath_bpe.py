"""kdmath.bpe: pre-tokenisation, training against a naive recount, encoding, round trips, the asset."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kdmath import bpe

SHARED_TEXT = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare" / "input.txt"
ASSET = Path(bpe.__file__).resolve().parent / "assets" / bpe.SHAKESPEARE_ASSET


def _naive_train(text: str, vocab_size: int):
    """BPE from scratch: every pair recounted over every piece occurrence (no weights, no heap) per merge."""
    pieces = [list(piece.encode("utf-8")) for piece in re.findall(bpe.PATTERN, text)]
    merges = []
    while len(merges) < vocab_size - 256:
        counts = Counter()
        for ids in pieces:
            for i in range(len(ids) - 1):
                counts[(ids[i], ids[i + 1])] += 1
        if not counts:
            break
        best = max(counts.values())
        pair = min(p for p, c in counts.items() if c == best)
        new_id = 256 + len(merges)
        merges.append(pair)
        for k, ids in enumerate(pieces):
            out, i = [], 0
            while i < len(ids):
                if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(ids[i])
                    i += 1
            pieces[k] = out
    return merges, pieces


def _sample_text() -> str:
    if SHARED_TEXT.is_file():
        return SHARED_TEXT.read_text()[:12_000]
    lines = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"
    return lines * 40 + "aaaa 1234 !!?"


def test_pretokenize_pieces_of_an_example():
    pieces = ["Hello", ",", " world", " ", " 42", "!", "\n\n ", " x"]
    assert bpe.pretokenize("Hello, world  42!\n\n  x") == pieces


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_pieces_concatenate_to_the_text(text):
    pieces = bpe.pretokenize(text)
    assert "".join(pieces) == text and all(pieces)


@pytest.mark.parametrize("vocab_size", [256, 300, 420])
def test_training_equals_a_naive_recount(vocab_size):
    text = _sample_text()
    tokenizer = bpe.train_bpe(text, vocab_size)
    merges, final_pieces = _naive_train(text, vocab_size)
    assert tokenizer.merges == tuple(merges)
    assert tokenizer.vocab_size == 256 + len(merges)
    # encoding a training piece gives exactly what training left it as
    for piece, ids in zip(re.findall(bpe.PATTERN, text), final_pieces):
        assert tokenizer.encode(piece) == ids


def test_ties_go_to_the_smallest_pair_and_overlaps_count():
    # pairs (97, 98), (32, 99), (99, 100) all occur once: the smallest, (32, 99), is merged first
    assert bpe.train_bpe("ab cd", 257).merges == ((32, 99),)
    # "aaaa" holds (97, 97) three times (overlapping), merged left to right into [256, 256]
    tokenizer = bpe.train_bpe("aaaa", 300)
    assert tokenizer.merges == ((97, 97), (256, 256))  # then nothing is left to merge: stops early
    assert tokenizer.encode("aaaa") == [257] and tokenizer.encode("aaa") == [256, 97]
    assert list(bpe.train_bpe("aaaa", 300).merges) == _naive_train("aaaa", 300)[0] == [(97, 97), (256, 256)]


def test_tokens_never_cross_pieces():
    tokenizer = bpe.train_bpe("ab ab ab ab", 300)
    assert all(b" " not in tokenizer.token_bytes(i)[1:] for i in range(tokenizer.vocab_size))
    assert tokenizer.decode(tokenizer.encode("ab ab")) == "ab ab"


def test_training_is_deterministic():
    text = _sample_text()
    assert bpe.train_bpe(text, 400).merges == bpe.train_bpe(text, 400).merges


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_round_trip_any_text(text):
    tokenizer = bpe.shakespeare_tokenizer()
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    assert all(0 <= i < tokenizer.vocab_size for i in ids)
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode("utf-8")


def test_encode_lowest_rank_first_equals_merges_in_order():
    tokenizer = bpe.train_bpe(_sample_text(), 500)
    for word in ["Citizen", " speak", "Hello there!", "  \n\tzz", "ünïcödé"]:
        expected = []
        for piece in bpe.pretokenize(word):
            ids = list(piece.encode("utf-8"))
            for rank, pair in enumerate(tokenizer.merges):  # every merge, in the order learnt
                ids = bpe._merge_pair(ids, pair, 256 + rank)
            expected.extend(ids)
        assert tokenizer.encode(word) == expected


def test_decode_inputs():
    tokenizer = bpe.train_bpe("hello hello", 260)
    ids = tokenizer.encode("hello")
    assert tokenizer.decode(torch.tensor(ids)) == "hello"
    assert tokenizer.decode([0xC3]) == "\ufffd"  # half a UTF-8 character is replaced, not raised
    with pytest.raises(ValueError, match="ids"):
        tokenizer.decode([tokenizer.vocab_size])
    with pytest.raises(TypeError, match="ids"):
        tokenizer.decode([1.0])
    with pytest.raises(TypeError, match="ids"):
        tokenizer.decode("hello")
    with pytest.raises(TypeError, match="ids"):
        tokenizer.decode(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="ids"):
        tokenizer.decode(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="i must"):
        tokenizer.token_bytes(-1)
    with pytest.raises(TypeError, match="text"):
        tokenizer.encode(b"bytes")
    with pytest.raises(ValueError, match="UTF-8"):
        tokenizer.encode("\ud800")


def test_bad_training_arguments_raise_named_errors():
    with pytest.raises(TypeError, match="text"):
        bpe.train_bpe(b"abc", 300)
    with pytest.raises(TypeError, match="vocab_size"):
        bpe.train_bpe("abc", 300.0)
    with pytest.raises(TypeError, match="vocab_size"):
        bpe.train_bpe("abc", True)
    with pytest.raises(ValueError, match="vocab_size"):
        bpe.train_bpe("abc", 255)


def test_merges_are_validated():
    with pytest.raises(ValueError, match=r"merges\[1\]"):
        bpe.BPETokenizer([(1, 2), (3, 257)])  # token 257 does not exist before merge 1 creates it
    with pytest.raises(ValueError, match="repeat"):
        bpe.BPETokenizer([(1, 2), (1, 2)])
    with pytest.raises(TypeError, match=r"merges\[0\]"):
        bpe.BPETokenizer([(1.0, 2)])
    assert bpe.BPETokenizer([(104, 105)]).token_bytes(256) == b"hi"


def test_save_and_load(tmp_path):
    tokenizer = bpe.train_bpe(_sample_text(), 320)
    path = tokenizer.save(tmp_path / "sub" / "tok.json", metadata={"note": "test"})
    assert [p.name for p in path.parent.iterdir()] == ["tok.json"]  # no temporary file left
    loaded = bpe.BPETokenizer.load(path)
    assert loaded == tokenizer and loaded.merges == tokenizer.merges
    assert json.loads(path.read_text())["metadata"] == {"note": "test"}
    bpe.BPETokenizer([]).save(tmp_path / "empty.json")
    assert bpe.BPETokenizer.load(tmp_path / "empty.json").vocab_size == 256

    payload = json.loads(path.read_text())
    for key, value, match in [("pattern", r"\w+", "pattern"), ("vocab_size", 999, "vocab_size"),
                              ("format", "other", "not a"), ("version", 2, "version")]:
        (tmp_path / "bad.json").write_text(json.dumps({**payload, key: value}))
        with pytest.raises(ValueError, match=match):
            bpe.BPETokenizer.load(tmp_path / "bad.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="not JSON"):
        bpe.BPETokenizer.load(tmp_path / "bad.json")
    with pytest.raises(FileNotFoundError, match="path"):
        bpe.BPETokenizer.load(tmp_path / "missing.json")
    with pytest.raises(TypeError, match="path"):
        tokenizer.save(3)


def test_committed_asset():
    tokenizer = bpe.shakespeare_tokenizer()
    assert tokenizer.vocab_size == 2048
    assert tokenizer == bpe.BPETokenizer.load(ASSET)
    assert bpe.shakespeare_tokenizer() is tokenizer  # loaded once


@pytest.mark.skipif(not SHARED_TEXT.is_file(), reason="no Tiny Shakespeare beside the repository")
def test_committed_asset_is_the_training_split_retrained():
    from kdmath.text import load_shakespeare, split_text

    train, _ = split_text(load_shakespeare(SHARED_TEXT.parent))
    assert bpe.train_bpe(train, 2048).merges == bpe.shakespeare_tokenizer().merges
