"""The claims ledger: a machine-readable verdict, backed by a check, for every claim of the sources.

``CLAIMS`` is the registry (:mod:`kdmath.ledger.registry`); :func:`run_check` runs one claim's
check and returns its :class:`Finding`; :func:`records` gives the registry as plain dictionaries
(what ``python -m kdmath.ledger`` prints as JSON, and what the book's ledger page is built from).
"""

from __future__ import annotations

from collections import Counter

from ._finding import (
    CORRECTED,
    EMPIRICAL,
    FALSE,
    UNVERIFIABLE,
    VACUOUS,
    VERDICTS,
    VERIFIED,
    Finding,
)
from .registry import CLAIMS, SOURCES, Claim, Source, by_id, math_spans

__all__ = [
    "CLAIMS",
    "SOURCES",
    "VERDICTS",
    "VERIFIED",
    "CORRECTED",
    "FALSE",
    "VACUOUS",
    "EMPIRICAL",
    "UNVERIFIABLE",
    "Claim",
    "Source",
    "math_spans",
    "Finding",
    "by_id",
    "run_check",
    "records",
    "verdict_counts",
]


def run_check(claim: Claim) -> Finding | None:
    """Run ``claim``'s check; ``None`` for a claim that has none (empirical or unverifiable)."""
    if not isinstance(claim, Claim):
        raise TypeError(f"claim must be a kdmath.ledger.Claim, got {type(claim).__name__}")
    return None if claim.check is None else claim.check()


def verdict_counts(source: str | None = None) -> dict[str, int]:
    """How many claims carry each verdict, in the order of ``VERDICTS``; with ``source``, of that note's claims only."""
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {tuple(SOURCES)}, got {source!r}")
    counts = Counter(claim.verdict for claim in CLAIMS if source is None or claim.source == source)
    return {verdict: counts.get(verdict, 0) for verdict in VERDICTS}


def records(run_checks: bool = False) -> list[dict]:
    """The registry as dictionaries; with ``run_checks``, each with its check's finding."""
    rows = []
    for claim in CLAIMS:
        row = {
            "id": claim.id,
            "source": SOURCES[claim.source].file,
            "source_title": SOURCES[claim.source].title,
            "place": claim.place,
            "statement": claim.statement,
            "verdict": claim.verdict,
            "correction": claim.correction,
            "note": claim.note,
            "check": claim.check_name,
            "where": claim.where,
        }
        if run_checks:
            finding = run_check(claim)
            row["found"] = None if finding is None else finding.verdict
            row["evidence"] = None if finding is None else finding.evidence
        rows.append(row)
    return rows
