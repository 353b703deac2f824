"""Execute chapters and store their outputs in the .ipynb files, as the book commits them.

    .venv/bin/python tools/store_outputs.py notebooks/01_temperature_softmax.ipynb [...]

Each notebook runs in ``notebooks/`` (as the book and nbval run it) with one thread, so that
several can run side by side on a small machine. The execution timestamps that Jupyter writes into
each cell's metadata are dropped (they change on every run and say nothing). A notebook whose
cells print to stderr (a warning, such as kdmath.output's UnstableDigitsWarning) is reported and
the script exits non-zero; its outputs are still written, so the warning can be read in place.

The notebook's metadata records the run (``kdbook.execution``: seconds, threads, machine, date), which
the status page of the book shows (``book/_ext/kdbook_runtimes.py``).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def cpu_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), else what the platform module says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def strip_execution_metadata(nb) -> None:
    for cell in nb.cells:
        cell.metadata.pop("execution", None)


def store(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, kernel_name="python3", timeout=1200, resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    strip_execution_metadata(nb)
    nb.metadata.setdefault("kdbook", {})["execution"] = {
        "seconds": round(seconds, 1),
        "threads": int(os.environ.get("OMP_NUM_THREADS", "0")) or os.cpu_count(),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores",
        "date": datetime.date.today().isoformat(),
    }
    problems = [
        f"{path.name}, cell {index}: {output.get('text', '')[:300]}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(handle, "w") as file:
        file.write(nbformat.writes(nb) + "\n")
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
    return problems


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    problems = []
    for name in paths:
        path = Path(name).resolve()
        if path.suffix != ".ipynb" or not path.exists():
            raise ValueError(f"not a notebook: {name}")
        problems += store(path)
        print(f"stored {path.name}")
    for problem in problems:
        print("stderr output:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
