"""Argument checks shared by every public kdmath function.

Each check raises ``TypeError`` (wrong kind of object or dtype) or ``ValueError``
(right kind, bad value) with a message that names the offending argument, so a
caller sees *which* input was wrong rather than a NaN three layers down.
"""

from __future__ import annotations

import math
import numbers

import torch

REDUCTIONS = ("batchmean", "sum", "none")
SOFT_LOSSES = ("kl", "cross_entropy")


def check_logits(logits: object, name: str, *, check_finite: bool = True) -> torch.Tensor:
    """Return ``logits`` if it is a finite floating-point tensor with at least one axis."""
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {logits.dtype}")
    if logits.dim() == 0:
        raise ValueError(f"{name} must have at least one axis (the K class logits), got a 0-d tensor")
    if logits.shape[-1] == 0:
        raise ValueError(f"{name} must have at least one class on its last axis, got shape {tuple(logits.shape)}")
    # A finite sum implies finite elements (inf or NaN would propagate), and costs one
    # reduction instead of a boolean tensor; only an overflowing sum needs the full check.
    if check_finite and not bool(torch.isfinite(logits.sum())) and not bool(torch.isfinite(logits).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return logits


def check_finite_pair(first: torch.Tensor, first_name: str, second: torch.Tensor, second_name: str) -> None:
    """Raise ``ValueError`` naming the tensor that holds NaN or inf; one reduction and one synchronisation
    when both are finite (a finite sum of the two sums implies finite elements)."""
    if bool(torch.isfinite(first.sum() + second.sum())):
        return
    for tensor, name in ((first, first_name), (second, second_name)):
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{name} contains NaN or inf")


def check_temperature(T: object, name: str = "T") -> float:
    """Return ``T`` as a float if it is a finite real number greater than zero."""
    if isinstance(T, torch.Tensor):
        if T.numel() != 1:
            raise TypeError(f"{name} must be a real number, got a tensor of shape {tuple(T.shape)}")
        T = T.item()
    if isinstance(T, bool) or not isinstance(T, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(T).__name__}")
    T = float(T)
    if not math.isfinite(T) or T <= 0.0:
        raise ValueError(f"{name} must be finite and > 0, got {T}")
    return T


def check_weight(alpha: object, name: str = "alpha") -> float:
    """Return ``alpha`` as a float if it is a real number in [0, 1]."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"{name} must be a real number in [0, 1], got {type(alpha).__name__}")
    alpha = float(alpha)
    if not (0.0 <= alpha <= 1.0):  # also rejects NaN
        raise ValueError(f"{name} must lie in [0, 1], got {alpha}")
    return alpha


def check_same_shape(student: torch.Tensor, teacher: torch.Tensor) -> None:
    if student.shape != teacher.shape:
        raise ValueError(
            "teacher_logits must have the same shape as student_logits, got "
            f"{tuple(teacher.shape)} and {tuple(student.shape)}"
        )
    if student.device != teacher.device:
        raise ValueError(
            f"teacher_logits is on {teacher.device} but student_logits is on {student.device}"
        )


def check_target(target: object, logits: torch.Tensor, name: str = "target") -> torch.Tensor:
    """Return ``target`` if it holds integer class indices in [0, K) matching ``logits.shape[:-1]``."""
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of class indices, got {type(target).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer class indices, got dtype {target.dtype}")
    if target.shape != logits.shape[:-1]:
        raise ValueError(
            f"{name} must have shape {tuple(logits.shape[:-1])} (the logits without their class axis), "
            f"got {tuple(target.shape)}"
        )
    if target.device != logits.device:
        raise ValueError(f"{name} is on {target.device} but the logits are on {logits.device}")
    K = logits.shape[-1]
    # one pass and one synchronisation for both bounds
    if target.numel() and not 0 <= (bounds := torch.aminmax(target)).min.item() <= bounds.max.item() < K:
        bad = target[(target < 0) | (target >= K)].flatten()[0].item()
        raise ValueError(f"{name} holds class index {bad}, outside [0, {K})")
    return target


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_dim(dim: object, logits: torch.Tensor, name: str = "dim") -> int:
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__}")
    if not -logits.dim() <= dim < logits.dim():
        raise ValueError(f"{name}={dim} is out of range for a tensor with {logits.dim()} axes")
    return dim


def working_dtype(x: torch.Tensor) -> torch.Tensor:
    """Upcast half precision to float32: the log-sum-exp loses too much in 16 bits."""
    if x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x
