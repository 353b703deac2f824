"""A trainer that keeps the whole data set on the device.

Training minimises the book's distillation loss {eq}`kd-loss` (hard labels only when no teacher
logits are given) by SGD with momentum. Everything per batch happens on the device with whole-batch
tensor operations: shuffling (``randperm``), batching (index slices), jitter augmentation (each image
shifted by up to ``jitter`` pixels in each direction, by one gather from a zero-padded copy), dropout
(inside the model) and, on a GPU, mixed precision (bfloat16 autocast). There is no per-example
Python code and no ``DataLoader``.

Long runs show a progress bar (tqdm), log the loss and the test error of every epoch, and save a
checkpoint after every epoch (written atomically); :func:`train` given the same checkpoint path
resumes where an interrupted run stopped, with the random state restored, so the resumed run is
the run that was interrupted.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ._checks import check_temperature, check_weight
from .losses import kd_loss

__all__ = ["TrainConfig", "History", "train", "evaluate", "predict_logits", "to_device_images", "jitter_batch", "default_device"]


def default_device() -> torch.device:
    """``cuda`` where a GPU is available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class TrainConfig:
    """Settings of one training run.

    ``alpha`` and ``T`` are those of {eq}`kd-loss` (``alpha`` weights the soft term); they are used
    only when teacher logits are given. ``lr`` decays by ``lr_decay`` after every epoch.
    """

    epochs: int
    batch_size: int = 100
    lr: float = 0.1
    momentum: float = 0.9
    lr_decay: float = 1.0
    weight_decay: float = 0.0
    max_norm: float | None = None
    jitter: int = 0
    T: float = 1.0
    alpha: float = 0.0
    seed: int = 0
    mixed_precision: bool | None = None  # None: on where the device is a GPU

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        for name in ("jitter", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        for name in ("lr", "lr_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
                raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
        for name in ("momentum", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if self.max_norm is not None and (not isinstance(self.max_norm, numbers.Real) or not math.isfinite(self.max_norm) or self.max_norm <= 0):
            raise ValueError(f"max_norm must be None or a finite number > 0, got {self.max_norm!r}")
        check_temperature(self.T)
        check_weight(self.alpha)


@dataclass
class History:
    """Per-epoch logs: mean training loss, test errors (count) and test error rate."""

    train_loss: list[float] = field(default_factory=list)
    test_errors: list[int] = field(default_factory=list)
    test_error_rate: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def to_device_images(images: torch.Tensor, device) -> torch.Tensor:
    """uint8 images ``(N, 28, 28)`` as float32 in [0, 1] on ``device``."""
    if not isinstance(images, torch.Tensor) or images.dim() != 3:
        raise ValueError(f"images must be a tensor of shape (N, H, W), got {getattr(images, 'shape', type(images))}")
    images = images.to(device)
    return images.float().div_(255.0) if images.dtype == torch.uint8 else images.float()


def jitter_batch(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image of ``(B, H, W)`` by its own random offset in ``[-shift, shift]^2``, zero-filling.

    One ``gather`` along the flattened rows of a zero-padded copy: ``out[b, i, j] = padded[b, i + dy_b, j + dx_b]``.
    """
    if shift == 0:
        return images
    B, H, W = images.shape
    offsets = torch.randint(0, 2 * shift + 1, (2, B), device=images.device, generator=generator)
    width = W + 2 * shift  # of a padded row
    padded = nn.functional.pad(images, (shift, shift, shift, shift)).reshape(B, -1)
    crop = (torch.arange(H, device=images.device)[:, None] * width + torch.arange(W, device=images.device)).reshape(-1)
    return padded.gather(1, (offsets[0] * width + offsets[1])[:, None] + crop).view(B, H, W)


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, batch_size: int = 2000) -> torch.Tensor:
    """The model's logits for every image, in evaluation mode (no dropout), as float32."""
    was_training = model.training
    model.eval()
    outputs = [model(images[start:start + batch_size]).float() for start in range(0, len(images), batch_size)]
    model.train(was_training)
    return torch.cat(outputs)


def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 2000) -> int:
    """The number of images the model misclassifies."""
    return int((predict_logits(model, images, batch_size).argmax(-1) != labels).sum())


def _atomic_save(state: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        torch.save(state, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def train(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    config: TrainConfig,
    *,
    teacher_logits: torch.Tensor | None = None,
    auxiliary: nn.Module | None = None,
    main_weight: float = 1.0,
    test_images: torch.Tensor | None = None,
    test_labels: torch.Tensor | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = True,
    description: str = "training",
) -> History:
    """Train ``model`` in place on device-resident ``images`` (float, ``(N, H, W)``) and ``labels``.

    With ``teacher_logits`` (``(N, K)``, on the same device) the loss is {eq}`kd-loss` with the
    config's ``T`` and ``alpha``; without, the cross-entropy with the labels. The model, the data
    and the teacher logits must already be on one device (see :func:`to_device_images`).

    With ``auxiliary`` (a module such as :class:`kdmath.feature_training.HiddenMatching`), the model is
    called with ``return_hidden=True`` and the loss of a batch is ``main_weight`` times the loss above plus
    ``auxiliary(batch, hidden)``, where ``batch`` is the (jittered) images the model saw and ``hidden`` its
    hidden activations: the term of a method beyond logits (hints, hidden states, relations). The
    auxiliary's own parameters (its projections) are trained with the model and saved in the
    checkpoint. ``main_weight=0`` trains on the auxiliary term alone (FitNets' first stage).
    """
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    device = images.device
    if labels.shape != images.shape[:1]:
        raise ValueError(f"labels must have shape ({len(images)},), got {tuple(labels.shape)}")
    if teacher_logits is not None and teacher_logits.shape[0] != len(images):
        raise ValueError(f"teacher_logits must have one row per image, got {tuple(teacher_logits.shape)}")
    if teacher_logits is None and config.alpha != 0.0:
        raise ValueError("config.alpha > 0 weights a soft term: pass teacher_logits")
    if (test_images is None) != (test_labels is None):
        raise ValueError("pass test_images and test_labels together")
    if auxiliary is not None and not isinstance(auxiliary, nn.Module):
        raise TypeError(f"auxiliary must be an nn.Module or None, got {type(auxiliary).__name__}")
    if isinstance(main_weight, bool) or not isinstance(main_weight, numbers.Real) or not main_weight >= 0:
        raise ValueError(f"main_weight must be a number >= 0, got {main_weight!r}")
    if main_weight != 1.0 and auxiliary is None:
        raise ValueError("main_weight other than 1 needs an auxiliary term")
    mixed = config.mixed_precision if config.mixed_precision is not None else device.type == "cuda"

    torch.manual_seed(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    trained = [*model.parameters(), *([p for p in auxiliary.parameters() if p.requires_grad] if auxiliary else [])]
    optimiser = torch.optim.SGD(trained, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay,
                                foreach=True)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimiser, gamma=config.lr_decay)
    history, start_epoch = History(), 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = torch.load(path, map_location=device, weights_only=False)
        if state["config"] != dataclasses.asdict(config):
            raise ValueError(f"checkpoint {path} was written with a different config; delete it or pass another path")
        model.load_state_dict(state["model"])
        if auxiliary is not None:
            auxiliary.load_state_dict(state["auxiliary"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["cpu_rng"].cpu())
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device)
        history = History(**state["history"])
        start_epoch = state["epoch"]

    from tqdm.auto import tqdm

    n = len(images)
    steps = math.ceil(n / config.batch_size)
    bar = tqdm(range(start_epoch, config.epochs), desc=description, disable=not progress, initial=start_epoch, total=config.epochs)
    for epoch in bar:
        model.train()
        order = torch.randperm(n, device=device, generator=generator)
        total = torch.zeros((), device=device)
        for step in range(steps):
            index = order[step * config.batch_size:(step + 1) * config.batch_size]
            batch = jitter_batch(images[index], config.jitter, generator)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=mixed):
                logits, hidden = model(batch, return_hidden=True) if auxiliary is not None else (model(batch), None)
            if teacher_logits is None:
                loss = nn.functional.cross_entropy(logits.float(), labels[index])
            else:
                loss = kd_loss(logits.float(), teacher_logits[index], labels[index], T=config.T, alpha=config.alpha)
            if auxiliary is not None:
                loss = main_weight * loss + auxiliary(batch, [h.float() for h in hidden])
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            if config.max_norm is not None:
                model.apply_max_norm(config.max_norm)
            total += loss.detach() * len(index)
        scheduler.step()
        history.train_loss.append(float(total) / n)
        if test_images is not None:
            errors = evaluate(model, test_images, test_labels)
            history.test_errors.append(errors)
            history.test_error_rate.append(errors / len(test_images))
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}", test_errors=errors)
        else:
            bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if path is not None:
            _atomic_save(
                {
                    "config": dataclasses.asdict(config),
                    "epoch": epoch + 1,
                    "model": model.state_dict(),
                    **({"auxiliary": auxiliary.state_dict()} if auxiliary is not None else {}),
                    "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(),
                    "cpu_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                    "history": history.as_dict(),
                },
                path,
            )
    bar.close()
    return history
