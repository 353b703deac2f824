"""A fresh Colab runtime, simulated: what `tests/test_colab.py` runs the chapters in.

Colab gives a notebook a Python kernel with PyTorch and the common scientific packages, internet,
and nothing of this repository. The simulation gives each chapter the same:

- **kdmath, as pip installs it from the repository**: a wheel built from this clone's working
  tree (the package and the committed records it carries), once per run;
- **one shared environment**, created once per run outside the repository: kdmath's runtime
  dependencies (read from the wheel's metadata, at the versions of ``requirements/lock.txt``,
  torch pinned as in the Makefile) and ipykernel, and nothing else;
- **a fresh runtime per chapter**: an empty environment layered on the shared one (a ``.pth`` file;
  ``pip`` installs into the layer), so that every chapter's install cell has to install kdmath;
  a copy of the notebook in its own folder (``content/``, as on Colab), with no ``../shared``
  beside it and an empty home directory;
- **the install cell, live**: it must name the repository of ``_config.yml``; the simulation then
  points it at the wheel and checks afterwards that the cell is what installed kdmath;
- **data as on Colab**: through ``load_mnist(download=True)`` and ``load_shakespeare(download=True)``,
  from mirrors that the test serves on 127.0.0.1 (``KDBOOK_MNIST_MIRRORS``,
  ``KDBOOK_SHAKESPEARE_MIRRORS``), verified by checksum;
- **the second numeric path** (:data:`SECOND_NUMERIC_PATH`): the kernel runs PyTorch's scalar
  kernels on one thread and NumPy's BLAS on other kernels, so an output that depends on the CPU
  differs here first.

nbval then executes the notebook top to bottom and compares every output with the committed one,
with the sanitizer of the native run.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
SHARED_SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare"
KERNEL_NAME = "kdbook-colab"

# The numeric path the simulated runtime computes on: PyTorch's portable scalar kernels instead of
# the vector ones this CPU would choose, one thread (reductions split differently), and, on x86,
# NumPy's OpenBLAS on its SSE3 kernels. README.md ("The second numeric path") says what each
# flushed out when measured, and what did not (MKL_ENABLE_INSTRUCTIONS).
SECOND_NUMERIC_PATH = {
    "ATEN_CPU_CAPABILITY": "default",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    **({"OPENBLAS_CORETYPE": "Prescott"} if platform.machine().lower() in ("x86_64", "amd64") else {}),
}

# What a reader's runtime does not have: nothing of this repository, nor the test's settings.
_CLEARED = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "JUPYTER_PATH", "IPYTHONDIR", "MPLBACKEND")


def torch_pin() -> str:
    """The Makefile's pinned torch (``torch==...``): the CPU wheel on the development machines' disk."""
    return re.search(r"^TORCH_PIN := (torch==\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)


def repository_url() -> str:
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def install_requirement() -> str:
    """The requirement every install cell passes to ``%pip install``."""
    return f"kdmath @ git+{repository_url()}"


def install_lines(source: str) -> list[str]:
    """The lines of a cell that run ``%pip install`` (commented lines do not run)."""
    return [line.strip() for line in source.splitlines() if line.strip().startswith("%pip install")]


def point_install_cell_at(notebook: dict, requirement: str) -> dict:
    """The notebook with its install cell installing ``requirement`` instead of the repository.

    Raises ``ValueError`` unless the first code cell is a live ``%pip install`` of the configured
    repository, guarded by ``import kdmath``.
    """
    cells = notebook["cells"]
    index = next(i for i, c in enumerate(cells) if c["cell_type"] == "code")
    source = "".join(cells[index]["source"])
    wanted = f'"{install_requirement()}"'
    if not any(wanted in line for line in install_lines(source)):
        raise ValueError(f"the first code cell does not run %pip install {wanted}")
    if "import kdmath" not in source or "except ImportError" not in source:
        raise ValueError("the first code cell does not guard its install with import kdmath")
    rewritten = json.loads(json.dumps(notebook))
    cell = rewritten["cells"][index]
    cell["source"] = source.replace(wanted, f'"{requirement}"')
    # pip prints a note of its own when it installs; what the cell does is checked afterwards.
    cell.setdefault("metadata", {}).setdefault("tags", []).append("nbval-ignore-output")
    return rewritten


@dataclass(frozen=True)
class Runtime:
    """The shared pieces: the wheel of kdmath and the environment of its dependencies."""

    root: Path
    wheel: Path
    base: Path

    @property
    def requirement(self) -> str:
        return f"kdmath @ {self.wheel.as_uri()}"


def _run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def build_wheel(directory: Path) -> Path:
    """kdmath's wheel, built from a copy of what pip would take from this clone."""
    source = directory / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("kdmath", "results"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    # Building in this environment, when it can, spares fetching setuptools for an isolated build.
    local_build = all(importlib.util.find_spec(name) for name in ("setuptools", "wheel"))
    isolation = ["--no-build-isolation"] if local_build else []
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", *isolation, str(source), "-w", str(directory)])
    (wheel,) = directory.glob("kdmath-*.whl")
    return wheel


def runtime_dependencies(wheel: Path) -> list[str]:
    """The wheel's ``Requires-Dist`` entries that hold without extras: what ``pip install kdmath`` adds."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(name).decode())
    return [r for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r]


def create_runtime(directory: Path) -> Runtime:
    """Build the wheel and the shared environment (once per run)."""
    directory.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(directory / "wheel")
    base = directory / "base"
    venv.EnvBuilder(with_pip=True).create(base)
    python = base / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "--disable-pip-version-check"]
    _run([*pip, torch_pin()])
    _run([*pip, "-c", str(ROOT / "requirements" / "lock.txt"), *runtime_dependencies(wheel), "ipykernel"])
    return Runtime(root=directory, wheel=wheel, base=base)


def fresh_layer(runtime: Runtime, directory: Path) -> Path:
    """An empty environment that sees the shared one: a chapter's own runtime, without kdmath."""
    venv.EnvBuilder(with_pip=False).create(directory)
    (site,) = (directory / "lib").glob("python*/site-packages")
    (base_site,) = (runtime.base / "lib").glob("python*/site-packages")
    (site / "_colab_base.pth").write_text(f"{base_site}\n")
    kernel = directory / "share" / "jupyter" / "kernels" / KERNEL_NAME
    kernel.mkdir(parents=True)
    spec = {
        "argv": [str(directory / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (simulated Colab)",
        "language": "python",
    }
    (kernel / "kernel.json").write_text(json.dumps(spec))
    return directory


def installed_from(layer: Path) -> str | None:
    """The URL kdmath was installed from into ``layer`` (None when it is not installed there)."""
    for direct_url in (layer / "lib").glob("python*/site-packages/kdmath-*.dist-info/direct_url.json"):
        return json.loads(direct_url.read_text())["url"]
    return None


@dataclass(frozen=True)
class ChapterRun:
    returncode: int
    output: str
    installed_from: str | None


def run_notebook(
    runtime: Runtime, notebook: Path, workdir: Path, mirror: str | None, shakespeare_mirror: str | None = None
) -> ChapterRun:
    """Execute ``notebook`` with nbval in a fresh simulated runtime under ``workdir``."""
    layer = fresh_layer(runtime, workdir / "env")
    content, home = workdir / "content", workdir / "home"
    content.mkdir(parents=True)
    home.mkdir()
    copy = content / notebook.name
    copy.write_text(json.dumps(point_install_cell_at(json.loads(notebook.read_text()), runtime.requirement)))
    shutil.copy2(ROOT / "conftest.py", content / "conftest.py")  # nbval's history fix, as in the native run
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED and not k.startswith("KDBOOK_")}
    env.update(SECOND_NUMERIC_PATH)
    env.update(
        HOME=str(home),
        JUPYTER_PATH=str(layer / "share" / "jupyter"),
        MPLCONFIGDIR=str(runtime.root / "matplotlib"),  # Colab's font cache is built already
        PYTHONDONTWRITEBYTECODE="1",
    )
    if mirror is not None:
        env["KDBOOK_MNIST_MIRRORS"] = mirror
    if shakespeare_mirror is not None:
        env["KDBOOK_SHAKESPEARE_MIRRORS"] = shakespeare_mirror
    command = [
        sys.executable, "-m", "pytest", copy.name, "--nbval", f"--nbval-kernel-name={KERNEL_NAME}",
        f"--nbval-sanitize-with={ROOT / 'tests' / 'sanitize.cfg'}", "-p", "no:cacheprovider", "-q", "--rootdir", ".",
    ]
    result = subprocess.run(command, cwd=content, env=env, capture_output=True, text=True)
    return ChapterRun(result.returncode, result.stdout + result.stderr, installed_from(layer))
