"""The source-coverage map: every statement of every source note, accounted for.

A note is cut into *statements* by :func:`statements`, deterministically:

- each non-blank line is cut into sentences, at a ``.``, ``!`` or ``?`` followed by white space
  and a capital letter, a digit, a bracket or a formula's opening;
- a displayed formula (from a line that opens ``$$`` or ``\\[`` to the line that closes it) is one
  statement, however many lines it spans.

A statement is located by its line (1-based) and, where its line holds several, its rank on the
line: ``L12`` is line 12 (all of it), ``L12.3`` its third sentence. A *span* is one location, or
two joined by ``-`` (``L12.3-L15``: from that sentence through the end of line 15).

Each note's map (``coverage/source_00N.py``) is a tuple of :class:`Entry`, in the order of the
note. An entry covers a span and says either which registered claims its statements make
(:func:`claim`), or why they make none (:func:`not_a_claim`, with a :data:`KINDS` kind and a
reason). :func:`problems` lists what is wrong with a map: a statement no entry covers or two
entries cover, an entry whose opening words are not the note's, a claim id that is not registered
or belongs to another note, a registered claim that no statement makes, an unknown kind, a
duplicate that does not name what it duplicates. The test suite asserts that every note's map has
none.
"""

from __future__ import annotations

import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

HEADING = "heading"  # a title, heading, front matter or layout
DEFINITION = "definition"  # defines a term, a symbol or a setting; asserts nothing about it
QUESTION = "question"  # a question, an exercise's statement, or an instruction to the reader
RHETORIC = "rhetoric"  # motivation, framing or advice with no checkable content
DUPLICATE = "duplicate"  # restates what another mapped statement says; the reason names it
REFERENCE = "reference"  # a citation, or a pointer to other material

KINDS = {
    HEADING: "a title, heading, front matter or layout",
    DEFINITION: "defines a term, a symbol or a setting, and asserts nothing about it",
    QUESTION: "a question, an exercise's statement, or an instruction to the reader",
    RHETORIC: "motivation, framing or advice with no checkable content",
    DUPLICATE: "says again what another statement says (the reason names the claim or the place)",
    REFERENCE: "a citation, or a pointer to other material",
}

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[$\\*_\"'“‘-])")
_DISPLAY_OPEN = ("$$", "\\[")
_SPAN = re.compile(r"^L(\d+)(?:\.(\d+))?(?:-L(\d+)(?:\.(\d+))?)?$")


@dataclass(frozen=True)
class Statement:
    """One statement of a note: its location (``L12`` or ``L12.3``), its line, its rank there, its text."""

    location: str
    line: int
    rank: int
    text: str


@dataclass(frozen=True)
class Entry:
    """A span of a note and what its statements are: claims (``claims``) or none (``kind``, ``reason``)."""

    span: str
    opens: str
    claims: tuple[str, ...] = ()
    kind: str | None = None
    reason: str | None = None


def claim(span: str, opens: str, *claim_ids: str) -> Entry:
    """The statements of ``span`` (whose first begins with ``opens``) make the registered claims ``claim_ids``."""
    if not claim_ids:
        raise ValueError(f"claim({span!r}): name at least one claim id")
    return Entry(span, opens, tuple(claim_ids))


def not_a_claim(span: str, opens: str, kind: str, reason: str) -> Entry:
    """The statements of ``span`` make no claim: ``kind`` is one of :data:`KINDS`, ``reason`` says why."""
    return Entry(span, opens, (), kind, reason)


def _sentences(line: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(line.strip()) if part.strip()]


