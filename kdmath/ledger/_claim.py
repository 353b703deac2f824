"""A source note and a claim of it: the record the registry is made of, and the checks of its texts."""


from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from ._finding import (
    CORRECTED,
    DECIDED,
    EMPIRICAL,
    FALSE,
    UNVERIFIABLE,
    VACUOUS,
    VERDICTS,
)


@dataclass(frozen=True)
class Source:
    """One source note: its id (the prefix of its claims' ids), its file, and what a reader is told about it.

    The files are not shipped with the book; ``title`` and ``summary`` are the only description of them
    the book gives (on the ledger page and the sources page), so they are written here, once.
    """

    id: str
    file: str
    title: str
    summary: str


SOURCES: dict[str, Source] = {
    source.id: source
    for source in (
        Source("000", "000_26121bf45b6a6dba.txt", "The soft-target gradient and its high-temperature limit",
               "A one-page derivation, in the style of Hinton et al. (2015), of the gradient of the cross-entropy "
               "to a teacher's soft targets at temperature T, followed by a first-order Taylor expansion for large T "
               "that ends in a gradient proportional to the difference of the logits. The derivation appears twice, "
               "word for word."),
        Source("001", "001_bd2c23c8fa3487d6.txt", "A web note on knowledge distillation",
               "A short entry of a personal research notebook, following Hinton et al. (2015): the temperature "
               "softmax (its equation 1), the soft-target gradient (equation 2) and, in a footnote, two "
               "high-temperature approximations of it (equations 3 and 4)."),
        Source("002", "002_4fb16db29d5d5501.txt", "Knowledge distillation: why and how",
               "An introductory explainer: what distillation is and why it is used (compression, cheaper "
               "deployment, sometimes better generalisation), the three steps of the recipe, and the loss that "
               "mixes the cross-entropy to the labels with a T²-scaled KL divergence, or cross-entropy, to the "
               "teacher's softened outputs."),
        Source("003", "003_8d5a19f0dde13e96.txt", "A study unit on knowledge distillation for language models",
               "A long unit of a course on the mathematics of large language models: the distillation loss and its "
               "T² factor, the high- and zero-temperature limits, logit-, feature-, relation- and attention-based "
               "variants, why distillation works, distillation of LLMs (top-k and sampled KL, on-policy), three "
               "worked examples, five practice problems with solutions and an eight-question quiz."),
        Source("004", "004_b6906b5fa23cc9b6.txt", "Mathematical foundations of knowledge distillation",
               "A module that promises rigorous foundations and proofs: temperature scaling and its limits, the KL "
               "loss and the T² argument, nine numbered theorems (entropy, gradients, dark knowledge, "
               "generalisation, compression, attention, progressive and self-distillation, optimal temperature), "
               "feature- and relation-based distillation, and a table of temperatures to use."),
    )
}

# The claims' texts (place, statement, correction, note) are MyST Markdown: a formula stands between
# dollars, and a literal dollar (a price) is written \$. The ledger page typesets them; the checks below
# keep prose from being typeset as a formula, and the site test compares what the browser typesets with
# math_spans.
_DOLLAR = re.compile(r"(?<!\\)\$")
_COMMAND = re.compile(r"\\(?:text|mathrm|operatorname|mathbf|mathbb|mathcal)\{[^}]*\}|\\[A-Za-z]+")


def math_spans(text: str) -> list[str]:
    """The formulas of a claim's text: what stands between unescaped dollars (``\\$`` is a literal dollar)."""
    parts = _DOLLAR.split(text)
    if len(parts) % 2 == 0:
        raise ValueError(f"an odd number of unescaped dollars (write a literal dollar as \\$): {text!r}")
    return parts[1::2]


def not_a_formula(span: str) -> str | None:
    """Why the text between two dollars reads as prose or prices rather than a formula; ``None`` when it does not."""
    bare = _COMMAND.sub(" ", span)
    if re.search(r"(?<![\\A-Za-z_^])[A-Za-z]{2,}\s+[A-Za-z]{2,}\b", bare):
        return "it holds two words in a row"
    if re.search(r"\d,\d{3}\b", span):
        return "it holds a number with a thousands comma (a price?)"
    depth = 0
    for char in span.replace(r"\{", "").replace(r"\}", ""):
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            break
    if depth:
        return "its brackets do not balance"
    return None


TESTED_IN_CH10 = ("Tested in chapter 10 by its stated test (kdmath.ledger.stated_tests): paired differences over committed "
                  "replicates of an MNIST experiment, a 95% interval, and a rule that can answer 'inconclusive'. ")


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    place: str
    statement: str
    verdict: str
    where: str
    check: Callable | None = None
    correction: str | None = None
    note: str | None = None

    def __post_init__(self):
        for field in ("place", "statement", "correction", "note"):
            for span in math_spans(getattr(self, field) or ""):
                reason = not_a_formula(span)
                if reason:
                    raise ValueError(f"claim {self.id}: the {field}'s ${span}$ is typeset as a formula, but {reason}; "
                                     f"write a literal dollar as \\$")
        if self.source not in SOURCES:
            raise ValueError(f"claim {self.id}: source must be one of {tuple(SOURCES)}, got {self.source!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict in DECIDED and self.check is None:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs a check")
        if self.verdict in (CORRECTED, FALSE) and not self.correction:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs the correct statement")
        if self.verdict in (VACUOUS, EMPIRICAL, UNVERIFIABLE) and not self.note:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs a note (the reason or the experiment)")
        kind, _, target = self.where.partition(":")
        if kind not in ("ref", "prf", "doc", "eq") or not target:
            raise ValueError(f"claim {self.id}: where must be 'ref:', 'prf:', 'doc:' or 'eq:' and a target, got {self.where!r}")

    @property
    def check_name(self) -> str | None:
        return None if self.check is None else f"{self.check.__module__}.{self.check.__name__}"


