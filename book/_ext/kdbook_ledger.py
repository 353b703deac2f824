"""The claims ledger page and the sources page, generated from ``kdmath.ledger`` at build time.

``{claims-ledger}`` runs every registered check while the page is read, and writes the page's content
from the registry: the build the checks ran in (commit and date), the counts per verdict, then one
section per source note (its title and summary from ``kdmath.ledger.SOURCES``) with one card per claim:
the claim as the note states it, its verdict, the correct statement or the reason, the check (linked
to its code in the repository) with what it computed, and a link to the section of the book that
treats it. A check whose finding no longer matches the registered verdict is reported as a warning,
which fails the build (``-W``); the test suite checks the same. The page is re-read whenever a file of
``kdmath`` changes or the commit changes, so it cannot go stale, and ``claims.json`` (the registry with
this build's findings) is written next to the HTML, readable by any user (mode 0644).

``{ledger-sources}`` lists the source notes with their titles, summaries and verdict counts, each with
a link to its section of the ledger (label ``ledger-source-<id>``).

``{source-claim} ID [ID ...]`` (with ``:title:``) is how a chapter judges a source note's claims: an
admonition titled with the registry's verdict ("Corrected: <title>"), holding the chapter's own text
and ending with links to the claims' cards. The chapter writes the argument; the verdict it shows
can only be the registry's. Several ids must share one verdict.

An empirical claim that an MNIST experiment tests shows its outcome on the longest committed run
(``kdmath.ledger.empirical``); the page is re-read when a file of ``results/`` changes.
"""

from __future__ import annotations

import datetime
import inspect
import json
import os
import subprocess
import tempfile
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
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

# What the correct statement (for a corrected or false claim) and the note are called on a card.
CORRECTION_LABEL = {"corrected": "Correct statement", "false": "What holds instead"}
NOTE_LABEL = {
    "true but vacuous": "Why it shows nothing",
    "empirical": "How it is tested",
    "unverifiable": "Why it cannot be checked",
}


def _link(where: str) -> str:
    kind, _, target = where.partition(":")
    if kind == "ref":
        # Several chapters have a section of the same title: say which chapter it is in.
        chapter = target.split("-")[0]
        return f"{{ref}}`{target}`" + (f" (chapter {int(chapter[2:])})" if chapter[:2] == "ch" and chapter[2:].isdigit() else "")
    if kind == "prf":
        return f"{{prf:ref}}`{target}`"
    if kind == "eq":
        return f"notation, eq. {{eq}}`{target}`"
    return f"{{doc}}`/{target}`"


def _badge(verdict: str) -> str:
    return f"{{bdg-{VERDICT_STYLE[verdict]}}}`{verdict}`"


def source_label(source_id: str) -> str:
    """The label of a source note's section on the ledger page (``{ref}`ledger-source-003```)."""
    return f"ledger-source-{source_id}"


# ------------------------------------------------------------------ the repository and the build


def _repository(config, srcdir) -> tuple[str | None, str, Path]:
    """The repository's address and branch, as _config.yml's ``repository`` gives them, and its root here."""
    options = dict(getattr(config, "html_theme_options", None) or {})
    url, branch, book = options.get("repository_url"), options.get("repository_branch"), options.get("path_to_docs")
    if url is None:  # not built by jupyter-book: read _config.yml itself
        import yaml

        for folder in (Path(srcdir), *Path(srcdir).parents):
            if (folder / "_config.yml").is_file():
                repository = (yaml.safe_load((folder / "_config.yml").read_text()) or {}).get("repository") or {}
                url, branch, book = repository.get("url"), repository.get("branch"), repository.get("path_to_book")
                break
    root = Path(srcdir).resolve()
    for _ in Path(book or "").parts:
        root = root.parent
    return (url.rstrip("/") if url else None), (branch or "main"), root


def code_url(function, repository_url: str | None, branch: str, root: Path) -> str | None:
    """``<url>/blob/<branch>/<path>#L<line>`` of ``function``'s definition; ``None`` outside the repository."""
    if not repository_url:
        return None
    try:
        path = Path(inspect.getsourcefile(function)).resolve().relative_to(root)
        _, line = inspect.getsourcelines(function)
    except (TypeError, OSError, ValueError):
        return None
    return f"{repository_url}/blob/{branch}/{path.as_posix()}#L{line}"


