"""The book's experiments, by family, and how they are run and recorded.

- :mod:`kdmath.experiments.mnist`: Hinton, Vinyals and Dean (2015, section 3) on MNIST, and the
  source notes' claims that MNIST can test (chapter 10);
- :mod:`kdmath.experiments.beyond`: methods beyond logits (FitNets' hints, hidden states across
  layers, relations) on MNIST students deeper and thinner than the teacher;
- :mod:`kdmath.experiments.attention`: attention transfer between small convolutional networks on MNIST;
- :mod:`kdmath.experiments.generations`: born-again generations and chains of teaching assistants (source 004);
- :mod:`kdmath.experiments.mechanisms`: why distillation works (source 003, section 4), measured on
  MNIST: label smoothing against distillation, the teacher's dark knowledge, calibration, sharpness;
- :mod:`kdmath.experiments.language`: a GPT teacher and student on Tiny Shakespeare, and the source
  notes' claims about distilling language models (chapters 11 to 13).

Each experiment is a function of a configuration (a dict) that trains what it needs and returns its
numbers. Every experiment has three configurations:

- ``quick``: a few epochs on a subset; seconds on a CPU, run live by its chapter (and so in CI);
- ``medium``: minutes to tens of minutes per experiment on a two-core CPU; the committed records;
- ``full``: the paper's scale, or more; meant for a GPU.

:func:`run_experiment` (and ``python -m kdmath.experiments NAME --config full``) runs one and
writes ``<out_dir>/<name>-<config>.json`` atomically, with the numbers, the configuration, the
seed, the hardware, the time taken and the kdmath version. Teachers are cached in the checkpoint
directory, keyed by their configuration, so experiments that share a teacher train it once, and
every training run checkpoints each epoch, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from .. import __version__
from ..trainer import default_device, to_device_images

__all__ = ["EXPERIMENTS", "Experiment", "Hypothesis", "student_difference", "Context", "run_experiment", "hardware", "write_json", "with_seed", "TEACHER_MODEL"]

CONFIG_NAMES = ("quick", "medium", "full")  # every experiment has these
OPTIONAL_CONFIG_NAMES = ("long",)  # some have these too


@dataclass
class Context:
    """What an experiment runs with: the data on the device, where to cache, and progress bars.

    An MNIST experiment gets the four image and label tensors; a language experiment gets ``tokens``
    (:class:`kdmath.text.TokenSplit`: the token ids of the training and validation text, and the tokenizer).
    """

    device: torch.device
    checkpoint_dir: Path | None
    progress: bool = True
    train_images: torch.Tensor | None = None
    train_labels: torch.Tensor | None = None
    test_images: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    tokens: object | None = None
    # Tags of the models whose checkpoint existed when the run reached them (a cached teacher, or a
    # resumed run): the record lists them, because the run's time does not include their training.
    reused: list = dataclasses.field(default_factory=list)

    def checkpoint(self, tag: str, payload: dict) -> Path | None:
        if self.checkpoint_dir is None:
            return None
        key = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]
        path = self.checkpoint_dir / f"{tag}-{key}.pt"
        if path.exists():
            self.reused.append(tag)
        return path


@dataclass(frozen=True)
class Hypothesis:
    """A hypothesis of the book (not of a source) about an experiment, stated before its medium runs and decided
    by the ledger's rule (:func:`kdmath.ledger.empirical.judge`): paired differences over the replicates,
    oriented so that the hypothesis predicts them positive, in ``unit``."""

    name: str
    statement: str
    experiment: str
    statistic: Callable[[list[dict]], dict[str, list[float]]]
    unit: str = "nats per token"

    def decide(self, records: list[dict]) -> dict[str, tuple[str, str]]:
        from ..ledger.empirical import judge

        return {group: judge(differences, self.unit) for group, differences in self.statistic(records).items()}


def student_difference(measure: str, worse: str, better: str, scale: float = 1):
    """A hypothesis's statistic for a record that keeps its students by arm (``results["students"][arm]``):
    per replicate, ``scale`` times ``worse``'s ``measure`` minus ``better``'s (positive when ``better`` wins)."""

    def statistic(records):
        students = [r["results"]["students"] for r in records]
        return {"": [scale * (s[worse][measure] - s[better][measure]) for s in students]}

    statistic.__name__ = f"{worse}_minus_{better}_{measure}"
    return statistic


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    run: Callable[[dict, Context], dict]
    configs: dict
    data: str = "mnist"  # or "shakespeare"

    @property
    def family(self) -> str:
        """The module that registered it, which is its chapter's family: ``"mnist"``, ``"mechanisms"``, ``"language"``."""
        return self.run.__module__.rsplit(".", 1)[-1]


