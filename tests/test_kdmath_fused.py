"""kdmath.fused.linear_kd_loss against the naive loss on materialised logits, in float64, with autograd."""

from __future__ import annotations

import itertools

import pytest
import torch

import kdmath
from kdmath.divergences import divergence as divergence_on_logits
from kdmath.fused import linear_kd_loss

N, D_S, D_T, V = 37, 6, 9, 23


def make_inputs(seed=0, dtype=torch.float64, n=N, bias=False, ignored=True):
    g = torch.Generator().manual_seed(seed)
    h_s = torch.randn(n, D_S, generator=g, dtype=torch.float64)
    W_s = torch.randn(V, D_S, generator=g, dtype=torch.float64)
    h_t = torch.randn(n, D_T, generator=g, dtype=torch.float64)
    W_t = torch.randn(V, D_T, generator=g, dtype=torch.float64)
    b_s = torch.randn(V, generator=g, dtype=torch.float64) if bias else None
    b_t = torch.randn(V, generator=g, dtype=torch.float64) if bias else None
    target = torch.randint(0, V, (n,), generator=g)
    if ignored:
        target[torch.rand(n, generator=g) < 0.3] = -100
    cast = [None if t is None else t.to(dtype) for t in (h_s, W_s, b_s, h_t, W_t, b_t)]
    return cast, target


def naive(h_s, W_s, b_s, h_t, W_t, b_t, target, *, T, alpha, divergence, beta=0.5, ignore_index=-100):
    z_s = h_s @ W_s.T + (0 if b_s is None else b_s)
    z_t = (h_t @ W_t.T + (0 if b_t is None else b_t)).detach()
    soft = divergence_on_logits(divergence, z_s, z_t, beta=beta, T=T, normalise="none")
    per_position = alpha * T * T * soft
    if target is None:
        return per_position.mean()
    kept = target != ignore_index
    ce = -torch.log_softmax(z_s, -1).gather(-1, target.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    per_position = per_position + (1 - alpha) * ce
    return torch.where(kept, per_position, 0.0).sum() / kept.sum().clamp(min=1)


def values_and_grads(fn, tensors, **kwargs):
    h_s, W_s, b_s, h_t, W_t, b_t = [None if t is None else t.detach().clone() for t in tensors]
    students = [t for t in (h_s, W_s, b_s) if t is not None]
    for t in students:
        t.requires_grad_(True)
    loss = fn(h_s, W_s, b_s, h_t, W_t, b_t, **kwargs)
    loss.backward()
    return [loss.detach()] + [t.grad for t in students]


def fused(h_s, W_s, b_s, h_t, W_t, b_t, target, **kwargs):
    return linear_kd_loss(h_s, W_s, h_t, W_t, target, student_bias=b_s, teacher_bias=b_t, **kwargs)


CASES = list(
    itertools.product(("forward_kl", "reverse_kl", "jsd"), (1.0, 2.5), (0.0, 0.3, 1.0), (False, True))
)


@pytest.mark.parametrize("case", range(len(CASES)))
def test_matches_naive_float64_values_and_gradients(case):
    divergence, T, alpha, bias = CASES[case]
    tensors, target = make_inputs(seed=case, bias=bias)
    settings = {"target": target, "T": T, "alpha": alpha, "divergence": divergence, "beta": 0.3}
    expected = values_and_grads(naive, tensors, **settings)
    # 8 does not divide N = 37; 37 and 100 are one chunk; None is the default size
    for chunk_size in (8, 37, 100, None):
        got = values_and_grads(fused, tensors, chunk_size=chunk_size, **settings)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            assert g.dtype == torch.float64
            torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("divergence", ["forward_kl", "reverse_kl", "jsd"])
def test_no_target_all_positions(divergence):
    tensors, _ = make_inputs(seed=3, bias=True)
    expected = values_and_grads(naive, tensors, target=None, T=2.5, alpha=1.0, divergence=divergence)
    got = values_and_grads(fused, tensors, target=None, T=2.5, divergence=divergence, chunk_size=5)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g, e, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_jsd_endpoints_are_zero(beta):
    tensors, _ = make_inputs(seed=4)
    loss, *grads = values_and_grads(fused, tensors, target=None, divergence="jsd", beta=beta, chunk_size=8)
    assert loss.item() == 0.0
    for g in grads:
        assert torch.count_nonzero(g) == 0


def test_forward_kl_agrees_with_kd_loss():
    (h_s, W_s, _, h_t, W_t, _), target = make_inputs(seed=5, ignored=False)
    expected = kdmath.kd_loss(h_s @ W_s.T, h_t @ W_t.T, target, T=2.5, alpha=0.3)
    got = linear_kd_loss(h_s, W_s, h_t, W_t, target, T=2.5, alpha=0.3, chunk_size=8)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=0)


def test_batch_by_length_input_matches_flattened():
    tensors, target = make_inputs(seed=6, n=24, bias=True)
    h_s, W_s, b_s, h_t, W_t, b_t = tensors
    flat = values_and_grads(fused, tensors, target=target, T=2.5, alpha=0.3, chunk_size=7)
    shaped = [h_s.reshape(4, 6, D_S), W_s, b_s, h_t.reshape(4, 6, D_T), W_t, b_t]
    got = values_and_grads(fused, shaped, target=target.reshape(4, 6), T=2.5, alpha=0.3, chunk_size=7)
    assert got[1].shape == (4, 6, D_S)
    torch.testing.assert_close(got[0], flat[0], rtol=1e-12, atol=0)
    torch.testing.assert_close(got[1].reshape(24, D_S), flat[1], rtol=1e-12, atol=0)
    for g, e in zip(got[2:], flat[2:]):
        torch.testing.assert_close(g, e, rtol=1e-12, atol=0)