def _git(srcdir, *args) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=srcdir, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def build_stamp(srcdir) -> dict:
    """The build: ``kdbook_stamp.build_stamp`` where that extension exists, else the commit and today's date.

    Either way the result has ``commit_label`` (the short commit, "+ uncommitted changes" when the
    working tree differs from it, "unknown" outside a git checkout) and ``date_display``.
    """
    try:
        from kdbook_stamp import build_stamp as stamp  # book/_ext is on sys.path during the build
    except ImportError:
        stamp = None
    if stamp is not None:
        try:
            found = dict(stamp(srcdir))
            found.setdefault("commit_label", found.get("commit_short") or found.get("commit") or "unknown")
            found.setdefault("date_display", found.get("date") or "an unknown date")
            return found
        except Exception as error:  # the footer's stamp failing must not hide which build this is
            logger.warning(f"claims ledger: kdbook_stamp.build_stamp raised {error!r}; using git directly")
    commit = _git(srcdir, "rev-parse", "--short", "HEAD") or "unknown"
    label = commit
    if commit != "unknown" and _git(srcdir, "status", "--porcelain", "--untracked-files=no"):
        label += " + uncommitted changes"
    now = datetime.datetime.now(datetime.timezone.utc)
    return {"commit": commit, "commit_label": label, "date": now.isoformat(timespec="seconds"),
            "date_display": now.strftime("%Y-%m-%d %H:%M UTC")}


# ------------------------------------------------------------------ the directives


class _LedgerDirective(SphinxDirective):
    has_content = False

    def _note_registry(self):
        from kdmath import ledger

        package = Path(ledger.__file__).resolve().parent.parent
        for path in [Path(__file__).resolve(), *sorted(package.rglob("*.py"))]:
            self.env.note_dependency(str(path))

    def _parse(self, text: str) -> list[nodes.Node]:
        """MyST text (math, roles) parsed into nodes; one paragraph comes back as its inline content."""
        holder = nodes.container()
        self.state.nested_parse(StringList(text.splitlines() or [""], source="kdmath.ledger"), self.content_offset, holder)
        if len(holder.children) == 1 and isinstance(holder[0], nodes.paragraph):
            return list(holder[0].children)
        return list(holder.children)

    def _paragraph(self, text: str, *classes: str) -> nodes.paragraph:
        return nodes.paragraph("", "", *self._parse(text), classes=list(classes))

    def _section(self, title: str, label: str) -> nodes.section:
        """A section the page's table of contents shows, with a label other pages can ``{ref}``."""
        section = nodes.section(ids=[label], names=[label], classes=["ledger-source"])
        section += nodes.title(title, title)
        self.state.document.note_explicit_target(section)
        return section


def _field(label: str, *content: nodes.Node) -> nodes.definition_list_item:
    return nodes.definition_list_item("", nodes.term(label, label), nodes.definition("", *content))


