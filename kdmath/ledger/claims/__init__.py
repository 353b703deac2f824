"""The registry's claims, one module per source note (see :mod:`kdmath.ledger.registry`)."""
