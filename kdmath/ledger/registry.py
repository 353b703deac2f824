"""The registry: every formula, number and theorem of the five source notes, with its verdict.

A :class:`Claim` records where a source states something, the statement as the source gives it,
the verdict, the correct statement where it differs, the check that decides it, and the place in
the book that treats it (``where``: ``"ref:<label>"``, ``"prf:<label>"`` or ``"doc:<path>"``).
Claims that code cannot decide carry the reason (``note``) instead: for an empirical claim, the
experiment that tests it (:mod:`kdmath.ledger.empirical` reads its outcome off the committed results).
"""

from __future__ import annotations

from ._claim import SOURCES, TESTED_IN_CH10, Claim, Source, math_spans, not_a_formula
from .claims import (
    source_000,
    source_001,
    source_002,
    source_003,
    source_003_exercises,
    source_004,
)

__all__ = ["SOURCES", "CLAIMS", "Claim", "Source", "math_spans", "not_a_formula", "TESTED_IN_CH10", "by_id"]

# One module per source note, in the order of the notes.
CLAIMS: tuple[Claim, ...] = (
    source_000.CLAIMS + source_001.CLAIMS + source_002.CLAIMS + source_003.CLAIMS
    + source_003_exercises.CLAIMS
    + source_004.CLAIMS
)


def by_id() -> dict[str, Claim]:
    """The registry as a mapping from claim id to claim."""
    return {claim.id: claim for claim in CLAIMS}
