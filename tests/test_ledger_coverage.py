"""The source-coverage map accounts for every statement of every note, and its checker catches a bad map."""

from __future__ import annotations

import dataclasses

import pytest

from kdmath import ledger
from kdmath.ledger import coverage
from kdmath.ledger.coverage import DUPLICATE, HEADING, claim, not_a_claim, problems, source_text, statements


@pytest.mark.parametrize("source_id", list(ledger.SOURCES))
def test_every_statement_of_every_note_is_accounted_for(source_id):
    trouble = problems(source_id, source_text(source_id))
    assert trouble == [], "\n".join(trouble)


def test_every_registered_claim_is_made_by_a_statement():
    mapped = {claim_id for source_id in ledger.SOURCES for entry in coverage.load_map(source_id) for claim_id in entry.claims}
    assert {c.id for c in ledger.CLAIMS} <= mapped


def test_source_000_is_one_derivation_written_twice():
    # the map's reason for lines 38-74 ("the second copy, word for word") holds
    lines = source_text("000").splitlines()
    assert lines[37:74] == lines[0:37]


TEXT = """# A title

First sentence. Second one, with $x$. Third?
$$
a = b
$$
\\[ c = d \\]
- a list item
"""


def test_statements_cut_sentences_and_keep_a_displayed_formula_whole():
    found = statements(TEXT)
    assert [(s.location, s.text) for s in found] == [
        ("L1", "# A title"),
        ("L3.1", "First sentence."),
        ("L3.2", "Second one, with $x$."),
        ("L3.3", "Third?"),
        ("L4", "$$ a = b $$"),
        ("L7", "\\[ c = d \\]"),
        ("L8", "- a list item"),
    ]


def test_a_span_covers_whole_lines_and_ranges():
    found = statements(TEXT)
    assert list(coverage.span_indices("L3", found)) == [1, 2, 3]
    assert list(coverage.span_indices("L3.2-L4", found)) == [2, 3, 4]
    for bad in ("L2", "L3.4", "L4-L3", "3", "L3.1-"):
        with pytest.raises(ValueError, match="span"):
            coverage.span_indices(bad, found)


GOOD = (
    not_a_claim("L1", "# A title", HEADING, "the title"),
    claim("L3.1-L3.2", "First sentence.", "000-gradient"),
    not_a_claim("L3.3-L8", "Third?", DUPLICATE, "repeats L3.1"),
)


def _trouble(entries):
    # a map of the toy text, judged against note 000's claims: only the mapping itself is under test
    found = problems("000", TEXT, entries)
    unrelated = [t for t in found if "is made by no statement" in t]
    return [t for t in found if t not in unrelated]


def test_a_good_map_has_no_problems():
    assert _trouble(GOOD) == []


@pytest.mark.parametrize(
    "entries, expected",
    [
        (GOOD[:2], "L3.3 is not mapped"),
        ((GOOD[0], claim("L3.1-L3.3", "First", "000-gradient"), GOOD[2]), "is covered by"),
        ((GOOD[0], claim("L3.1-L3.2", "Second one", "000-gradient"), GOOD[2]), "opens with"),
        ((GOOD[0], claim("L3.1-L3.2", "First sentence.", "000-nonexistent"), GOOD[2]), "is not registered"),
        ((GOOD[0], claim("L3.1-L3.2", "First sentence.", "003-loss"), GOOD[2]), "belongs to note 003"),
        ((not_a_claim("L1", "# A title", "opinion", "x"), *GOOD[1:]), "kind must be one of"),
        ((not_a_claim("L1", "# A title", HEADING, " "), *GOOD[1:]), "needs a reason"),
        ((*GOOD[:2], not_a_claim("L3.3-L8", "Third?", DUPLICATE, "said before")), "must name the claim id or the place"),
        ((GOOD[1], GOOD[0], GOOD[2]), "out of order"),
        ((GOOD[0], dataclasses.replace(GOOD[1], kind=HEADING), GOOD[2]), "names claims and a reason"),
    ],
)
def test_the_checker_catches_a_bad_map(entries, expected):
    assert any(expected in t for t in _trouble(entries)), _trouble(entries)


def test_a_registered_claim_that_no_statement_makes_is_caught():
    assert any("'000-expansion' is made by no statement" in t for t in problems("000", TEXT, GOOD))


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="text"):
        statements(None)
    with pytest.raises(ValueError, match="source_id"):
        coverage.load_map("3")
    with pytest.raises(ValueError, match="source_id"):
        source_text("005")
    with pytest.raises(ValueError, match="at least one claim"):
        claim("L1", "x")
