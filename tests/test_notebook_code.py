"""The chapters' notebooks, read as files (no kernel, no browser): what a reader will see.

* Code a reader sees (every code cell not tagged ``remove-cell`` or ``remove-input``; cells
  tagged ``hide-input`` count, one click shows them) fits the page: at most 2% of its lines are
  longer than 100 characters and none is longer than 120.
* No such cell calls ``glue(``: gluing is bookkeeping for the prose and goes in a
  ``remove-cell`` cell.
* Every cell whose shown output is an image is a numbered, named figure with alt text: cell
  metadata ``mystnb.figure.caption``, ``mystnb.figure.name`` and ``mystnb.image.alt``.
* The code that answers an exercise sits inside its solution's dropdown. Stated as a rule on
  the cells: between a solution and whatever ends it (the next exercise, the next heading or
  the end of the notebook), every code cell the page shows lies between a ``solution-start``
  and its ``solution-end``. So a solution followed by shown code must be the gated form, and
  after a ``solution-end`` no shown code may come before the next exercise or heading.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

LONG, LONGEST, SHARE = 100, 120, 0.02
IMAGE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")

# A MyST directive opening a line: ```{solution-start} label, :::{exercise}, ...
DIRECTIVE = re.compile(r"^\s*(?:`{3,}|:{3,})\s*\{(solution-start|solution-end|solution|exercise-start|exercise)\}",
                       re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)


def _tags(cell) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def input_shown(cell) -> bool:
    """A code cell whose source the page shows (or shows on a click, for hide-input)."""
    return cell.cell_type == "code" and not _tags(cell) & {"remove-cell", "remove-input"}


def anything_shown(cell) -> bool:
    """A code cell of which the page shows its source or an output."""
    if cell.cell_type != "code" or "remove-cell" in _tags(cell):
        return False
    tags = _tags(cell)
    return not ({"remove-input", "remove-output"} <= tags) and (
        "remove-input" not in tags or bool(cell.get("outputs")))


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 10, NOTEBOOKS


def line_report(nb) -> tuple[int, list[tuple[int, int, str]]]:
    """(lines of shown code, [(cell index, length, line) for every line over LONG])."""
    total, long_lines = 0, []
    for index, cell in enumerate(nb.cells):
        if not input_shown(cell):
            continue
        for line in cell.source.splitlines():
            total += 1
            if len(line) > LONG:
                long_lines.append((index, len(line), line))
    return total, long_lines


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_shown_code_fits_the_page(path):
    total, long_lines = line_report(_read(path))
    too_long = [f"cell {i}: {n} chars: {line[:60]}..." for i, n, line in long_lines if n > LONGEST]
    assert not too_long, f"{len(too_long)} shown lines over {LONGEST} characters: {too_long[:5]}"
    assert len(long_lines) <= SHARE * total, (
        f"{len(long_lines)} of {total} shown lines are over {LONG} characters (at most {SHARE:.0%}): "
        f"{[f'cell {i}: {n}' for i, n, _ in long_lines[:8]]}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_no_shown_cell_calls_glue(path):
    offenders = [index for index, cell in enumerate(_read(path).cells)
                 if input_shown(cell) and re.search(r"(?<![\w.])glue\s*\(|\.glue\s*\(", cell.source)]
    assert not offenders, f"cells {offenders} call glue( where the reader sees it: tag them remove-cell"


def _looks_like_a_file_name(text: str) -> bool:
    return bool(re.search(r"\.(png|svg|jpe?g|gif|pdf)\b|_images/|[0-9a-f]{16,}", text, re.IGNORECASE))


def figure_problems(nb) -> list[str]:
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or _tags(cell) & {"remove-cell", "remove-output"}:
            continue
        if not any(t in output.get("data", {}) for output in cell.get("outputs", []) for t in IMAGE_TYPES):
            continue
        meta = cell.get("metadata", {}).get("mystnb", {})
        figure, image = meta.get("figure", {}), meta.get("image", {})
        if not str(figure.get("caption", "")).strip():
            problems.append(f"cell {index}: no mystnb.figure.caption")
        if not str(figure.get("name", "")).strip():
            problems.append(f"cell {index}: no mystnb.figure.name")
        alt = str(image.get("alt", "")).strip()
        if len(alt.split()) < 3 or _looks_like_a_file_name(alt):
            problems.append(f"cell {index}: mystnb.image.alt missing or not a description: {alt[:60]!r}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_image_is_a_captioned_named_figure_with_alt_text(path):
    problems = figure_problems(_read(path))
    assert not problems, problems


def solution_problems(nb) -> list[str]:
    """Shown code that follows a solution but lies outside a solution-start/solution-end pair."""
    problems = []
    open_solution = None  # (cell index, kind) of the solution whose stretch we are in
    gated = False  # inside solution-start ... solution-end
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            # the directives and headings of one cell, in order
            events = sorted([(m.start(), m.group(1)) for m in DIRECTIVE.finditer(cell.source)]
                            + [(m.start(), "heading") for m in HEADING.finditer(cell.source)
                               if not _inside_fence(cell.source, m.start())])
            for _, event in events:
                if event in ("exercise", "exercise-start", "heading"):
                    open_solution, gated = None, False
                elif event == "solution":
                    open_solution, gated = (index, "solution"), False
                elif event == "solution-start":
                    open_solution, gated = (index, "solution-start"), True
                elif event == "solution-end":
                    gated = False  # still in the solution's stretch until the next exercise
        elif open_solution is not None and not gated and anything_shown(cell):
            where, kind = open_solution
            if kind == "solution":
                problems.append(f"cell {index}: shown code after the {{solution}} in cell {where}, outside its "
                                f"dropdown: use solution-start / solution-end around the code")
            else:
                problems.append(f"cell {index}: shown code after the solution-end of the solution in cell "
                                f"{where}, before the next exercise: move it inside the solution")
    return problems


def _inside_fence(text: str, position: int) -> bool:
    """Whether ``position`` lies inside a ``` or ::: fenced block (a '#' comment in code, say)."""
    fences = re.findall(r"^\s*(?:`{3,}|:{3,})", text[:position], re.MULTILINE)
    return len(fences) % 2 == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_solution_code_is_inside_the_dropdown(path):
    problems = solution_problems(_read(path))
    assert not problems, problems