class ClaimsLedger(_LedgerDirective):
    """``{claims-ledger}``: the whole ledger, from the registry, with every check run."""

    def run(self):
        from kdmath import ledger
        from kdmath.ledger import empirical

        self._note_registry()
        self.env.kdbook_ledger_docname = self.env.docname
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
        stamp = build_stamp(self.env.srcdir)
        self.env.kdbook_ledger_stamp = stamp
        repository_url, branch, root = _repository(self.config, self.env.srcdir)

        built = nodes.paragraph(classes=["ledger-build"])
        built += nodes.Text("The checks below ran while this page was built, from commit ")
        built += nodes.literal(stamp["commit_label"], stamp["commit_label"])
        built += nodes.Text(f", on {stamp['date_display']}. The registry holds ")
        built += nodes.strong(f"{len(ledger.CLAIMS)} claims", f"{len(ledger.CLAIMS)} claims")
        built += nodes.Text(
            f" from the {len(ledger.SOURCES)} source notes, and {sum(f is not None for f in findings.values())} of them "
            "have a check that computes its verdict."
        )
        result = [built, *self._counts_table()]
        for source in ledger.SOURCES.values():
            claims = [claim for claim in ledger.CLAIMS if claim.source == source.id]
            section = self._section(f"Note {source.id}: {source.title}", source_label(source.id))
            section += nodes.paragraph(source.summary, source.summary, classes=["ledger-source-summary"])
            counts = ", ".join(f"{n} {verdict}" for verdict, n in ledger.verdict_counts(source.id).items() if n)
            section += nodes.paragraph("", f"{len(claims)} claims: {counts}.", classes=["ledger-source-counts"])
            for claim in claims:
                section += self._card(claim, findings[claim.id], outcomes.get(claim.id), repository_url, branch, root)
            result.append(section)
        return result

    def _counts_table(self) -> list[nodes.Node]:
        from kdmath import ledger

        lines = [":::{list-table} Claims per verdict", ":header-rows: 1", ":name: ledger-counts", ":class: ledger-counts", "",
                 "* - Verdict", "  - Claims"]
        for verdict, count in ledger.verdict_counts().items():
            lines += [f"* - {_badge(verdict)}", f"  - {count}"]
        lines += [":::"]
        holder = nodes.container()
        self.state.nested_parse(StringList(lines, source="kdmath.ledger"), self.content_offset, holder)
        return list(holder.children)

    def _card(self, claim, finding, outcome, repository_url, branch, root) -> nodes.container:
        slug = claim.verdict.replace(" ", "-")
        card = nodes.container(classes=["ledger-claim", f"ledger-{slug}"], ids=[nodes.make_id(f"claim-{claim.id}")])
        head = nodes.paragraph(classes=["ledger-claim-head"])
        where = nodes.inline(classes=["ledger-claim-where"])
        where += nodes.strong(claim.id, claim.id, classes=["ledger-claim-id"])
        where += nodes.Text(" · ")
        where += nodes.inline("", "", *self._parse(claim.place), classes=["ledger-place"])
        head += where
        head += nodes.Text(" ")
        head += nodes.inline("", "", *self._parse(_badge(claim.verdict)), classes=["ledger-verdict"])
        card += head
        card += self._paragraph(claim.statement.replace("\n", " "), "ledger-statement")

        fields = nodes.definition_list(classes=["ledger-fields"])
        if claim.correction:
            fields += _field(CORRECTION_LABEL.get(claim.verdict, "Correction"),
                             self._paragraph(claim.correction.replace("\n", " "), "ledger-correction"))
        if claim.note:
            fields += _field(NOTE_LABEL.get(claim.verdict, "Note"), self._paragraph(claim.note.replace("\n", " "), "ledger-note"))
        if claim.verdict == "empirical":
            from kdmath.ledger.stated_tests import stated_test

            test = stated_test(claim.id)
            stated = [self._paragraph(f"**Hypothesis.** {test.hypothesis}", "ledger-hypothesis"),
                      self._paragraph(f"**Effect that matters:** {test.effect}. **Arms:** {test.arms}.", "ledger-arms")]
            if test.why_not_run:
                stated.append(self._paragraph(f"**Not run:** it needs {test.why_not_run}.", "ledger-not-run"))
            fields += _field("Stated test", *stated)
        if outcome is not None:
            run = f"its {outcome.config} configuration" if outcome.config else "no run committed yet"
            line = nodes.paragraph(classes=["ledger-outcome"])
            line += nodes.Text("Experiment ")
            line += nodes.literal(outcome.experiment, outcome.experiment)
            line += nodes.Text(f", {run}: ")
            line += nodes.strong(outcome.status, outcome.status)
            line += nodes.inline("", f"; {outcome.evidence}.", classes=["ledger-evidence"])
            fields += _field("Outcome", line)
        if claim.check is not None:
            name = claim.check_name
            url = code_url(claim.check, repository_url, branch, root)
            code = nodes.literal(name, name)
            check = nodes.paragraph(classes=["ledger-check"])
            check += nodes.reference("", "", code, refuri=url, classes=["ledger-check-link"]) if url else code
            computed = [check]
            if finding is not None:
                computed.append(nodes.paragraph("", "", nodes.inline("", f"Computed: {finding.evidence}.", classes=["ledger-evidence"])))
            fields += _field("Check", *computed)
        elif outcome is None:
            reason = "only an experiment can decide it" if claim.verdict == "empirical" else "code cannot decide it"
            fields += _field("Check", nodes.paragraph("", f"None: {reason}.", classes=["ledger-check"]))
        fields += _field("Treated in", self._paragraph(_link(claim.where), "ledger-where"))
        card += fields
        return card


class LedgerSources(_LedgerDirective):
    """``{ledger-sources}``: the source notes, each with its title, summary, verdict counts and ledger section."""

    def run(self):
        from kdmath import ledger

        self._note_registry()
        result = []
        for source in ledger.SOURCES.values():
            claims = [claim for claim in ledger.CLAIMS if claim.source == source.id]
            section = self._section(f"Note {source.id}: {source.title}", f"source-note-{source.id}")
            section += nodes.paragraph(source.summary, source.summary, classes=["ledger-source-summary"])
            badges = ", ".join(f"{n} {_badge(verdict)}" for verdict, n in ledger.verdict_counts(source.id).items() if n)
            section += self._paragraph(f"**{len(claims)} claims**: {badges}.", "ledger-source-counts")
            section += self._paragraph(f"Each claim, with its verdict and its check: {{ref}}`on the claims ledger "
                                       f"<{source_label(source.id)}>`.", "ledger-source-link")
            result.append(section)
        return result


