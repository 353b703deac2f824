"""Small computations that decide the "theorems" of the source notes (chapter 9).

- :func:`conditional_mutual_information`: ``I(X; S | Y) = sum_{x,y,s} P(x,y,s) log P(x,y,s) P(y) / (P(x,y) P(y,s))``
  for a discrete joint distribution, in nats. It is never negative, whatever ``S`` is.
- :func:`kernel_ridge_self_distillation`: rounds of self-distillation in kernel ridge regression
  (Mobahi, Farajtabar and Bartlett, 2020). Round 0 fits the labels; round ``k + 1`` fits the
  training-set predictions of round ``k`` with the same kernel and ridge:
  ``y_{k+1} = K (K + lambda I)^{-1} y_k``, test predictions ``K_test (K + lambda I)^{-1} y_k``.
- :func:`argmax_error_rate`: the fraction of rows whose largest probability is not at the label.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._checks import check_logits, check_target

__all__ = ["conditional_mutual_information", "kernel_ridge_self_distillation", "argmax_error_rate"]


def conditional_mutual_information(joint: torch.Tensor) -> float:
    """``I(X; S | Y)`` in nats for a joint probability table ``joint[x, y, s]``.

    ``joint`` must be a non-negative floating-point tensor with three axes that sums to 1.
    Terms with ``P(x, y, s) = 0`` contribute 0 (the limit of ``t log t``).
    """
    if not isinstance(joint, torch.Tensor):
        raise TypeError(f"joint must be a torch.Tensor, got {type(joint).__name__}")
    if not joint.is_floating_point():
        raise TypeError(f"joint must be a floating-point tensor, got dtype {joint.dtype}")
    if joint.dim() != 3:
        raise ValueError(f"joint must have three axes (x, y, s), got shape {tuple(joint.shape)}")
    if not bool(torch.isfinite(joint).all()) or bool((joint < 0).any()):
        raise ValueError("joint must hold finite, non-negative probabilities")
    total = float(joint.sum())
    if abs(total - 1.0) > 1e-9 * max(1, joint.numel()):
        raise ValueError(f"joint must sum to 1, got {total}")
    joint = joint.to(torch.float64)
    p_y = joint.sum(dim=(0, 2), keepdim=True)
    p_xy = joint.sum(dim=2, keepdim=True)
    p_ys = joint.sum(dim=0, keepdim=True)
    positive = joint > 0
    ratio = (joint * p_y) / (p_xy * p_ys)
    terms = torch.where(positive, joint * torch.log(torch.where(positive, ratio, torch.ones_like(ratio))), 0.0)
    return float(terms.sum())


def _rbf(a: torch.Tensor, b: torch.Tensor, bandwidth: float) -> torch.Tensor:
    return torch.exp(-torch.cdist(a, b).pow(2) / (2 * bandwidth**2))


def kernel_ridge_self_distillation(
    x_train: torch.Tensor,
    y_train: torch.Tensor,
    x_test: torch.Tensor,
    y_test: torch.Tensor,
    rounds: int,
    ridge: float,
    bandwidth: float = 1.0,
) -> list[float]:
    """Test mean squared error after each of ``rounds`` rounds of kernel ridge self-distillation.

    Entry 0 is the model fitted to the labels; entry ``k`` the model fitted to the training-set
    predictions of model ``k - 1``. Inputs have one example per row; targets are vectors.
    """
    for name, x in (("x_train", x_train), ("x_test", x_test)):
        check_logits(x, name)
        if x.dim() != 2:
            raise ValueError(f"{name} must have shape (N, d), got {tuple(x.shape)}")
    for name, y, x in (("y_train", y_train, x_train), ("y_test", y_test, x_test)):
        check_logits(y, name)
        if y.shape != x.shape[:1]:
            raise ValueError(f"{name} must have shape ({x.shape[0]},), got {tuple(y.shape)}")
    if x_train.shape[1] != x_test.shape[1]:
        raise ValueError("x_train and x_test must have the same number of features")
    if isinstance(rounds, bool) or not isinstance(rounds, numbers.Integral) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
    for name, value in (("ridge", ridge), ("bandwidth", bandwidth)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    x_train, y_train = x_train.double(), y_train.double()
    x_test, y_test = x_test.double(), y_test.double()
    gram = _rbf(x_train, x_train, bandwidth)
    cross = _rbf(x_test, x_train, bandwidth)
    regularised = gram + ridge * torch.eye(len(gram), dtype=gram.dtype)
    targets = y_train
    errors = []
    for _ in range(rounds):
        coefficients = torch.linalg.solve(regularised, targets)
        errors.append(float((cross @ coefficients - y_test).pow(2).mean()))
        targets = gram @ coefficients
    return errors


def argmax_error_rate(probabilities: torch.Tensor, target: torch.Tensor) -> float:
    """Fraction of rows of ``probabilities`` (shape ``(N, K)``) whose argmax is not ``target``."""
    check_logits(probabilities, "probabilities")
    target = check_target(target, probabilities)
    return float((probabilities.argmax(dim=-1) != target).double().mean())
