"""The chapters' run times, as recorded when their outputs were stored.

The build renders the outputs committed in the notebooks (``execute_notebooks: "off"``): ``make test``
re-executes every chapter under nbval and compares each output with the committed one, so the build
need not run them a third time. ``tools/store_outputs.py`` records, in each notebook's metadata
(``kdbook.execution``), how long the chapter took to execute when its outputs were stored, on which
machine and with how many threads; the directive ``{chapter-run-times}`` renders those records as a
table, one row per chapter of ``notebooks/``, in order. A chapter without a record shows "not
recorded".
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HEADER = ("Chapter", "Seconds", "Threads", "Machine", "Stored")


def chapter_run_times(notebooks: Path) -> list[tuple[str, str, str, str, str]]:
    """One row per notebook: its title, and the seconds, threads, machine and date of its recorded run."""
    rows = []
    for path in sorted(notebooks.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        title = next((line.lstrip("# ").strip() for cell in notebook["cells"] if cell["cell_type"] == "markdown"
                      for line in "".join(cell["source"]).splitlines() if line.startswith("# ")), path.stem)
        record = notebook.get("metadata", {}).get("kdbook", {}).get("execution")
        if record is None:
            rows.append((title, "not recorded", "", "", ""))
        else:
            rows.append((title, f"{record['seconds']:.0f}", str(record["threads"]), record["machine"], record["date"]))
    return rows


class ChapterRunTimesDirective(SphinxDirective):
    """``{chapter-run-times}``: a table of every chapter's recorded execution."""

    has_content = False

    def run(self):
        notebooks = Path(self.env.srcdir) / "notebooks"
        for path in notebooks.glob("*.ipynb"):
            self.env.note_dependency(str(path))
        table = nodes.table(classes=["kdbook-runtimes-table"])
        group = nodes.tgroup(cols=len(HEADER))
        table += group
        for width in (4, 1, 1, 3, 2):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        for values, section in (([HEADER], head), (chapter_run_times(notebooks), body)):
            for value_row in values:
                row = nodes.row()
                for value in value_row:
                    row += nodes.entry("", nodes.paragraph("", value))
                section += row
        return [table]


def setup(app):
    app.add_directive("chapter-run-times", ChapterRunTimesDirective)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
