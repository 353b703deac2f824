"""The build stamp: which commit, when, and with which versions a page was built.

``build_stamp(srcdir)`` returns the stamp as a dict; the Sphinx extension (``setup``) puts a
one-line stamp into the footer of every page, and offers the whole stamp to the pages:

- the directive ``{build-stamp}`` renders it as a table (``:only: build`` or ``:only: versions``
  for half of it), as on the pages ``about`` and ``status``;
- the role ``{build-stamp}`commit```  (any key of ``stamp_fields``) renders one value inline;
- the MyST substitutions ``{{ build_commit }}``, ``{{ build_commit_full }}`` and
  ``{{ build_date }}`` stand for those roles, and ``{{ repository_link }}`` is a link to the
  repository of ``_config.yml`` (``repository.url``);
- the directive ``{cite-this-book}`` renders the book's BibTeX entry from ``CITATION.cff``, with
  the commit.

The stamp is computed once per build, when the configuration is read, and filled into the pages
when they are written, never stored in the doctrees: a page that Sphinx does not read again (its
source unchanged) still shows this build's stamp, and the substitutions' values never change, so
they never make Sphinx re-read every page. The footer's stamp changes the HTML theme options on
every build, so every page's HTML is written again (as it must be, to carry the new stamp); the
pages are not re-read or re-executed for it.

Other modules import ``build_stamp`` (the claims ledger page, for one): its name and the keys of
its result are stable.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole

logger = logging.getLogger(__name__)

__all__ = ["build_stamp", "stamp_fields", "footer_html", "read_citation", "citation_texts", "UNKNOWN", "DIRTY_MARK", "VERSION_PACKAGES"]

UNKNOWN = "unknown"
DIRTY_MARK = "+ uncommitted changes"

# (label shown, distribution name on PyPI); Python itself comes first.
VERSION_PACKAGES = (
    ("kdmath", "kdmath"),
    ("torch", "torch"),
    ("sympy", "sympy"),
    ("numpy", "numpy"),
    ("matplotlib", "matplotlib"),
    ("jupyter-book", "jupyter-book"),
    ("sphinx", "sphinx"),
)


def _git(srcdir: Path, *args: str) -> str | None:
    """The stripped output of ``git -C srcdir args``, or None when git fails or is missing."""
    try:
        result = subprocess.run(
            ["git", "-C", str(srcdir), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _version(distribution: str) -> str:
    # From the installed metadata, without importing the package (importing torch takes seconds).
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _build_time() -> _dt.datetime:
    # SOURCE_DATE_EPOCH (reproducible-builds.org) fixes the date, for builds that must be
    # byte-for-byte reproducible; otherwise it is now.
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.strip().isdigit():
        return _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
    return _dt.datetime.now(tz=_dt.timezone.utc)


def build_stamp(srcdir: str | os.PathLike | None = None) -> dict:
    """The stamp of a build from ``srcdir`` (default: the current directory).

    Keys (stable; other modules rely on them):

    ``commit``
        the full hash of ``HEAD`` (``git rev-parse HEAD``), or ``"unknown"`` when ``srcdir`` is
        not inside a git checkout (or git is missing);
    ``commit_short``
        the short hash (``git rev-parse --short HEAD``), or ``"unknown"``;
    ``dirty``
        True when tracked files differ from ``HEAD`` (``git status --porcelain
        --untracked-files=no`` is not empty): the build is not exactly the commit's;
        False for a clean checkout and outside one;
    ``commit_label``
        what a reader sees: ``"<short>"``, ``"<short> + uncommitted changes"``, or ``"unknown"``;
    ``date``
        the build's date and time in UTC, ISO 8601 to the second (``"2026-05-01T12:34:56Z"``);
        ``$SOURCE_DATE_EPOCH`` fixes it when set;
    ``date_display``
        the same, for reading (``"2026-05-01 12:34 UTC"``);
    ``versions``
        a dict, in this order: ``Python``, ``kdmath``, ``torch``, ``sympy``, ``numpy``,
        ``matplotlib``, ``jupyter-book``, ``sphinx``, each the installed version string
        (``"not installed"`` when it is missing).
    """
    srcdir = Path(srcdir if srcdir is not None else os.getcwd()).resolve()
    full = _git(srcdir, "rev-parse", "--verify", "HEAD") or UNKNOWN
    if full != UNKNOWN:
        short = _git(srcdir, "rev-parse", "--short", "HEAD") or full[:7]
        status = _git(srcdir, "status", "--porcelain", "--untracked-files=no")
        dirty = bool(status)
    else:
        short, dirty = UNKNOWN, False
    label = short if full == UNKNOWN or not dirty else f"{short} {DIRTY_MARK}"
    when = _build_time().replace(microsecond=0)
    versions = {"Python": platform.python_version()}
    versions.update((label_, _version(dist)) for label_, dist in VERSION_PACKAGES)
    return {
        "commit": full,
        "commit_short": short,
        "dirty": dirty,
        "commit_label": label,
        "date": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "date_display": when.strftime("%Y-%m-%d %H:%M UTC"),
        "versions": versions,
    }


def stamp_fields(stamp: dict) -> dict[str, str]:
    """Every value a page can show inline: the stamp's string keys, and ``version:<name>``."""
    fields = {key: str(value) for key, value in stamp.items() if key != "versions"}
    fields.update({f"version:{name}": value for name, value in stamp["versions"].items()})
    return fields


