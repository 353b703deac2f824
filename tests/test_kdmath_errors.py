"""Every public kdmath function rejects bad input with an error that names the argument."""

from __future__ import annotations

import math

import pytest
import torch

import kdmath
from kdmath import limits

zs = torch.randn(4, 3, generator=torch.Generator().manual_seed(0))
zt = torch.randn(4, 3, generator=torch.Generator().manual_seed(1))
y = torch.tensor([0, 2, 1, 0])


def loss_fns():
    return [kdmath.kd_loss, kdmath.kd_grad]


@pytest.mark.parametrize("fn", [kdmath.kd_loss, kdmath.kd_grad])
@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        (dict(T=0.0, alpha=0.5), ValueError, "T"),
        (dict(T=-1.0, alpha=0.5), ValueError, "T"),
        (dict(T=math.inf, alpha=0.5), ValueError, "T"),
        (dict(T=math.nan, alpha=0.5), ValueError, "T"),
        (dict(T="2", alpha=0.5), TypeError, "T"),
        (dict(T=True, alpha=0.5), TypeError, "T"),
        (dict(T=2.0, alpha=1.5), ValueError, "alpha"),
        (dict(T=2.0, alpha=-0.1), ValueError, "alpha"),
        (dict(T=2.0, alpha=math.nan), ValueError, "alpha"),
        (dict(T=2.0, alpha=None), TypeError, "alpha"),
        (dict(T=2.0, alpha=0.5, reduction="mean"), ValueError, "reduction"),
        (dict(T=2.0, alpha=0.5, soft_loss="js"), ValueError, "soft_loss"),
        (dict(T=2.0, alpha=0.5, t_squared=1), TypeError, "t_squared"),
    ],
)
def test_bad_scalars(fn, kwargs, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        fn(zs, zt, y, **kwargs)


@pytest.mark.parametrize("fn", [kdmath.kd_loss, kdmath.kd_grad])
def test_bad_tensors(fn):
    cases = [
        ((zs.long(), zt, y), TypeError, "student_logits"),
        ((zs, zt.int(), y), TypeError, "teacher_logits"),
        ((zs.numpy(), zt, y), TypeError, "student_logits"),
        ((zs, zt[:, :2], y), ValueError, "teacher_logits"),
        ((zs, zt, y[:3]), ValueError, "target"),
        ((zs, zt, y.float()), TypeError, "target"),
        ((zs, zt, torch.tensor([0, 3, 1, 0])), ValueError, "target"),
        ((zs, zt, torch.tensor([0, -1, 1, 0])), ValueError, "target"),
        ((zs.clone().index_fill_(0, torch.tensor([1]), float("nan")), zt, y), ValueError, "student_logits"),
        ((zs, zt.clone().index_fill_(0, torch.tensor([2]), float("inf")), y), ValueError, "teacher_logits"),
        ((torch.tensor(1.0), torch.tensor(1.0), y), ValueError, "student_logits"),
    ]
    for args, error, name in cases:
        with pytest.raises(error, match=rf"^{name}\b"):
            fn(*args, T=2.0, alpha=0.5)


@pytest.mark.parametrize("fn", [kdmath.kd_loss, kdmath.kd_grad])
def test_soft_only_requires_alpha_one(fn):
    with pytest.raises(ValueError, match=r"^alpha\b.*target is None"):
        fn(zs, zt, T=2.0, alpha=0.5)
    assert torch.isfinite(torch.as_tensor(fn(zs, zt, T=2.0, alpha=1.0))).all()


@pytest.mark.parametrize(
    "fn",
    [kdmath.softmax_t, kdmath.log_softmax_t, kdmath.softmax_t_jacobian, kdmath.entropy_t, kdmath.entropy_t_dT,
     limits.first_order_softmax_t, limits.hinton_first_order_softmax_t],
)
def test_single_logit_functions(fn):
    with pytest.raises(ValueError, match=r"^T\b"):
        fn(zs, 0.0)
    with pytest.raises(TypeError, match=r"^(logits|student_logits)\b"):
        fn(zs.long(), 1.0)
    with pytest.raises(ValueError, match=r"^(logits|student_logits)\b"):
        fn(torch.tensor([1.0, float("nan")]), 1.0)


@pytest.mark.parametrize("fn", [kdmath.kl_divergence, kdmath.soft_cross_entropy])
def test_soft_terms(fn):
    with pytest.raises(ValueError, match=r"^T\b"):
        fn(zs, zt, T=-2.0)
    with pytest.raises(ValueError, match=r"^teacher_logits\b"):
        fn(zs, zt[:2])
    with pytest.raises(ValueError, match=r"^reduction\b"):
        fn(zs, zt, reduction="avg")


def test_dim_and_hard_cross_entropy():
    with pytest.raises(ValueError, match=r"^dim\b"):
        kdmath.softmax_t(zs, 1.0, dim=2)
    with pytest.raises(TypeError, match=r"^dim\b"):
        kdmath.softmax_t(zs, 1.0, dim=0.5)
    with pytest.raises(ValueError, match=r"^target\b"):
        kdmath.hard_cross_entropy(zs, torch.tensor([0, 1, 2, 3]))