def test_all_targets_ignored_gives_zero_and_zero_gradients():
    tensors, target = make_inputs(seed=7, bias=True)
    loss, *grads = values_and_grads(fused, tensors, target=torch.full_like(target, -100), alpha=0.3)
    assert loss.item() == 0.0
    assert len(grads) == 3
    for g in grads:
        assert g is not None and torch.count_nonzero(g) == 0


def test_teacher_gets_no_gradient_and_no_grad_mode_gives_same_value():
    (h_s, W_s, _, h_t, W_t, _), target = make_inputs(seed=8)
    h_t.requires_grad_(True)
    W_s.requires_grad_(True)
    loss = linear_kd_loss(h_s, W_s, h_t, W_t, target, alpha=0.3, divergence="jsd")
    loss.backward()
    assert h_t.grad is None and W_s.grad is not None
    with torch.no_grad():
        again = linear_kd_loss(h_s, W_s, h_t, W_t, target, alpha=0.3, divergence="jsd")
    assert again.item() == loss.item()  # deterministic: the same chunks in the same order


def test_grad_output_scales_gradients():
    tensors, target = make_inputs(seed=9)
    h_s, W_s, _, h_t, W_t, _ = tensors
    W_s = W_s.clone().requires_grad_(True)
    (3.0 * linear_kd_loss(h_s, W_s, h_t, W_t, target, alpha=0.3)).backward()
    expected = values_and_grads(naive, tensors, target=target, T=1.0, alpha=0.3, divergence="forward_kl")[2]
    torch.testing.assert_close(W_s.grad, 3.0 * expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("dtype,tolerance", [(torch.float32, 1e-4), (torch.bfloat16, 5e-2)])
def test_low_precision_agrees_with_float64(dtype, tolerance):
    tensors, target = make_inputs(seed=10, bias=True)
    reference = values_and_grads(fused, tensors, target=target, T=2.5, alpha=0.3, divergence="reverse_kl")
    low = [t.to(dtype) for t in tensors]
    got = values_and_grads(fused, low, target=target, T=2.5, alpha=0.3, divergence="reverse_kl", chunk_size=8)
    assert got[0].dtype == torch.float32
    for g, t in zip(got[1:], low):
        assert g.dtype == dtype
    for g, e in zip(got, reference):
        scale = e.abs().max().item()
        assert (g.double() - e).abs().max().item() <= tolerance * max(scale, 1.0)


def test_stable_at_extreme_logits():
    (h_s, W_s, _, h_t, W_t, _), target = make_inputs(seed=11, dtype=torch.float32)
    for divergence in ("forward_kl", "reverse_kl", "jsd"):
        W = W_s.clone().mul_(1e3).requires_grad_(True)
        loss = linear_kd_loss(h_s, W, h_t, W_t * 1e3, target, T=0.05, alpha=0.3, divergence=divergence)
        loss.backward()
        assert torch.isfinite(loss) and bool(torch.isfinite(W.grad).all())


def bad_calls():
    (h_s, W_s, _, h_t, W_t, _), target = make_inputs(seed=12)
    ok = {
        "student_hidden": h_s,
        "student_weight": W_s,
        "teacher_hidden": h_t,
        "teacher_weight": W_t,
        "target": target,
    }
    yield TypeError, "student_hidden", dict(ok, student_hidden=h_s.numpy())
    yield TypeError, "student_hidden", dict(ok, student_hidden=h_s.long())
    yield ValueError, "student_hidden", dict(ok, student_hidden=h_s[0])
    yield ValueError, "student_weight", dict(ok, student_weight=W_s[:, :-1])
    yield TypeError, "student_weight", dict(ok, student_weight=W_s.float())
    yield ValueError, "teacher_weight", dict(ok, teacher_weight=W_t[:-1])
    yield ValueError, "teacher_hidden", dict(ok, teacher_hidden=h_t[:-1])
    yield ValueError, "student_bias", dict(ok, student_bias=torch.zeros(V + 1, dtype=torch.float64))
    yield ValueError, "target", dict(ok, target=target[:-1])
    yield TypeError, "target", dict(ok, target=target.double())
    yield ValueError, "target", dict(ok, target=torch.full_like(target, V))
    yield ValueError, "alpha", dict(ok, target=None, alpha=0.5)
    yield ValueError, "alpha", dict(ok, alpha=1.5)
    yield ValueError, "divergence", dict(ok, divergence="kl")
    yield ValueError, "beta", dict(ok, beta=-0.1)
    yield ValueError, "beta", dict(ok, beta=1.1)
    yield ValueError, "T", dict(ok, T=0.0)
    yield ValueError, "T", dict(ok, T=-1.0)
    yield ValueError, "chunk_size", dict(ok, chunk_size=0)
    yield TypeError, "chunk_size", dict(ok, chunk_size=2.0)
    yield TypeError, "ignore_index", dict(ok, ignore_index="pad")
    yield ValueError, "student_hidden", dict(ok, student_hidden=h_s.clone().fill_(float("nan")))


@pytest.mark.parametrize("error,name,kwargs", list(bad_calls()))
def test_bad_input_raises_named_error(error, name, kwargs):
    with pytest.raises(error, match=name):
        linear_kd_loss(**kwargs)
