"""Every theorem-level result of the book says what checked it, and what it names exists.

A ``{prf:theorem}``, ``{prf:proposition}``, ``{prf:lemma}`` or ``{prf:corollary}`` ends with a
paragraph ``**Checked by:** ...``: the derivation or cell, the range it covers, and the test
that runs it. Every ``tests/<file>.py::<name>`` it cites must be a test function in that file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("theorem", "proposition", "lemma", "corollary")
BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{prf:(?P<kind>" + "|".join(KINDS) + r")\}[^\n]*\n(?P<body>.*?)^(?P=fence)\s*$",
    re.M | re.S,
)
CITED_TEST = re.compile(r"tests/(?P<file>[\w/]+\.py)(?:::(?P<name>\w+))?")


def _markdown_sources():
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        yield notebook.relative_to(ROOT).as_posix(), text
    for page in sorted((ROOT / "book").glob("*.md")):
        yield page.relative_to(ROOT).as_posix(), page.read_text()


def theorem_blocks():
    return [
        (source, match.group("kind"), match.group("body"))
        for source, text in _markdown_sources()
        for match in BLOCK.finditer(text)
    ]


def _label(body: str) -> str:
    found = re.search(r"^:label:\s*(\S+)", body, re.M)
    return found.group(1) if found else body.strip().splitlines()[0][:40]


def test_the_book_has_theorems_to_check():
    assert len(theorem_blocks()) >= 10


@pytest.mark.parametrize("source, kind, body", [pytest.param(*b, id=_label(b[2])) for b in theorem_blocks()])
def test_every_theorem_says_what_checked_it(source, kind, body):
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    assert paragraphs and paragraphs[-1].startswith("**Checked by:**"), (
        f"{source}: {kind} {_label(body)} does not end with a '**Checked by:**' paragraph"
    )
    line = paragraphs[-1]
    assert re.search(r"\bTest", line), f"{source}: {kind} {_label(body)}: the checked-by line names no test"
    for cited in CITED_TEST.finditer(line):
        path = ROOT / "tests" / cited.group("file")
        assert path.exists(), f"{source}: {_label(body)} cites {cited.group(0)}, which does not exist"
        if cited.group("name"):
            assert re.search(rf"^def {cited.group('name')}\b", path.read_text(), re.M), (
                f"{source}: {_label(body)} cites {cited.group(0)}, which is not a test in that file"
            )
