"""The front and back matter: the build stamp, the licence, the citation file, the publishing workflow.

- ``book/_ext/kdbook_stamp.py``: ``build_stamp`` names the real ``HEAD`` in a git checkout and
  ``"unknown"`` outside one; every page of the built site carries the stamp in its footer;
- ``LICENSE``: present, with the licences that ``pyproject.toml`` and ``CITATION.cff`` name;
- ``CITATION.cff``: valid YAML with CFF 1.2.0's required keys, and the repository address,
  title, version and licence of ``_config.yml``, ``pyproject.toml`` and ``LICENSE``;
- ``.github/workflows/book.yml``: runs only the README's commands, writes no repository address,
  and deploys only after the tests pass, from main.

The site is read from ``$KDBOOK_SITE`` (default ``_build/html``); its tests skip when it is not
built.
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from .built_site import ROOT, SITE

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import kdbook_stamp  # noqa: E402

# A run step may also be one of these: printing or checking a version, nothing that sets the
# book up or builds it (that is the Makefile's job).
TRIVIAL_SETUP = re.compile(r"^(echo\b.*|(python3?|node|npm|git|make) --version)$")


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _pyproject() -> dict:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _git_head(cwd: Path) -> str:
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def _in_git_checkout(path: Path) -> bool:
    result = subprocess.run(["git", "rev-parse", "--is-inside-work-tree"], cwd=path, capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == "true"


# --------------------------------------------------------------------------- the build stamp


@pytest.mark.skipif(not _in_git_checkout(ROOT), reason="the repository is not a git checkout here")
def test_stamp_names_the_real_head():
    before = _git_head(ROOT)
    stamp = kdbook_stamp.build_stamp(ROOT)
    after = _git_head(ROOT)  # another commit may land meanwhile: the stamp must be one of the two
    assert stamp["commit"] in {before, after}
    assert re.fullmatch(r"[0-9a-f]{40}", stamp["commit"])
    assert stamp["commit"].startswith(stamp["commit_short"]) and len(stamp["commit_short"]) >= 7
    assert isinstance(stamp["dirty"], bool)
    expected_label = stamp["commit_short"] + (f" {kdbook_stamp.DIRTY_MARK}" if stamp["dirty"] else "")
    assert stamp["commit_label"] == expected_label


def test_stamp_outside_a_checkout_is_unknown(tmp_path, monkeypatch):
    # Stop git's search for a repository at tmp_path, wherever the temporary directory lies.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for variable in ("GIT_DIR", "GIT_WORK_TREE"):
        monkeypatch.delenv(variable, raising=False)
    stamp = kdbook_stamp.build_stamp(tmp_path)
    assert stamp["commit"] == stamp["commit_short"] == stamp["commit_label"] == "unknown"
    assert stamp["dirty"] is False


def test_stamp_keys_date_and_versions(monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    stamp = kdbook_stamp.build_stamp(ROOT)
    assert set(stamp) == {"commit", "commit_short", "dirty", "commit_label", "date", "date_display", "versions"}
    when = datetime.datetime.strptime(stamp["date"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - when).total_seconds()) < 300
    assert stamp["date_display"] == when.strftime("%Y-%m-%d %H:%M UTC")
    assert list(stamp["versions"]) == ["Python", "kdmath", "torch", "sympy", "numpy", "matplotlib", "jupyter-book", "sphinx"]
    assert stamp["versions"]["Python"] == ".".join(map(str, sys.version_info[:3]))
    assert stamp["versions"]["kdmath"] == _pyproject()["project"]["version"]
    import numpy

    assert stamp["versions"]["numpy"] == numpy.__version__


def test_stamp_date_follows_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    stamp = kdbook_stamp.build_stamp(ROOT)
    assert stamp["date"] == "2023-11-14T22:13:20Z"


def test_footer_line_links_the_commit_only_when_known():
    stamp = kdbook_stamp.build_stamp(ROOT)
    known = dict(stamp, commit="a" * 40, commit_short="aaaaaaa", dirty=True)
    line = kdbook_stamp.footer_html(known, "https://example.org/owner/repo")
    assert 'href="https://example.org/owner/repo/commit/' + "a" * 40 + '"' in line
    assert "aaaaaaa</code></a> + uncommitted changes" in line
    unknown = dict(stamp, commit="unknown", commit_short="unknown", dirty=False)
    line = kdbook_stamp.footer_html(unknown, "https://example.org/owner/repo")
    assert "/commit/" not in line and "Built from commit unknown on" in line


# --------------------------------------------------------------------------- the built site


class _Stamps(HTMLParser):
    """The ``kdbook-stamp`` paragraphs of a page, and whether it is only a redirect."""

    def __init__(self):
        super().__init__()
        self.stamps: list[dict] = []
        self.redirect = False
        self._in_stamp = False
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.redirect = True
        if tag == "p" and "kdbook-stamp" in (attrs.get("class") or "").split():
            self.stamps.append(attrs)
            self._in_stamp = True

    def handle_endtag(self, tag):
        if tag == "p":
            self._in_stamp = False

    def handle_data(self, data):
        if self._in_stamp:
            self.text += data


def _site_pages() -> list[Path]:
    return sorted(p for p in SITE.rglob("*.html") if "_static" not in p.relative_to(SITE).parts
                  and "reports" not in p.relative_to(SITE).parts)


site_built = pytest.mark.skipif(not (SITE / "index.html").exists(), reason=f"the site is not built in {SITE}: run `make book`")


@site_built
def test_every_page_footer_carries_the_commit():
    commits, checked = set(), 0
    for page in _site_pages():
        parser = _Stamps()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.redirect:  # index.html only sends the reader on to the first page
            continue
        assert len(parser.stamps) == 1, f"{page.relative_to(SITE)}: {len(parser.stamps)} build stamps in the footer"
        commit = parser.stamps[0]["data-commit"]
        assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}", commit), commit
        shown = commit[:7] if commit != "unknown" else "unknown"
        assert f"Built from commit {shown}" in " ".join(parser.text.split()), parser.text
        commits.add(commit)
        checked += 1
    assert checked >= 10, f"only {checked} pages found in {SITE}"
    assert len(commits) == 1, f"the pages name different commits: {commits}"
    commit = commits.pop()
    if SITE == ROOT / "_build" / "html" and _in_git_checkout(ROOT):
        assert commit != "unknown", "the site was built from this git checkout, yet names no commit"
        exists = subprocess.run(["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=ROOT, capture_output=True)
        assert exists.returncode == 0, f"the footer names {commit}, which is not a commit of this repository"
    about = (SITE / "book" / "about.html").read_text(encoding="utf-8")
    assert commit in about, "the page about.html does not show the full commit in its stamp table"


@site_built
def test_about_and_status_pages_render_their_directives():
    about = (SITE / "book" / "about.html").read_text(encoding="utf-8")
    text = re.sub(r"<[^>]+>", "", about)  # the BibTeX block is highlighted, token by token
    assert "kdbook-citation" in about and "@misc{kdbook," in text
    assert f"url     = {{{_config()['repository']['url']}}}" in text
    status = (SITE / "book" / "status.html").read_text(encoding="utf-8")
    for header in ("Chapter", "Seconds", "Threads", "Machine", "Stored"):  # {chapter-run-times}
        assert f"<p>{header}</p>" in status, header
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        record = json.loads(notebook.read_text(encoding="utf-8"))["metadata"]["kdbook"]["execution"]
        assert f"<p>{record['seconds']:.0f}</p>" in status and f"<p>{record['date']}</p>" in status, notebook.name
    for name in ("Python", "torch", "kdmath", "sphinx"):
        assert f"<p>{name}</p>" in status, name


@site_built
def test_bibliography_links_every_identifier():
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    page = (SITE / "book" / "bibliography.html").read_text(encoding="utf-8")
    for doi in re.findall(r"(?m)^\s*doi\s*=\s*\{([^}]+)\}", bib):
        assert f'href="https://doi.org/{doi}"' in page, doi
    for eprint in re.findall(r"(?m)^\s*eprint\s*=\s*\{([^}]+)\}", bib):
        assert f'href="https://arxiv.org/abs/{eprint}"' in page, eprint


# --------------------------------------------------------------------------- licence and citation


def test_license_names_the_code_and_text_licences():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "MIT License" in text and "Permission is hereby granted, free of charge" in text
    assert "CC BY 4.0" in text and "creativecommons.org/licenses/by/4.0" in text
    assert _pyproject()["project"]["license"] == {"text": "MIT"}


# SPDX identifier -> how LICENSE names it.
SPDX_IN_LICENSE = {"MIT": "MIT License", "CC-BY-4.0": "CC BY 4.0"}


def test_citation_file_is_valid_and_agrees_with_the_project():
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert isinstance(cff, dict)
    for key in ("cff-version", "message", "title", "authors"):  # CFF 1.2.0's required keys
        assert cff.get(key), key
    assert str(cff["cff-version"]) == "1.2.0"
    assert isinstance(cff["authors"], list) and cff["authors"]
    assert all(isinstance(a, dict) and (a.get("name") or a.get("family-names")) for a in cff["authors"])
    assert cff["authors"] == [{"name": "The kdbook authors"}] and _config()["author"] == "The kdbook authors"

    url = _config()["repository"]["url"]
    assert cff["repository-code"] == url and cff["url"] == url
    assert cff["title"] == _config()["title"]
    assert str(cff["version"]) == _pyproject()["project"]["version"] == "0.1.0"

    licences = cff["license"] if isinstance(cff["license"], list) else [cff["license"]]
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    for spdx in licences:
        assert spdx in SPDX_IN_LICENSE and SPDX_IN_LICENSE[spdx] in license_text, spdx
    assert _pyproject()["project"]["license"]["text"] in licences


# --------------------------------------------------------------------------- the publishing workflow


def readme_commands() -> set[str]:
    """Every command of the README's ``bash`` blocks, without its trailing comment."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = set()
    for block in re.findall(r"```bash\n(.*?)```", readme, flags=re.S):
        for line in block.splitlines():
            command = re.sub(r"\s+#.*$", "", line).strip()
            if command and not command.startswith("#"):
                commands.add(" ".join(command.split()))
    return commands


