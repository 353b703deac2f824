"""A chapter's verdict on a source claim is the registry's: it is rendered from it, never written by hand."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kdmath import ledger

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BOX = re.compile(r"^(`{3,}|:{3,})\{source-claim\}[ \t]*(?P<ids>[^\n]*)\n(?P<options>(?::[\w-]+:[^\n]*\n)*)", re.M)
ADMONITION = re.compile(r"^(?:`{3,}|:{3,})\{admonition\}[ \t]*(?P<title>[^\n]*)", re.M)
# Words a hand-written box used to give its own verdict with.
VERDICT_WORDS = re.compile(
    r"^(correct|corrected|wrong|false|imprecise|misleading|invented|unsupported|incomplete|confused|empirical|"
    r"unverifiable|verified|vacuous|true but vacuous|not a theorem|not a defined)\b", re.I)


def _markdown(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown")


def boxes(text: str) -> list[tuple[list[str], dict[str, str]]]:
    found = []
    for match in BOX.finditer(text):
        options = dict(re.findall(r"^:([\w-]+):[ \t]*(.*)$", match.group("options"), re.M))
        found.append((match.group("ids").split(), options))
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_verdict_box_names_registered_claims_of_one_verdict(chapter):
    registry = ledger.by_id()
    for ids, options in boxes(_markdown(chapter)):
        assert ids, f"{chapter.name}: a source-claim box names no claim"
        unknown = [claim_id for claim_id in ids if claim_id not in registry]
        assert not unknown, f"{chapter.name}: {unknown} are not registered"
        verdicts = {registry[claim_id].verdict for claim_id in ids}
        assert len(verdicts) == 1, f"{chapter.name}: {ids} mix the verdicts {verdicts}"
        title = options.get("title", "")
        assert title and not VERDICT_WORDS.match(title), f"{chapter.name}: {ids}: the title {title!r} must name the topic, not a verdict"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_no_hand_written_box_gives_a_verdict_on_a_source(chapter):
    for match in ADMONITION.finditer(_markdown(chapter)):
        title = match.group("title")
        assert not VERDICT_WORDS.match(title), f"{chapter.name}: the box {title!r} writes a verdict by hand; use {{source-claim}}"
        assert not re.search(r"source note|note 00\d", title, re.I), f"{chapter.name}: {title!r} judges a source; use {{source-claim}}"


def test_the_chapters_show_verdicts_from_the_registry():
    shown = {claim_id for chapter in CHAPTERS for ids, _ in boxes(_markdown(chapter)) for claim_id in ids}
    assert len(shown) >= 60
    # the box checker itself: a box with an unknown id, or with two verdicts, is caught
    text = "```{source-claim} 003-pp2-total 003-pp2-soft\n:title: problem 2\nx\n```\n"
    ids, _ = boxes(text)[0]
    assert {ledger.by_id()[i].verdict for i in ids} == {ledger.CORRECTED, ledger.VERIFIED}
    assert VERDICT_WORDS.match("Wrong: a factor of T") and not VERDICT_WORDS.match("the factor of T")
