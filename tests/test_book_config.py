"""The book's configuration and notebooks agree: the TOC, the repository address, the install cell."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from .book_toc import toc_entries

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


def test_first_code_cell_installs_kdmath_from_the_configured_repository():
    url = _config()["repository"]["url"]
    assert url.startswith("https://")
    for nb in _notebooks():
        cells = json.loads(nb.read_text())["cells"]
        first_code = next(c for c in cells if c["cell_type"] == "code")
        source = "".join(first_code["source"])
        assert f"git+{url}" in source, f"{nb.name}: the install cell does not use {url}"
        assert "import kdmath" in source and "except ImportError" in source, f"{nb.name}: install is not guarded"


def test_launch_buttons_and_build_settings():
    config = _config()
    assert config["launch_buttons"]["colab_url"].startswith("https://colab.research.google.com")
    assert config["launch_buttons"]["binderhub_url"]
    assert config["execute"]["execute_notebooks"] == "cache"
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
