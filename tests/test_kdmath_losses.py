"""Distillation losses and their closed-form gradient, against a float64 reference and autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import kdmath
from kdmath import limits

from . import reference


def _random_case(seed, shape, K, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    zs = torch.randn(*shape, K, dtype=torch.float64, generator=g) * scale
    zt = torch.randn(*shape, K, dtype=torch.float64, generator=g) * scale
    y = torch.randint(0, K, shape, generator=g)
    return zs, zt, y


cases = st.tuples(
    st.integers(0, 10_000),
    st.sampled_from([(1,), (5,), (2, 3)]),
    # a few classes run on the transposed logits on a CPU, more than kdmath.losses._CLASSES_FIRST_MAX_K on the rows
    st.one_of(st.integers(2, 7), st.sampled_from([17, 40])),
    st.floats(-2, 2).map(lambda e: 10.0**e),
    st.floats(0.0, 1.0),
    st.sampled_from(["batchmean", "sum", "none"]),
    st.sampled_from(["kl", "cross_entropy"]),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(case=cases)
def test_kd_loss_matches_reference_and_kd_grad_matches_autograd(case):
    seed, shape, K, T, alpha, reduction, soft_loss, t_squared = case
    zs, zt, y = _random_case(seed, shape, K)
    zs.requires_grad_(True)
    loss = kdmath.kd_loss(zs, zt, y, T=T, alpha=alpha, reduction=reduction, soft_loss=soft_loss, t_squared=t_squared)
    per_position = reference.kd_loss_per_position(
        zs.detach().numpy(), zt.numpy(), y.numpy(), T, alpha, soft_loss, t_squared
    )
    want = {"none": per_position, "sum": per_position.sum(), "batchmean": per_position.mean()}[reduction]
    np.testing.assert_allclose(loss.detach().numpy(), want, rtol=1e-10, atol=1e-12)

    loss.sum().backward()
    closed = kdmath.kd_grad(zs.detach(), zt, y, T=T, alpha=alpha, reduction=reduction, soft_loss=soft_loss, t_squared=t_squared)
    torch.testing.assert_close(closed, zs.grad, rtol=1e-9, atol=1e-12)


def test_soft_only_loss_and_forms():
    zs, zt, _ = _random_case(3, (4,), 5)
    T = 2.5
    kl = kdmath.kl_divergence(zs, zt, T=T, reduction="none")
    ce = kdmath.soft_cross_entropy(zs, zt, T=T, reduction="none")
    p = kdmath.softmax_t(zt, T)
    teacher_entropy = -(p * p.log()).sum(-1)
    torch.testing.assert_close(ce - kl, teacher_entropy, rtol=1e-12, atol=1e-12)
    assert (kl >= 0).all()
    soft = kdmath.kd_loss(zs, zt, T=T, alpha=1.0, reduction="none")
    torch.testing.assert_close(soft, T**2 * kl)
    assert kdmath.kl_divergence(zt, zt, T=T).item() == pytest.approx(0.0, abs=1e-14)


def test_alpha_zero_is_plain_cross_entropy():
    zs, zt, y = _random_case(4, (6,), 4)
    want = torch.nn.functional.cross_entropy(zs, y)
    got = kdmath.kd_loss(zs, zt, y, T=4.0, alpha=0.0)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(kdmath.hard_cross_entropy(zs, y), want)


def test_batchmean_matches_torch_kl_div_batchmean():
    zs, zt, _ = _random_case(5, (8,), 6)
    T = 3.0
    want = torch.nn.functional.kl_div(
        torch.log_softmax(zs / T, -1), torch.log_softmax(zt / T, -1), reduction="batchmean", log_target=True
    )
    torch.testing.assert_close(kdmath.kl_divergence(zs, zt, T=T), want)


@pytest.mark.parametrize("K", [10, 40])
def test_loss_is_finite_at_extreme_temperatures_in_float32(K):
    g = torch.Generator().manual_seed(6)
    zs = (torch.rand(16, K, generator=g) * 2 - 1) * 1e4
    zt = (torch.rand(16, K, generator=g) * 2 - 1) * 1e4
    y = torch.randint(0, K, (16,), generator=g)
    for T in (1e-4, 1.0, 1e4):
        zs_ = zs.clone().requires_grad_(True)
        loss = kdmath.kd_loss(zs_, zt, y, T=T, alpha=0.5)
        loss.backward()
        assert torch.isfinite(loss) and torch.isfinite(zs_.grad).all(), T
        assert torch.isfinite(kdmath.kd_grad(zs, zt, y, T=T, alpha=0.5)).all()


def test_high_and_zero_temperature_closed_forms():
    zs, zt, _ = _random_case(7, (5,), 6, scale=1.0)
    T = 1e4
    exact = (kdmath.softmax_t(zs, T) - kdmath.softmax_t(zt, T)) / T
    torch.testing.assert_close(limits.high_temperature_soft_grad(zs, zt, T), exact, rtol=1e-3, atol=1e-16)
    scaled = kdmath.kd_loss(zs, zt, T=T, alpha=1.0, reduction="none")
    torch.testing.assert_close(limits.high_temperature_soft_loss_limit(zs, zt), scaled, rtol=1e-3, atol=0)
    torch.testing.assert_close(
        limits.first_order_softmax_t(zs, T), kdmath.softmax_t(zs, T), rtol=1e-7, atol=0
    )
    torch.testing.assert_close(
        limits.hinton_first_order_softmax_t(zs, T), kdmath.softmax_t(zs, T), rtol=1e-7, atol=0
    )

    teacher = torch.tensor([[3.0, 3.0, 1.0, -2.0]], dtype=torch.float64)
    torch.testing.assert_close(limits.zero_temperature_targets(teacher), torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=torch.float64))
    student = torch.tensor([[0.0, 1.0, 2.5, -1.0]], dtype=torch.float64)
    T = 1e-3
    scaled_by_T = T * kdmath.kl_divergence(student, teacher, T=T, reduction="none")
    torch.testing.assert_close(scaled_by_T, limits.zero_temperature_soft_loss_limit(student, teacher), rtol=0, atol=5e-3)
    assert limits.zero_temperature_soft_loss_limit(student, teacher).item() == pytest.approx(2.5 - 0.5)


@settings(max_examples=60, deadline=None)
@given(case=cases)
def test_closed_form_backward_matches_autograd_of_plain_expression(case):
    """kd_loss's backward pass is the closed form; compare both gradients with autograd of the plain graph."""
    from kdmath.losses import _kd_per_position, _reduce

    seed, shape, K, T, alpha, reduction, soft_loss, t_squared = case
    zs, zt, y = _random_case(seed, shape, K)
    weights = torch.rand(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    grads = []
    for fast in (True, False):
        a, b = zs.clone().requires_grad_(True), zt.clone().requires_grad_(True)
        if fast:
            loss = kdmath.kd_loss(a, b, y, T=T, alpha=alpha, reduction=reduction, soft_loss=soft_loss, t_squared=t_squared)
        else:
            loss = _reduce(_kd_per_position(a, b, y, T, alpha, soft_loss, t_squared), reduction)
        (loss * weights).sum().backward() if reduction == "none" else loss.backward()
        grads.append((loss.detach(), a.grad, b.grad))
    for fast, plain in zip(*grads):
        # q and p carry rounding errors of order 1e-16 each, and the gradient divides them by T:
        # at T = 0.01 (without T^2) an error of 1e-14 is rounding, not a wrong formula
        scale = max(1.0, 1.0 / T, plain.abs().max().item())
        torch.testing.assert_close(fast, plain, rtol=1e-9, atol=1e-12 * scale)


def test_closed_form_backward_keeps_half_precision_dtype():
    zs, zt, y = _random_case(8, (4,), 5)
    a = zs.to(torch.bfloat16).requires_grad_(True)
    loss = kdmath.kd_loss(a, zt.to(torch.bfloat16), y, T=2.0, alpha=0.5)
    loss.backward()
    assert loss.dtype == torch.float32 and a.grad.dtype == torch.bfloat16
    torch.testing.assert_close(a.grad.float(), kdmath.kd_grad(zs.float(), zt.float(), y, T=2.0, alpha=0.5), rtol=2e-2, atol=2e-3)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_distillation_at_T1_is_label_smoothing_towards_the_teacher(alpha):
    """Chapter 5's theorem: at T = 1 the loss is CE((1-alpha) e_y + alpha p, q), minus alpha H(p) for KL."""
    generator = torch.Generator().manual_seed(5)
    z_s = torch.randn(16, 5, dtype=torch.float64, generator=generator) * 3
    z_t = torch.randn(16, 5, dtype=torch.float64, generator=generator) * 3
    y = torch.randint(0, 5, (16,), generator=generator)
    p = torch.softmax(z_t, -1)
    smoothed = (1 - alpha) * torch.nn.functional.one_hot(y, 5).double() + alpha * p
    ce_smoothed = -(smoothed * torch.log_softmax(z_s, -1)).sum(-1).mean()
    entropy = -(p * torch.log(p)).sum(-1).mean()
    as_cross_entropy = kdmath.kd_loss(z_s, z_t, y, T=1.0, alpha=alpha, soft_loss="cross_entropy")
    as_divergence = kdmath.kd_loss(z_s, z_t, y, T=1.0, alpha=alpha)
    torch.testing.assert_close(as_cross_entropy, ce_smoothed, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(as_divergence, ce_smoothed - alpha * entropy, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("T", [1.0, 2.5])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("teacher_grad", [False, True])
def test_the_forward_computed_gradient_equals_autograd_of_the_plain_recipe(T, alpha, teacher_grad):
    """kd_loss computes the student's gradient in its forward pass, in place of buffers it frees (at T = 1 the
    soft and hard terms share one); the result must equal autograd through F.kl_div + F.cross_entropy."""
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(int(10 * T + 3 * alpha + teacher_grad))
    z_s = (3 * torch.randn(7, 13, generator=g, dtype=torch.float64)).requires_grad_(True)
    z_t = (3 * torch.randn(7, 13, generator=g, dtype=torch.float64)).requires_grad_(teacher_grad)
    y = torch.randint(0, 13, (7,), generator=g)
    loss = kdmath.kd_loss(z_s, z_t, y, T=T, alpha=alpha)
    inputs = [z_s, z_t] if teacher_grad else [z_s]
    grads = torch.autograd.grad(loss, inputs, retain_graph=True)
    again = torch.autograd.grad(loss, inputs)  # a kept graph gives the same gradient a second time
    s, t = z_s.detach().requires_grad_(True), z_t.detach().requires_grad_(teacher_grad)
    soft = F.kl_div(F.log_softmax(s / T, -1), F.log_softmax(t / T, -1), reduction="batchmean", log_target=True)
    plain = (1 - alpha) * F.cross_entropy(s, y) + alpha * T * T * soft
    expected = torch.autograd.grad(plain, [s, t] if teacher_grad else [s])
    torch.testing.assert_close(loss, plain, rtol=1e-12, atol=1e-12)
    for got, repeat, want in zip(grads, again, expected):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)
        assert torch.equal(got, repeat)


@pytest.mark.parametrize("K", [3, 50])
# (at large T the divergence is a few roundings of absolute size, times T^2, either way: see kl_divergence)
@pytest.mark.parametrize("T", [0.1, 1.0, 4.0])
@pytest.mark.parametrize("soft_loss", ["kl", "cross_entropy"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_one_shift_for_all_positions_gives_the_rows_answer(monkeypatch, K, T, soft_loss, dtype):
    """On a CPU one shift serves every position when the spread of the logits permits (a reduction
    along a short class axis is slow there); each position's own largest logit must give the same
    loss, gradient and kd_grad, to rounding."""
    from kdmath import losses

    zs, zt, y = _random_case(K, (3, 4), K, scale=2.0)
    zs, zt = zs.to(dtype), zt.to(dtype)
    zt[0, 0] += 10.0  # positions whose largest logits differ
    # within the room of one shift for all at T = 0.1 in float64 and at T >= 1 in both dtypes
    assert max(zs.max() - zs.min(), zt.max() - zt.min()) < 40
    results = []
    for room in (losses._EXPONENT_ROOM[dtype], 0.0):  # one shift where it fits, then one per position
        monkeypatch.setitem(losses._EXPONENT_ROOM, dtype, room)
        a = zs.clone().requires_grad_(True)
        loss = kdmath.kd_loss(a, zt, y, T=T, alpha=0.4, reduction="none", soft_loss=soft_loss)
        loss.sum().backward()
        results.append((loss.detach(), a.grad, kdmath.kd_grad(zs, zt, y, T=T, alpha=0.4)))
    tolerance = 100 * torch.finfo(dtype).eps
    for shared, own in zip(*results):
        torch.testing.assert_close(shared, own, rtol=tolerance, atol=tolerance * max(1.0, own.abs().max().item()))


@pytest.mark.parametrize("K", [10, 1000])
@pytest.mark.parametrize("T", [0.05, 1.0, 4.0])
def test_float32_loss_and_gradient_are_accurate_to_rounding(K, T):
    """In float32 the loss is within a few roundings of the float64 value, relative to its size, and the
    gradient within a few roundings absolutely (its entries are differences of probabilities)."""
    g = torch.Generator().manual_seed(K + int(100 * T))
    zs, zt = (3 * torch.randn(64, K, generator=g, dtype=torch.float64) for _ in range(2))
    y = torch.randint(0, K, (64,), generator=g)
    results = []
    for dtype in (torch.float64, torch.float32):
        a = zs.to(dtype).detach().requires_grad_(True)
        loss = kdmath.kd_loss(a, zt.to(dtype), y, T=T, alpha=0.6, reduction="none")
        loss.sum().backward()
        results.append((loss.detach().double(), a.grad.double()))
    (exact, exact_grad), (single, single_grad) = results
    eps = torch.finfo(torch.float32).eps
    assert ((single - exact) / exact).abs().max() < 50 * eps
    assert (single_grad - exact_grad).abs().max() < 20 * eps