def _commit_url(stamp: dict, repository_url: str | None) -> str | None:
    if not repository_url or stamp["commit"] == UNKNOWN:
        return None
    return f"{repository_url.rstrip('/')}/commit/{stamp['commit']}"


def footer_html(stamp: dict, repository_url: str | None = None) -> str:
    """The one-line stamp of every page's footer (HTML)."""
    commit = html.escape(stamp["commit_short"])
    url = _commit_url(stamp, repository_url)
    if url:
        commit = f'<a href="{html.escape(url)}"><code>{commit}</code></a>'
    elif stamp["commit"] != UNKNOWN:
        commit = f"<code>{commit}</code>"
    dirty = f" {html.escape(DIRTY_MARK)}" if stamp["dirty"] else ""
    v = stamp["versions"]
    versions = ", ".join(f"{name} {html.escape(v[name])}" for name in ("Python", "torch", "kdmath"))
    return (
        f'<p class="kdbook-stamp" data-commit="{html.escape(stamp["commit"])}" '
        f'data-dirty="{str(stamp["dirty"]).lower()}" data-date="{html.escape(stamp["date"])}">'
        f"Built from commit {commit}{dirty} on {html.escape(stamp['date_display'])} "
        f'with {versions} (<a href="{{about}}">build details</a>).</p>'
    )


def read_citation(path: str | os.PathLike) -> dict | None:
    """``CITATION.cff`` as a dict, or None where it is missing or unreadable."""
    import yaml  # a dependency of Jupyter Book; only the pages need it

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    return data if isinstance(data, dict) else None


def _cff_authors(citation: dict) -> list[str]:
    names = []
    for author in citation.get("authors") or []:
        if "name" in author:  # an entity: one name, kept whole by BibTeX's braces
            names.append("{" + str(author["name"]) + "}")
        else:
            given, family = author.get("given-names", ""), author.get("family-names", "")
            names.append(f"{family}, {given}".strip(", "))
    return names