# ------------------------------------------------------------------ build events


def _outdated(app, env, added, changed, removed):
    """Re-read the ledger when the commit changed: its stamp names the build its checks ran in."""
    docname = getattr(env, "kdbook_ledger_docname", None)
    stamp = getattr(env, "kdbook_ledger_stamp", None)
    if docname and docname in env.found_docs and stamp and stamp.get("commit_label") != build_stamp(app.srcdir).get("commit_label"):
        return [docname]
    return []


def write_json(outdir, payload) -> Path:
    """Write ``claims.json`` into ``outdir`` atomically, readable by all (0644), as a web server needs."""
    target = Path(outdir) / "claims.json"
    handle, temporary = tempfile.mkstemp(dir=outdir, prefix=".claims-", suffix=".json")
    try:
        os.fchmod(handle, 0o644)  # mkstemp creates 0600: a server running as another user could not read it
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2, ensure_ascii=False)
        os.replace(temporary, target)  # atomic: a reader never sees half a file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


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
    payload = {"build": getattr(app.env, "kdbook_ledger_stamp", None), "verdict_counts": ledger.verdict_counts(), "claims": rows}
    write_json(app.outdir, payload)


# The admonition class a verdict's box takes: a verified claim reads as a note, any other as a warning.
BOX_CLASS = {"verified": "note", "empirical": "note"}


class SourceClaim(SphinxDirective):
    """``{source-claim} ID [ID ...]``: a chapter's box on source claims, titled with the registry's verdict."""

    required_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = {"title": directives.unchanged_required}

    def run(self) -> list[nodes.Node]:
        from kdmath import ledger

        package = Path(ledger.__file__).resolve().parent
        for path in sorted(package.rglob("*.py")):
            self.env.note_dependency(str(path))
        ids = self.arguments[0].split()
        registry = ledger.by_id()
        unknown = [claim_id for claim_id in ids if claim_id not in registry]
        if unknown:
            raise self.error(f"source-claim: {unknown} are not registered claims")
        verdicts = sorted({registry[claim_id].verdict for claim_id in ids})
        if len(verdicts) != 1:
            raise self.error(f"source-claim: {ids} have different verdicts {verdicts}; give each verdict its own box")
        if "title" not in self.options:
            raise self.error("source-claim: the :title: option (the topic, without a verdict) is required")
        verdict = verdicts[0]
        text = f"{verdict[0].upper()}{verdict[1:]}: {self.options['title']}"
        inline, messages = self.state.inline_text(text, self.lineno)
        slug = verdict.replace(" ", "-")
        box = nodes.admonition(classes=[BOX_CLASS.get(verdict, "warning"), "source-claim", f"source-claim-{slug}"])
        box += nodes.title(text, "", *inline)
        box += messages
        self.state.nested_parse(self.content, self.content_offset, box)
        footer = nodes.paragraph(classes=["source-claim-ledger"])
        footer += nodes.Text("In the claims ledger: ")
        builder = self.env.app.builder
        for rank, claim_id in enumerate(ids):
            if rank:
                footer += nodes.Text(", ")
            try:
                page = builder.get_relative_uri(self.env.docname, "book/claims")
            except Exception:  # builders without pages (linkcheck, dummy) get no link
                page = None
            code = nodes.literal(claim_id, claim_id)
            footer += nodes.reference("", "", code, refuri=f"{page}#claim-{claim_id}") if page else code
        footer += nodes.Text(".")
        box += footer
        return [box]


class LedgerProcedure(_LedgerDirective):
    """``{ledger-procedure}``: the questions that assign a verdict, in order (``kdmath.ledger._finding.DECISION_PROCEDURE``)."""

    def run(self):
        from kdmath.ledger._finding import DECISION_PROCEDURE

        self._note_registry()
        items = [f"{rank}. {_badge(verdict)} {question}" for rank, (verdict, question) in enumerate(DECISION_PROCEDURE, start=1)]
        holder = nodes.container(classes=["ledger-procedure"])
        self.state.nested_parse(StringList(items, source="kdmath.ledger"), self.content_offset, holder)
        return list(holder.children)


def setup(app):
    app.add_directive("claims-ledger", ClaimsLedger)
    app.add_directive("ledger-sources", LedgerSources)
    app.add_directive("source-claim", SourceClaim)
    app.add_directive("ledger-procedure", LedgerProcedure)
    app.connect("env-get-outdated", _outdated)
    app.connect("build-finished", _write_json)
    return {"version": "1.1", "parallel_read_safe": True, "parallel_write_safe": True, "env_version": 3}