def _workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def test_readme_commands_are_found():
    assert {"make book", "make test"} <= readme_commands()


def test_workflow_runs_only_the_readme_commands():
    allowed = readme_commands()
    runs = []
    for name, job in _workflow()["jobs"].items():
        for step in job.get("steps", []):
            if "run" not in step:
                assert "uses" in step, f"{name}: a step that neither runs nor uses: {step}"
                continue
            for line in step["run"].splitlines():
                command = " ".join(re.sub(r"\s+#.*$", "", line).split())
                if not command or command.startswith("#"):
                    continue
                assert command in allowed or TRIVIAL_SETUP.match(command), f"{name}: `{command}` is not a README command"
                runs.append(command)
    assert "make test" in runs  # the README's test command, which builds the site first (make book)


def test_workflow_hard_codes_no_repository_address():
    text = WORKFLOW.read_text(encoding="utf-8")
    url = _config()["repository"]["url"].rstrip("/")
    owner_repo = "/".join(url.split("/")[-2:])
    assert url not in text and owner_repo not in text
    assert not re.search(r"https?://(www\.)?github\.com/", text), "a GitHub address is written into the workflow"
    assert not re.search(r"https?://[\w.-]+\.github\.io", text), "a Pages address is written into the workflow"


def test_workflow_deploys_main_after_the_tests():
    data = _workflow()
    assert set(data["on"]) >= {"push", "pull_request"}
    assert data["on"]["push"]["branches"] == ["main"]
    jobs = data["jobs"]
    test, deploy = jobs["test"], jobs["deploy"]
    needs = deploy["needs"] if isinstance(deploy["needs"], list) else [deploy["needs"]]
    assert "test" in needs
    assert "refs/heads/main" in deploy["if"] and "push" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert "concurrency" in deploy and "concurrency" in data
    uses = [step.get("uses", "") for step in deploy["steps"]]
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    upload = [s for s in test["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and upload[0]["with"]["path"] == "_build/html"
    assert "refs/heads/main" in upload[0]["if"]
    setup = {s.get("uses", "").split("@")[0]: s.get("with", {}) for s in test["steps"]}
    assert str(setup["actions/setup-python"]["python-version"]) == "3.11"
    assert "actions/setup-node" in setup
    assert test["runs-on"] == "ubuntu-latest"


def test_workflow_installs_the_cpu_torch_of_the_makefile_pin():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"(?m)^TORCH_PIN := torch==\S+$", makefile)
    env = _workflow()["jobs"]["test"]["env"]
    assert env["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"


def test_workflow_sets_only_data_variables_that_kdmath_reads():
    # Whatever KDBOOK_* the workflow sets must be a variable the code reads (no invented settings).
    env = {}
    for job in _workflow()["jobs"].values():
        env.update(job.get("env", {}))
        for step in job.get("steps", []):
            env.update(step.get("env", {}))
    known = set(re.findall(r"KDBOOK_[A-Z_]+", (ROOT / "kdmath" / "data.py").read_text()))
    for path in (ROOT / "tests").glob("*.py"):
        known |= set(re.findall(r"KDBOOK_[A-Z_]+", path.read_text()))
    for name in env:
        if name.startswith("KDBOOK_"):
            assert name in known, name
    assert env.get("KDBOOK_SKIP_COLAB") is None, "CI runs every test (make test never skips the Colab simulation)"