def citation_texts(citation: dict, stamp: dict, year: str) -> tuple[str, str]:
    """The book's citation from ``CITATION.cff`` and the stamp: (BibTeX, plain text)."""
    authors = _cff_authors(citation)
    title = str(citation.get("title", ""))
    version = str(citation.get("version", ""))
    url = str(citation.get("repository-code") or citation.get("url") or "")
    released = citation.get("date-released")
    year = str(released)[:4] if released else year
    commit = stamp["commit_short"]
    where = "" if commit == UNKNOWN else f", commit {commit}" + (f" {DIRTY_MARK}" if stamp["dirty"] else "")
    fields = [
        ("author", " and ".join(authors)),
        ("title", title),
        ("year", year),
        ("version", version),
        ("url", url),
        ("note", f"Executable textbook{where}"),
    ]
    width = max(len(name) for name, _ in fields)
    body = ",\n".join(f"  {name:<{width}} = {{{value}}}" for name, value in fields if value)
    bibtex = f"@misc{{kdbook,\n{body}\n}}"
    plain_authors = ", ".join(a.strip("{}") for a in authors)
    plain = f"{plain_authors} ({year}). {title} (version {version}{where}). {url}"
    return bibtex, plain


# --- Sphinx --------------------------------------------------------------------------------

_SUBSTITUTIONS = {
    "build_commit": "{build-stamp}`commit_label`",
    "build_commit_full": "{build-stamp}`commit`",
    "build_date": "{build-stamp}`date_display`",
}
_ABOUT_PLACEHOLDER = "{about}"


class stamp_value(nodes.Inline, nodes.TextElement):
    """One value of the stamp, filled in when the page is written."""


class stamp_table(nodes.General, nodes.Element):
    """The stamp as a table, built when the page is written."""


class stamp_citation(nodes.General, nodes.Element):
    """How to cite the book (from CITATION.cff and the stamp), built when the page is written."""


class BuildStampRole(SphinxRole):
    """``{build-stamp}`key```: one value of the stamp (a key of ``stamp_fields``), inline."""

    def run(self):
        key = self.text.strip()
        known = stamp_fields(self.env.app.kdbook_stamp)
        if key not in known:
            message = self.inliner.reporter.error(
                f"build-stamp: unknown key {key!r}; known: {', '.join(sorted(known))}", line=self.lineno
            )
            return [self.inliner.problematic(self.rawtext, self.rawtext, message)], [message]
        return [stamp_value(self.rawtext, "", key=key)], []


class BuildStampDirective(SphinxDirective):
    """``{build-stamp}``: the build stamp as a table; ``:only: build`` or ``:only: versions``."""

    has_content = False
    option_spec = {"only": lambda value: directives.choice(value, ("build", "versions"))}

    def run(self):
        return [stamp_table("", only=self.options.get("only", "all"))]


class CiteThisBookDirective(SphinxDirective):
    """``{cite-this-book}``: the book's BibTeX entry and a plain-text citation, from CITATION.cff."""

    has_content = False

    def run(self):
        return [stamp_citation("")]


def _table(rows: list[tuple[str, nodes.Node]], header: tuple[str, str]) -> nodes.table:
    table = nodes.table(classes=["kdbook-stamp-table"])
    group = nodes.tgroup(cols=2)
    table += group
    group += nodes.colspec(colwidth=1)
    group += nodes.colspec(colwidth=3)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for title in header:
        row += nodes.entry("", nodes.paragraph("", title))
    head += row
    body = nodes.tbody()
    group += body
    for label, value in rows:
        row = nodes.row()
        row += nodes.entry("", nodes.paragraph("", label))
        row += nodes.entry("", nodes.paragraph("", "", value))
        body += row
    return table


def _commit_node(stamp: dict, repository_url: str | None) -> nodes.Node:
    url = _commit_url(stamp, repository_url)
    text = nodes.literal("", stamp["commit"])
    if not url:
        return text
    return nodes.reference("", "", text, refuri=url)


