"""Every chapter runs on a fresh Colab runtime, simulated (see ``tests/colab_runtime.py``).

The chapters run two at a time, each kernel on one thread (the second numeric path), in one
shared environment created once per run; a run of all of them takes a few minutes on two cores.
``KDBOOK_SKIP_COLAB=1`` skips them (for a quick local run; ``make test`` never sets it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from . import colab_runtime
from .colab_runtime import ROOT, SHARED_MNIST, SHARED_SHAKESPEARE, create_runtime, install_requirement, run_notebook
from .local_server import LocalServer

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# The longest runs first, so that the two workers finish together.
_LONGEST_FIRST = ("10_", "06_", "03_", "01_", "02_")

pytestmark = pytest.mark.skipif(os.environ.get("KDBOOK_SKIP_COLAB") == "1", reason="KDBOOK_SKIP_COLAB=1")


def _order(path: Path) -> tuple[int, str]:
    prefix = path.name[:3]
    return (_LONGEST_FIRST.index(prefix) if prefix in _LONGEST_FIRST else len(_LONGEST_FIRST), path.name)


def _reads_shakespeare(path: Path) -> bool:
    """Whether a chapter reads Tiny Shakespeare (directly, or through a language-model experiment)."""
    return re.search(r"load_shakespeare|\"lm_(token_kd|divergences|vocabulary)\"", path.read_text()) is not None


# A notebook that imports what Colab does not have: myst-nb, as every chapter once did.
_FOREIGN_IMPORT = "from myst_nb import glue"


def _foreign_import_notebook(directory: Path) -> Path:
    chapter = json.loads(NOTEBOOKS[0].read_text())
    install = next(c for c in chapter["cells"] if c["cell_type"] == "code")
    cell = {"cell_type": "code", "execution_count": None, "id": "foreign-import", "metadata": {}, "outputs": [],
            "source": _FOREIGN_IMPORT}
    notebook = dict(chapter, cells=[install, cell])
    path = directory / "foreign_import.ipynb"
    path.write_text(json.dumps(notebook))
    return path


@pytest.fixture(scope="session")
def colab_runs(tmp_path_factory):
    """Every chapter (and one notebook with a foreign import) run in the simulated runtime."""
    root = tmp_path_factory.mktemp("colab")
    runtime = create_runtime(root / "runtime")
    foreign = _foreign_import_notebook(root)
    mirror = LocalServer(SHARED_MNIST) if SHARED_MNIST.is_dir() else None
    shakespeare = LocalServer(SHARED_SHAKESPEARE) if SHARED_SHAKESPEARE.is_dir() else None
    # Without a local copy to serve, a chapter would wait on the public mirrors: it is skipped.
    chapters = [nb for nb in NOTEBOOKS if (mirror or not nb.name.startswith("10_"))
                and (shakespeare or not _reads_shakespeare(nb))]
    notebooks = [*sorted(chapters, key=_order), foreign]
    workers = max(1, min(2, os.cpu_count() or 1))
    with (
        mirror or contextlib.nullcontext(),
        shakespeare or contextlib.nullcontext(),
        ThreadPoolExecutor(workers) as pool,
    ):
        url = mirror.url if mirror else None
        shakespeare_url = shakespeare.url if shakespeare else None
        futures = {
            nb.name: pool.submit(run_notebook, runtime, nb, root / nb.stem, url, shakespeare_url) for nb in notebooks
        }
        runs = {name: future.result() for name, future in futures.items()}
    yield runs, runtime
    shutil.rmtree(runtime.base, ignore_errors=True)  # 1 GB of packages; the chapters' folders stay for a look


def _without_colours(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _failures(output: str) -> str:
    """nbval's report, short enough to read in the test's message: the first failure, and the summary."""
    plain = _without_colours(output)
    first = plain.find("___ ")
    summary = plain.find("short test summary info")
    if first < 0:
        return plain[-4000:]
    head = plain[first:first + 4000]
    return head + ("\n...\n" + plain[summary:][:2000] if summary > first + 4000 else "")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_chapter_runs_on_a_fresh_colab_runtime(colab_runs, notebook):
    runs, runtime = colab_runs
    if notebook.name.startswith("10_") and not SHARED_MNIST.is_dir():
        pytest.skip(f"no local copy of MNIST at {SHARED_MNIST} to serve as the download mirror")
    run = runs[notebook.name]
    assert run.returncode == 0, f"{notebook.name} failed on the simulated Colab runtime:\n{_failures(run.output)}"
    assert run.installed_from == runtime.wheel.as_uri(), (
        f"{notebook.name}: kdmath was not installed by the notebook's install cell (found {run.installed_from})"
    )


def test_a_notebook_that_imports_a_package_kdmath_does_not_depend_on_fails(colab_runs):
    runs, runtime = colab_runs
    run = runs["foreign_import.ipynb"]
    assert run.installed_from == runtime.wheel.as_uri()  # the install cell ran, then the import failed
    assert run.returncode != 0
    assert "ModuleNotFoundError: No module named 'myst_nb'" in _without_colours(run.output), _failures(run.output)


def test_the_shared_environment_holds_only_the_runtime_dependencies(colab_runs):
    _, runtime = colab_runs
    required = {Requirement(r).name.lower() for r in colab_runtime.runtime_dependencies(runtime.wheel)}
    assert required == {"torch", "numpy", "sympy", "matplotlib", "tqdm"}
    (site,) = (runtime.base / "lib").glob("python*/site-packages")
    for absent in ("myst_nb", "kdmath", "yaml", "pytest", "nbval", "hypothesis"):
        assert not (site / absent).exists(), f"{absent} is in the simulated runtime"


def test_the_wheel_holds_every_package_and_the_committed_records(colab_runs):
    _, runtime = colab_runs
    with zipfile.ZipFile(runtime.wheel) as wheel:
        names = set(wheel.namelist())
    for init in (ROOT / "kdmath").rglob("__init__.py"):
        assert init.relative_to(ROOT).as_posix() in names, f"{init.parent.name} is missing from pyproject's packages"
    records = sorted(p.relative_to(ROOT / "results").as_posix() for p in (ROOT / "results").rglob("*.json"))
    assert any(name.startswith("replicates/") for name in records)  # the stated tests' samples travel too
    assert records and all(f"kdmath/records/{name}" in names for name in records)


def test_install_cells_are_live_and_name_the_configured_repository():
    assert colab_runtime.repository_url().startswith("https://")
    for notebook in NOTEBOOKS:
        # raises ValueError unless the first code cell runs a guarded %pip install of the repository
        rewritten = colab_runtime.point_install_cell_at(json.loads(notebook.read_text()), "kdmath @ file:///x.whl")
        first = "".join(next(c for c in rewritten["cells"] if c["cell_type"] == "code")["source"])
        assert '"kdmath @ file:///x.whl"' in first and install_requirement() not in first, notebook.name


def test_an_install_cell_that_is_commented_out_or_names_another_repository_is_refused():
    chapter = json.loads(NOTEBOOKS[0].read_text())
    index = next(i for i, c in enumerate(chapter["cells"]) if c["cell_type"] == "code")
    source = "".join(chapter["cells"][index]["source"])
    for broken in (source.replace("%pip install", "# %pip install"), source.replace("kdbook/kdbook", "someone/else")):
        chapter["cells"][index]["source"] = broken
        with pytest.raises(ValueError, match="does not run %pip install"):
            colab_runtime.point_install_cell_at(chapter, "kdmath @ file:///x.whl")