def statements(text: str) -> list[Statement]:
    """The statements of a note's ``text``, in order (see the module's docstring for the rule)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = text.splitlines()
    found: list[Statement] = []
    number = 0
    while number < len(lines):
        raw = lines[number].strip()
        number += 1
        if not raw:
            continue
        opener = next((mark for mark in _DISPLAY_OPEN if raw.startswith(mark)), None)
        closer = {"$$": "$$", "\\[": "\\]"}.get(opener)
        if opener and not (len(raw) > len(opener) and raw.endswith(closer)):
            block, first = [raw], number
            while number < len(lines) and not lines[number].strip().endswith(closer):
                block.append(lines[number].strip())
                number += 1
            if number < len(lines):
                block.append(lines[number].strip())
                number += 1
            found.append(Statement(f"L{first}", first, 1, " ".join(part for part in block if part)))
            continue
        parts = _sentences(raw)
        for rank, part in enumerate(parts, start=1):
            location = f"L{number}" if len(parts) == 1 else f"L{number}.{rank}"
            found.append(Statement(location, number, rank, part))
    return found


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def span_indices(span: str, found: list[Statement]) -> range:
    """The indices in ``found`` of the statements ``span`` covers; ``ValueError`` if it names none."""
    match = _SPAN.match(span) if isinstance(span, str) else None
    if not match:
        raise ValueError(f"span must look like 'L12', 'L12.3' or 'L12.3-L15', got {span!r}")
    line1, rank1, line2, rank2 = match.groups()
    line2, rank2 = (line1, rank1) if line2 is None else (line2, rank2)

    def first(line, rank):
        return next((i for i, s in enumerate(found) if s.line == int(line) and (rank is None or s.rank == int(rank))), None)

    def last(line, rank):
        hits = [i for i, s in enumerate(found) if s.line == int(line) and (rank is None or s.rank == int(rank))]
        return hits[-1] if hits else None

    start, stop = first(line1, rank1), last(line2, rank2)
    if start is None or stop is None or stop < start:
        raise ValueError(f"span {span!r} names no statement of the note")
    return range(start, stop + 1)


def load_map(source_id: str) -> tuple[Entry, ...]:
    """The committed map of source note ``source_id`` (``coverage/source_<id>.py``'s ``MAP``)."""
    if not isinstance(source_id, str) or not re.fullmatch(r"\d{3}", source_id):
        raise ValueError(f"source_id must be three digits such as '003', got {source_id!r}")
    return importlib.import_module(f"{__name__}.source_{source_id}").MAP


def default_sources_dir() -> Path:
    """``$KDBOOK_SOURCES_DIR`` if set, else ``../shared/sources`` beside the clone (the notes are not shipped)."""
    env = os.environ.get("KDBOOK_SOURCES_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[3].parent / "shared" / "sources"


def source_text(source_id: str, sources_dir: str | os.PathLike | None = None) -> str:
    """The text of source note ``source_id``, read from ``sources_dir`` (default :func:`default_sources_dir`)."""
    from ..registry import SOURCES

    if source_id not in SOURCES:
        raise ValueError(f"source_id must be one of {tuple(SOURCES)}, got {source_id!r}")
    directory = default_sources_dir() if sources_dir is None else Path(sources_dir)
    return (directory / SOURCES[source_id].file).read_text(encoding="utf-8")


def problems(source_id: str, text: str, entries: tuple[Entry, ...] | None = None) -> list[str]:
    """What is wrong with the map of note ``source_id`` over its ``text``: an empty list when nothing is."""
    from ..registry import CLAIMS

    entries = load_map(source_id) if entries is None else entries
    found = statements(text)
    registered = {c.id: c for c in CLAIMS}
    owner: dict[int, str] = {}
    trouble: list[str] = []
    previous_stop = -1
    mapped_ids: set[str] = set()
    for entry in entries:
        try:
            covered = span_indices(entry.span, found)
        except ValueError as error:
            trouble.append(str(error))
            continue
        if covered.start <= previous_stop:
            trouble.append(f"{entry.span}: out of order, or overlaps the entry before it")
        previous_stop = max(previous_stop, covered.stop - 1)
        for i in covered:
            if i in owner:
                trouble.append(f"{found[i].location} is covered by {owner[i]} and {entry.span}")
            owner[i] = entry.span
        opening = found[covered.start].text
        if len(_normalise(entry.opens)) < min(12, len(_normalise(opening))) or not _normalise(opening).startswith(_normalise(entry.opens)):
            trouble.append(f"{entry.span}: opens with {opening[:60]!r}, not {entry.opens!r}")
        if entry.claims:
            if entry.kind or entry.reason:
                trouble.append(f"{entry.span}: names claims and a reason for none")
            for claim_id in entry.claims:
                if claim_id not in registered:
                    trouble.append(f"{entry.span}: claim {claim_id!r} is not registered")
                elif registered[claim_id].source != source_id:
                    trouble.append(f"{entry.span}: claim {claim_id!r} belongs to note {registered[claim_id].source}")
                mapped_ids.add(claim_id)
        else:
            if entry.kind not in KINDS:
                trouble.append(f"{entry.span}: kind must be one of {tuple(KINDS)}, got {entry.kind!r}")
            if not entry.reason or not entry.reason.strip():
                trouble.append(f"{entry.span}: a statement that makes no claim needs a reason")
            elif entry.kind == DUPLICATE and not (
                any(claim_id in entry.reason for claim_id in registered) or re.search(r"\bL\d+", entry.reason)
            ):
                trouble.append(f"{entry.span}: a duplicate must name the claim id or the place (L…) it repeats")
    for i, statement in enumerate(found):
        if i not in owner:
            trouble.append(f"{statement.location} is not mapped: {statement.text[:60]!r}")
    for claim_id, registered_claim in registered.items():
        if registered_claim.source == source_id and claim_id not in mapped_ids:
            trouble.append(f"claim {claim_id!r} is made by no statement of the map")
    return trouble


def summary(source_id: str, text: str, entries: tuple[Entry, ...] | None = None) -> dict[str, int]:
    """How many of the note's statements make a claim, and how many make none, by kind."""
    entries = load_map(source_id) if entries is None else entries
    found = statements(text)
    counts = {"claim": 0, **{kind: 0 for kind in KINDS}}
    for entry in entries:
        counts["claim" if entry.claims else entry.kind] += len(span_indices(entry.span, found))
    return counts
