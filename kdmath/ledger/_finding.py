"""The verdicts, a check's finding, and helpers that turn a comparison into a verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from .. import output

VERIFIED = "verified"
CORRECTED = "corrected"
FALSE = "false"
VACUOUS = "true but vacuous"
EMPIRICAL = "empirical"
UNVERIFIABLE = "unverifiable"

VERDICTS = (VERIFIED, CORRECTED, FALSE, VACUOUS, EMPIRICAL, UNVERIFIABLE)

# Verdicts that code decides: a claim with one of these must name a check that reaches it.
DECIDED = (VERIFIED, CORRECTED, FALSE, VACUOUS)


@dataclass(frozen=True)
class Finding:
    """What a check found: the verdict it reached and the evidence, as one line of MyST."""

    verdict: str
    evidence: str
    values: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")


def agrees_to_shown_digits(stated: float, computed: float, decimals: int, slack: int = 0) -> bool:
    """Whether ``stated`` is ``computed`` rounded to ``decimals`` places (``slack`` last-place units allowed).

    A source that prints 0.046 for 0.04576 is right; one that prints 0.228 for 0.2347 is not.
    """
    unit = 10.0 ** (-decimals)
    return abs(stated - computed) <= (0.5 + slack) * unit + 1e-12


def verified_if(condition: bool, evidence: str, **values) -> Finding:
    """VERIFIED when ``condition`` holds, CORRECTED otherwise."""
    return Finding(VERIFIED if condition else CORRECTED, evidence, values)


def false_if(counterexample_found: bool, evidence: str, **values) -> Finding:
    """FALSE when a counterexample was found, VERIFIED otherwise."""
    return Finding(FALSE if counterexample_found else VERIFIED, evidence, values)


# Evidence is written with the book's rounding helpers: numbers as tuples, errors as bounds.
fmt = partial(output.fmt, brackets="()")
below = output.below