# The rules above, checked on hand-made notebooks: each catches what it should and passes the
# right form, so that a green run over the chapters is not a vacuous one.

def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _md(text):
    return nbformat.v4.new_markdown_cell(text)


def _code(text, tags=(), outputs=(), **mystnb):
    cell = nbformat.v4.new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    if mystnb:
        cell.metadata["mystnb"] = mystnb
    cell.outputs = list(outputs)
    return cell


EXERCISE = "```{exercise}\n:label: ex\n\nDo it.\n```"
PLAIN = "```{solution} ex\n:class: dropdown\n```\n\nThe cell below checks it."
START = "```{solution-start} ex\n:class: dropdown\n```\n\nThe cell below checks it."
END = "```{solution-end}\n```"
GLUE = _code("glue('x', 1)", tags=["remove-cell"])


def test_solution_rule_on_hand_made_notebooks():
    check = _code("assert 1 + 1 == 2")
    # code after a plain {solution}: caught; the gated form with the code inside: passes
    assert solution_problems(_nb(_md(EXERCISE), _md(PLAIN), check))
    assert not solution_problems(_nb(_md(EXERCISE), _md(START), check, GLUE, _md(END), _md(EXERCISE), check))
    # code after solution-end and before the next exercise: caught; after a heading: passes
    assert solution_problems(_nb(_md(EXERCISE), _md(START), check, _md(END), check))
    assert not solution_problems(_nb(_md(EXERCISE), _md(START), check, _md(END), _md("## Next\n\nText."), check))
    # a plain {solution} with only hidden code after it (glue in remove-cell): passes
    assert not solution_problems(_nb(_md(EXERCISE), _md(PLAIN), GLUE, _md(EXERCISE)))
    # a remove-input cell still shows its output: caught
    assert solution_problems(_nb(_md(EXERCISE), _md(PLAIN), _code("print(1)", tags=["remove-input"],
                                                                   outputs=[nbformat.v4.new_output(
                                                                       "stream", name="stdout", text="1\n")])))
    # a '#' comment inside a fenced block in the solution's prose is not a heading
    fenced = PLAIN + "\n\n```python\n# not a heading\n```"
    assert solution_problems(_nb(_md(EXERCISE), _md(fenced), check))


def test_line_glue_and_figure_rules_on_hand_made_notebooks():
    short = "\n".join(f"x{i} = {i}" for i in range(60))
    assert not line_report(_nb(_code(short)))[1]
    total, long_lines = line_report(_nb(_code(short + "\n" + "y = " + "1 + " * 30 + "1")))
    assert len(long_lines) == 1 and total == 61
    # a removed cell's long line does not count
    assert not line_report(_nb(_code("y = " + "1 + " * 40, tags=["remove-cell"])))[1]

    png = nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})
    assert figure_problems(_nb(_code("plot()", outputs=[png])))
    assert figure_problems(_nb(_code("plot()", outputs=[png], figure={"caption": "A plot.", "name": "f"},
                                     image={"alt": "../_images/3f2a9c0b1d2e4f5a6b7c.png"})))
    assert not figure_problems(_nb(_code("plot()", outputs=[png], figure={"caption": "A plot.", "name": "f"},
                                         image={"alt": "Line plot of loss against epoch."})))
    assert not figure_problems(_nb(_code("plot()", tags=["remove-output"], outputs=[png])))
