"""The checks of the claims in :mod:`kdmath.ledger.claims.source_003_exercises` (source 003's worked examples, quiz and practice problems)."""

from __future__ import annotations