EXPERIMENTS: dict[str, Experiment] = {}


DATA_KINDS = ("mnist", "shakespeare")


def register(name: str, description: str, configs: dict, data: str = "mnist"):
    missing = set(CONFIG_NAMES) - set(configs)
    if missing:
        raise ValueError(f"experiment {name} lacks configurations {sorted(missing)}")
    unknown = set(configs) - set(CONFIG_NAMES) - set(OPTIONAL_CONFIG_NAMES)
    if unknown:
        raise ValueError(f"experiment {name} has unknown configurations {sorted(unknown)}")

    if data not in DATA_KINDS:
        raise ValueError(f"data must be one of {DATA_KINDS}, got {data!r}")

    def decorate(function):
        EXPERIMENTS[name] = Experiment(name, description, function, configs, data)
        return function

    return decorate


def hardware(device: torch.device) -> dict:
    """The machine a result was produced on."""
    info = {
        "device": str(device),
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def write_json(payload: dict, path: Path) -> None:
    """Write ``payload`` to ``path`` atomically (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(payload, stream, indent=2, sort_keys=False)
            stream.write("\n")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def with_seed(settings: dict, seed: int) -> dict:
    """The settings of replicate ``seed``: ``seed`` replaced, and a list ``seeds``, where there is one, made ``[seed]``."""
    return {**settings, "seed": seed, **({"seeds": [seed]} if "seeds" in settings else {})}


def run_experiment(
    name: str,
    config: str | dict = "quick",
    *,
    data_dir=None,
    device=None,
    out_dir: str | os.PathLike | None = "results",
    checkpoint_dir: str | os.PathLike | None = None,
    progress: bool = True,
    seed: int | None = None,
) -> dict:
    """Run experiment ``name`` with a named configuration (or a dict); return and save its record.

    With ``seed``, the run is one *replicate*: the configuration's ``seed`` (the teacher's and the
    students' initialisation, data order and subsets) becomes ``seed``, and its list ``seeds``, where it
    has one, becomes ``[seed]``; the record is written to ``<name>-<config>-seed<seed>.json``. Replicates
    with different seeds are independent runs of the whole experiment, teacher included, which is what
    the ledger's statistical tests (:mod:`kdmath.ledger.empirical`) take as their sample.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"name must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    experiment = EXPERIMENTS[name]
    if isinstance(config, str):
        if config not in experiment.configs:
            raise ValueError(f"config must be one of {sorted(experiment.configs)} or a dict, got {config!r}")
        config_name, settings = config, experiment.configs[config]
    elif isinstance(config, dict):
        config_name, settings = "custom", config
    else:
        raise TypeError(f"config must be a name or a dict, got {type(config).__name__}")
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        settings = with_seed(settings, seed)
    device = torch.device(device) if device is not None else default_device()
    context = Context(device=device, checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir is not None else None,
                      progress=progress)
    if experiment.data == "mnist":
        from ..data import load_mnist

        mnist = load_mnist(data_dir)
        context.train_images = to_device_images(mnist.train_images, device)
        context.train_labels = mnist.train_labels.to(device)
        context.test_images = to_device_images(mnist.test_images, device)
        context.test_labels = mnist.test_labels.to(device)
    else:
        from ..text import load_shakespeare_tokens

        # 1 MB, public, checksum-verified: fetched when missing, so that a fresh Colab runtime can run these
        context.tokens = load_shakespeare_tokens(data_dir, download=True)
    started = time.perf_counter()
    results = experiment.run(settings, context)
    record = {
        "experiment": name,
        "description": experiment.description,
        "config_name": config_name,
        "config": settings,
        "seed": settings.get("seed", 0),
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
        "reused_checkpoints": context.reused,
        "hardware": hardware(device),
        "kdmath_version": __version__,
        "finished": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    if out_dir is not None:
        stem = f"{name}-{config_name}" if seed is None else f"{name}-{config_name}-seed{seed}"
        write_json(record, Path(out_dir) / f"{stem}.json")
    return record


# The families register their experiments when imported.
from . import mnist  # noqa: E402, I001  (MNIST first: chapter 10 lists EXPERIMENTS in order)
from . import mechanisms  # noqa: E402
from . import beyond  # noqa: E402
from . import attention  # noqa: E402
from . import generations  # noqa: E402
from . import language  # noqa: E402
from .mnist import TEACHER_MODEL  # noqa: E402
