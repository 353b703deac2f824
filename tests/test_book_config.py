"""The book's configuration and notebooks agree: the TOC, the repository address, the install cell."""

from __future__ import annotations

import ast
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from .book_toc import toc_entries
from .colab_runtime import torch_pin

ROOT = Path(__file__).resolve().parents[1]


def _config():
    return yaml.safe_load((ROOT / "_config.yml").read_text())


def _notebooks():
    return sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_every_toc_entry_exists_and_every_notebook_is_in_the_toc():
    files = toc_entries()
    for entry in files:
        candidates = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists {entry}, which does not exist"
    listed = set(files)
    for nb in _notebooks():
        assert f"notebooks/{nb.stem}" in listed, f"{nb.name} is not in _toc.yml"
    assert len(_notebooks()) >= 4


def test_launch_buttons_and_build_settings():
    config = _config()
    assert config["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert config["launch_buttons"]["binderhub_url"]
    assert config["execute"]["execute_notebooks"] == "off"  # nbval executes them; see kdbook_runtimes.py
    assert config["execute"]["allow_errors"] is False
    sphinx = config["sphinx"]
    assert {"sphinx_proof", "sphinx_exercise"} <= set(sphinx["extra_extensions"])
    assert sphinx["config"]["nb_execution_raise_on_error"] is True
    assert not sphinx["config"]["mathjax_path"].startswith("http"), "MathJax must be served locally"


def test_notebooks_store_outputs_and_no_memory_addresses():
    for nb in _notebooks():
        cells = json.loads(nb.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]
        unexecuted = [c for c in code if c.get("execution_count") is None]
        assert not unexecuted, f"{nb.name}: {len(unexecuted)} code cells have no stored output"
        outputs = json.dumps([c.get("outputs", []) for c in code])
        assert "0x7f" not in outputs, f"{nb.name}: a stored output holds a memory address"


_GLUE_REFERENCE = re.compile(r"\{glue(?::\w+)?\}`([^`:]+)(?::([^`]*))?`")


def _glued_values() -> dict[str, str]:
    """Every value the notebooks glue, as stored: name -> its text/plain."""
    glued = {}
    for nb in _notebooks():
        for cell in json.loads(nb.read_text())["cells"]:
            for output in cell.get("outputs", []):
                scrapbook = output.get("metadata", {}).get("scrapbook")
                if scrapbook:
                    glued[scrapbook["name"]] = output["data"][scrapbook["mime_prefix"] + "text/plain"]
    return glued


def _glue_references() -> list[tuple[str, str, str]]:
    """(page, name, format) for every {glue:text}`name:format` in the book's prose."""
    found = []
    for page in [*_notebooks(), *sorted((ROOT / "book").glob("*.md"))]:
        if page.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(page.read_text())["cells"] if c["cell_type"] == "markdown")
        else:
            text = page.read_text()
        found += [(page.name, m.group(1), m.group(2) or "") for m in _GLUE_REFERENCE.finditer(text)]
    return found


def _shown_number(text: str, spec: str):
    """The number the prose shows for a glued value: ``format(value, spec)`` read back."""
    shown = format(float(ast.literal_eval(text)), spec).strip().replace(",", "")
    return Decimal(shown[:-1]) / 100 if spec.endswith("%") else Decimal(shown)


def test_the_prose_shows_exactly_the_digits_that_the_code_glues():
    """A glued float is rounded in code (kdmath.output.glue) to the digits its prose shows, no more."""
    glued = _glued_values()
    references = _glue_references()
    assert len(references) > 200
    for page, name, spec in references:
        assert name in glued, f"{page}: {name} is not glued by any notebook"
        try:
            value = ast.literal_eval(glued[name])
        except ValueError:  # an object's repr, such as Fraction(3, 7)
            value = glued[name]
        if isinstance(value, float):
            assert spec, f"{page}: {name} = {value!r} is a float shown without a format"
        if spec and spec[-1] in "efg%":
            assert _shown_number(glued[name], spec) == Decimal(repr(float(value))), (
                f"{page}: {name} is glued as {glued[name]} but shown as {format(float(value), spec)}: "
                f"glue it rounded to {spec!r}"
            )


def _pins(path: Path) -> dict[str, str]:
    """name -> version for every ``name==version`` line of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            assert version, f"{path.name}: {line!r} is not pinned with =="
            pins[name.strip().lower()] = version.strip()
    return pins


def test_binder_pins_the_runtime_dependencies_at_the_tested_versions():
    tomllib = pytest.importorskip("tomllib")
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {Requirement(r).name.lower(): Requirement(r).specifier for r in project["dependencies"]}
    binder = _pins(ROOT / "binder" / "requirements.txt")
    assert set(binder) == set(runtime), "binder/requirements.txt pins exactly kdmath's runtime dependencies"
    locked = _pins(ROOT / "requirements" / "lock.txt")
    torch_version = torch_pin().partition("==")[2]
    for name, version in binder.items():
        assert version == (torch_version if name == "torch" else locked[name]), f"binder pins {name}=={version}"
        assert version in runtime[name], f"{name}=={version} does not satisfy pyproject's {runtime[name]}"
    python = re.fullmatch(r"python-(\d+\.\d+)\s*", (ROOT / "binder" / "runtime.txt").read_text()).group(1)
    assert python + ".0" in SpecifierSet(project["requires-python"])
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "binder/postBuild must be executable"
    assert re.search(r"^python -m pip install --no-deps .*\.$", post_build.read_text(), re.M), "postBuild installs this checkout"