def _fill_stamp(app, doctree, docname):
    stamp = app.kdbook_stamp
    fields = stamp_fields(stamp)
    for node in list(doctree.findall(stamp_value)):
        node.replace_self(nodes.Text(fields[node["key"]]))
    repository_url = app.config.html_theme_options.get("repository_url") or None
    for node in list(doctree.findall(stamp_table)):
        only = node["only"]
        tables = []
        if only in ("all", "build"):
            commit = _commit_node(stamp, repository_url)
            state = "yes: the site differs from the commit" if stamp["dirty"] else "no"
            if stamp["commit"] == UNKNOWN:
                state = "unknown (not built from a git checkout)"
            rows = [
                ("Commit", commit),
                ("Uncommitted changes", nodes.Text(state)),
                ("Built (UTC)", nodes.Text(stamp["date"])),
            ]
            tables.append(_table(rows, ("Build", "")))
        if only in ("all", "versions"):
            rows = [(name, nodes.literal("", version)) for name, version in stamp["versions"].items()]
            tables.append(_table(rows, ("Package", "Version")))
        node.replace_self(tables)
    for node in list(doctree.findall(stamp_citation)):
        citation = app.kdbook_citation
        if citation is None:
            logger.warning("cite-this-book: CITATION.cff is missing or unreadable", location=node)
            node.replace_self([])
            continue
        bibtex, plain = citation_texts(citation, stamp, _year(app.config.copyright, stamp))
        block = nodes.literal_block(bibtex, bibtex, language="bibtex", classes=["kdbook-citation"])
        node.replace_self([block, nodes.paragraph("", "Or, as text: ", nodes.emphasis("", plain))])


def _year(copyright: str, stamp: dict) -> str:
    text = str(copyright or "").strip()
    return text[:4] if text[:4].isdigit() else stamp["date"][:4]


def _config_inited(app, config):
    srcdir = Path(app.srcdir)
    app.kdbook_stamp = build_stamp(srcdir)
    app.kdbook_citation = read_citation(srcdir / "CITATION.cff")
    options = dict(config.html_theme_options or {})
    stamp_line = footer_html(app.kdbook_stamp, options.get("repository_url"))
    existing = options.get("extra_footer") or ""
    options["extra_footer"] = f"{existing}\n{stamp_line}" if existing else stamp_line
    config.html_theme_options = options
    # Constant values (roles), so the environment never goes stale because of them.
    substitutions = dict(config.myst_substitutions or {}) if hasattr(config, "myst_substitutions") else {}
    for key, value in _SUBSTITUTIONS.items():
        substitutions.setdefault(key, value)
    # The repository's address, from _config.yml (repository.url) only: pages never write it.
    repository_url = options.get("repository_url") or ""
    substitutions.setdefault("repository_link", f"<{repository_url}>" if repository_url else "(not configured)")
    config.myst_substitutions = substitutions


def _link_about(app, pagename, templatename, context, doctree):
    # The footer links to the page with the full stamp, relative to the page it is on.
    options = context.get("theme_extra_footer")
    if options and _ABOUT_PLACEHOLDER in options:
        target = "book/about"
        if target in app.env.found_docs:
            href = context["pathto"](target)
        else:
            href = "#"
        context["theme_extra_footer"] = options.replace(_ABOUT_PLACEHOLDER, html.escape(href))


def _visit_skip(self, node):
    raise nodes.SkipNode


def setup(app):
    app.add_node(stamp_value, html=(_visit_skip, None), latex=(_visit_skip, None), text=(_visit_skip, None))
    app.add_node(stamp_table, html=(_visit_skip, None), latex=(_visit_skip, None), text=(_visit_skip, None))
    app.add_role("build-stamp", BuildStampRole())
    app.add_directive("build-stamp", BuildStampDirective)
    app.add_node(stamp_citation, html=(_visit_skip, None), latex=(_visit_skip, None), text=(_visit_skip, None))
    app.add_directive("cite-this-book", CiteThisBookDirective)
    # After Jupyter Book has put its own theme options in place; before the builder reads them.
    app.connect("config-inited", _config_inited, priority=900)
    app.connect("doctree-resolved", _fill_stamp)
    app.connect("html-page-context", _link_about)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
