"""The claims ledger page, generated from ``kdmath.ledger`` at build time.

The directive ``{claims-ledger}`` runs every registered check while the page is read, and writes
the page's content from the registry: the counts per verdict, then one table per source note, each
row with the claim as the source states it, its verdict, the correct statement or the reason, the
check with what it computed in this build, and a link to the section of the book that treats it.
A check whose finding no longer matches the registered verdict is reported as a warning, which
fails the build (``-W``); the test suite checks the same. The page is re-read whenever a file of
``kdmath`` changes, so it cannot go stale, and ``claims.json`` (the registry with this build's
findings) is written next to the HTML.

An empirical claim that an MNIST experiment tests shows its outcome on the longest committed run
(``kdmath.ledger.empirical``); the page is re-read when a file of ``results/`` changes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

VERDICT_STYLE = {
    "verified": "success",
    "corrected": "warning",
    "false": "danger",
    "true but vacuous": "secondary",
    "empirical": "info",
    "unverifiable": "light",
}

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]{}<>$|#~])")


def _escape(text: str) -> str:
    """Evidence lines are plain text computed by the checks: keep MyST from reading them as markup."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def _link(where: str) -> str:
    kind, _, target = where.partition(":")
    chapter = re.match(r"ch(\d+)-", target)
    if kind == "ref":
        # Several chapters have a section of the same title: say which chapter it is in.
        return f"{{ref}}`{target}`" + (f" (chapter {chapter.group(1)})" if chapter else "")
    if kind == "prf":
        return f"{{prf:ref}}`{target}`"
    if kind == "eq":
        return f"notation, eq. {{eq}}`{target}`"
    return f"{{doc}}`/{target}`"


def _badge(verdict: str) -> str:
    return f"{{bdg-{VERDICT_STYLE[verdict]}}}`{verdict}`"


def _cell(text: str) -> list[str]:
    """A list-table cell: the first line after the marker, the rest indented under it."""
    lines = text.strip().splitlines() or [""]
    return [lines[0]] + [f"    {line}" for line in lines[1:]]


def _ledger_source(findings, outcomes) -> list[str]:
    from kdmath import ledger

    counts = ledger.verdict_counts()
    lines = [
        f"The registry holds **{len(ledger.CLAIMS)} claims** from the {len(ledger.SOURCES)} source notes. "
        f"Every one of the {sum(f is not None for f in findings.values())} checks below ran while this page was built.",
        "",
        ":::{list-table} Claims per verdict",
        ":header-rows: 1",
        ":name: ledger-counts",
        "",
        "* - Verdict",
        "  - Claims",
    ]
    for verdict, count in counts.items():
        lines += [f"* - {_badge(verdict)}", f"  - {count}"]
    lines += [":::", ""]
    for short, filename in ledger.SOURCES.items():
        claims = [claim for claim in ledger.CLAIMS if claim.source == short]
        lines += [
            f":::{{rubric}} Source {short}: {filename}, {len(claims)} claims",
            ":::",
            "",
            ":::{list-table}",
            ":header-rows: 1",
            ":widths: 42 14 44",
            ":class: ledger-table",
            "",
            "* - Claim",
            "  - Verdict",
            "  - Correct statement or reason; the check and what it computed",
        ]
        for claim in claims:
            finding = findings[claim.id]
            why = claim.correction or claim.note or "As stated."
            if claim.correction and claim.note:
                why = f"{claim.correction} {claim.note}"
            outcome = outcomes.get(claim.id)
            if outcome is not None:
                run = f"its {outcome.config} run" if outcome.config else "no run committed yet"
                decided = f"Experiment `{outcome.experiment}`, {run}: **{outcome.status}**; {_escape(outcome.evidence)}."
            elif finding is None:
                decided = "No check: " + ("see the note." if claim.verdict != "empirical" else "an experiment.")
            else:
                decided = f"`{claim.check_name}`: {_escape(finding.evidence)}."
            decided += f" Treated in {_link(claim.where)}."
            lines += [
                f"* - **{claim.id}** ({claim.place}): {claim.statement}".replace("\n", " "),
                f"  - {_badge(claim.verdict)}",
                f"  - {why}".replace("\n", " "),
                "",
                f"    {decided}".replace("\n", " "),
            ]
        lines += [":::", ""]
    return lines


class ClaimsLedger(SphinxDirective):
    """``{claims-ledger}``: the whole ledger, from the registry, with every check run."""

    has_content = False

    def run(self):
        from kdmath import ledger

        package = Path(ledger.__file__).resolve().parent.parent
        for path in [Path(__file__).resolve(), *sorted(package.rglob("*.py"))]:
            self.env.note_dependency(str(path))
        findings = {}
        for claim in ledger.CLAIMS:
            try:
                finding = ledger.run_check(claim)
            except Exception as error:  # a broken check must fail the build, with its claim named
                logger.warning(f"claims ledger: the check of {claim.id} raised {error!r}", location=self.get_location())
                finding = None
            if finding is not None and finding.verdict != claim.verdict:
                logger.warning(
                    f"claims ledger: {claim.id} is registered as {claim.verdict!r} but its check finds "
                    f"{finding.verdict!r}: {finding.evidence}",
                    location=self.get_location(),
                )
            findings[claim.id] = finding
        from kdmath.ledger import empirical

        results = empirical.default_results_dir()
        if results.is_dir():
            self.env.note_dependency(str(results))  # its mtime changes when a record is added or removed
        for path in sorted(results.glob("*.json")):
            self.env.note_dependency(str(path))
        try:
            outcomes = empirical.assess_all()
        except Exception as error:  # a malformed results file must fail the build, not vanish from the page
            logger.warning(f"claims ledger: reading the experiments' results raised {error!r}", location=self.get_location())
            outcomes = {}
        self.env.kdbook_ledger_outcomes = {
            key: {"experiment": o.experiment, "config": o.config, "status": o.status, "evidence": o.evidence} for key, o in outcomes.items()
        }
        self.env.kdbook_ledger_findings = {
            key: None if value is None else {"verdict": value.verdict, "evidence": value.evidence}
            for key, value in findings.items()
        }
        container = nodes.container(classes=["claims-ledger"])
        self.state.nested_parse(StringList(_ledger_source(findings, outcomes), source="kdmath.ledger"), self.content_offset, container)
        return [container]


def _write_json(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    from kdmath import ledger

    findings = getattr(app.env, "kdbook_ledger_findings", None) or {}
    outcomes = getattr(app.env, "kdbook_ledger_outcomes", None) or {}
    rows = ledger.records()
    for row in rows:
        found = findings.get(row["id"])
        row["found"] = None if found is None else found["verdict"]
        row["evidence"] = None if found is None else found["evidence"]
        row["experiment_outcome"] = outcomes.get(row["id"])
    target = Path(app.outdir) / "claims.json"
    handle, temporary = tempfile.mkstemp(dir=app.outdir, prefix=".claims-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump({"verdict_counts": ledger.verdict_counts(), "claims": rows}, stream, indent=2, ensure_ascii=False)
    os.replace(temporary, target)  # atomic: a reader never sees half a file


def setup(app):
    app.add_directive("claims-ledger", ClaimsLedger)
    app.connect("build-finished", _write_json)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 2}
