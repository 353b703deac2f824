"""The verdicts, the procedure that assigns them, a check's finding, and helpers that turn a comparison into a verdict.

The procedure (:data:`DECISION_PROCEDURE`) reads a claim as its note writes it, with the note's own
definitions, and asks its questions in order; the first that answers yes gives the verdict. The
ledger page prints it, and the registry's tests apply the parts that code can check (a decided
verdict has a check that reaches it; a corrected or false one states what holds instead; an
empirical one names its test and its records; the others give their reason).
"""

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

# (verdict, the question that leads to it), in the order the questions are asked.
DECISION_PROCEDURE: tuple[tuple[str, str], ...] = (
    (UNVERIFIABLE,
     "Can the claim be decided only by adding what the note leaves out: a measure for a word it does not define "
     "('smoother', 'maximally revealed'), a model or a size it does not name, a proof it cites but that does not "
     "exist? Then it is unverifiable. The ledger says what is missing, and a check may show what some readings "
     "give, but no reading the book picks decides it."),
    (EMPIRICAL,
     "Does its truth depend on data and training, as a prediction of what a trained model does? Then it is "
     "empirical: it is given a test stated before any run (the hypothesis in measurable form, the effect that "
     "matters, the arms and their seeds, the interval, and a decision rule that can answer 'inconclusive'), and "
     "its outcome is read off committed multi-seed records; or the ledger says which test would decide it and "
     "why it has not run."),
    (VACUOUS,
     "Is it mathematics that holds, but holds for every model or distribution, including those that contradict "
     "what the note draws from it? Then it is true but vacuous, and the check shows such a case."),
    (VERIFIED,
     "Does it hold as written: an identity or a limit proved by sympy (for every K where it is stated for every "
     "K), or numbers that agree with the recomputed ones to the digits printed (within half a unit of the last "
     "printed place)? Then it is verified."),
    (CORRECTED,
     "Does it fail as written, but hold after one local repair that keeps what the note uses it for (a factor, "
     "a sign, a digit, a rounding, a missing condition such as ties or invertibility)? Then it is corrected, and "
     "the repaired statement is given and checked."),
    (FALSE,
     "Does it fail in substance, so that no local repair keeps its point? Then it is false: the check computes a "
     "counterexample, and what holds instead is given."),
)

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
