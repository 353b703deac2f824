"""Vocabulary-size approximations of KL(p || q): brute force, properties, unbiasedness, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kdmath
from kdmath import vocab

from . import reference


def brute_force_top_k(zs, zt, k, T, tail):
    """Loop over one position with Python sets: the definitions, written out."""
    log_p, log_q = reference.log_softmax_t(zt, T), reference.log_softmax_t(zs, T)
    p, q = np.exp(log_p), np.exp(log_q)
    order = sorted(range(len(zt)), key=lambda i: -zt[i])
    top = set(order[:k])
    if tail == "bucket":
        kl = sum(p[i] * (log_p[i] - log_q[i]) for i in top)
        P_tail = sum(p[i] for i in range(len(p)) if i not in top)
        Q_tail = sum(q[i] for i in range(len(q)) if i not in top)
        return kl + (P_tail * math.log(P_tail / Q_tail) if P_tail > 0 else 0.0)
    P, Q = sum(p[i] for i in top), sum(q[i] for i in top)
    return sum(p[i] / P * math.log((p[i] / P) / (q[i] / Q)) for i in top)


def full_kl(zs, zt, T):
    return kdmath.kl_divergence(zs, zt, T=T, reduction="none")


# distinct teacher logits: with ties the top-k set depends on how ties are broken
logit_rows = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 9)), elements=st.floats(-8, 8),
                        unique=True)


@settings(max_examples=150, deadline=None)
@given(z=logit_rows, noise=st.integers(0, 2**31 - 1), T=st.sampled_from([0.5, 1.0, 3.0]), data=st.data())
def test_top_k_matches_brute_force_and_is_bounded_by_the_full_kl(z, noise, T, data):
    zt = torch.from_numpy(z)
    zs = zt + torch.randn(zt.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(noise)) * 2
    K = z.shape[-1]
    k = data.draw(st.integers(1, K))
    full = full_kl(zs, zt, T)
    bucket = vocab.top_k_kl(zs, zt, k, T=T, tail="bucket")
    renorm = vocab.top_k_kl(zs, zt, k, T=T, tail="renormalize")
    for n in range(z.shape[0]):
        want_b = brute_force_top_k(zs[n].numpy(), zt[n].numpy(), k, T, "bucket")
        want_r = brute_force_top_k(zs[n].numpy(), zt[n].numpy(), k, T, "renormalize")
        assert bucket[n].item() == pytest.approx(want_b, rel=1e-9, abs=1e-12)
        assert renorm[n].item() == pytest.approx(want_r, rel=1e-9, abs=1e-12)
    # log-sum inequality: merging classes can only lower the divergence
    assert bool((bucket <= full + 1e-12).all())
    assert bool((bucket >= -1e-12).all()) and bool((renorm >= -1e-12).all())


def test_k_equal_K_gives_the_full_kl_for_both_tails():
    g = torch.Generator().manual_seed(0)
    zs, zt = torch.randn(2, 3, 11, dtype=torch.float64, generator=g), torch.randn(2, 3, 11, dtype=torch.float64, generator=g)
    for tail in ("bucket", "renormalize"):
        got = vocab.top_k_kl(zs, zt, 11, T=2.0, tail=tail)
        assert got.shape == (2, 3)
        torch.testing.assert_close(got, full_kl(zs, zt, 2.0), rtol=1e-12, atol=1e-14)


def test_bucketed_kl_is_nondecreasing_in_k_and_gap_is_the_tail_divergence():
    g = torch.Generator().manual_seed(1)
    zt = torch.randn(5, 40, dtype=torch.float64, generator=g) * 2
    zs = zt + torch.randn(5, 40, dtype=torch.float64, generator=g)
    T = 1.5
    values = torch.stack([vocab.top_k_kl(zs, zt, k, T=T) for k in range(1, 41)])
    assert bool((values[1:] >= values[:-1] - 1e-13).all())
    # chain rule: KL - KL_bucket = P_tail * KL(p restricted to tail || q restricted to tail)
    k = 7
    log_p, log_q = kdmath.log_softmax_t(zt, T), kdmath.log_softmax_t(zs, T)
    top = zt.topk(k, dim=-1).indices
    tail_mask = torch.ones_like(zt, dtype=torch.bool).scatter(-1, top, False)
    lp_tail = torch.where(tail_mask, log_p, -torch.inf)
    lq_tail = torch.where(tail_mask, log_q, -torch.inf)
    P_tail = lp_tail.logsumexp(-1)
    cond_p = (lp_tail - P_tail[:, None]).exp()
    cond_kl = torch.where(tail_mask, cond_p * ((lp_tail - P_tail[:, None]) - (lq_tail - lq_tail.logsumexp(-1)[:, None])),
                          torch.zeros(()).double()).sum(-1)
    gap = full_kl(zs, zt, T) - vocab.top_k_kl(zs, zt, k, T=T)
    torch.testing.assert_close(gap, P_tail.exp() * cond_kl, rtol=1e-9, atol=1e-13)


def test_renormalized_can_over_and_underestimate():
    T = 1.0
    over_p, over_q = torch.tensor([0.5, 0.3, 0.2]).double(), torch.tensor([0.3, 0.5, 0.2]).double()
    under_p, under_q = torch.tensor([0.5, 0.3, 0.2]).double(), torch.tensor([0.25, 0.15, 0.6]).double()
    for p, q, sign in ((over_p, over_q, 1), (under_p, under_q, -1)):
        zs, zt = q.log(), p.log()
        diff = vocab.top_k_kl(zs, zt, 2, T=T, tail="renormalize") - full_kl(zs, zt, T)
        assert sign * diff.item() > 0.01


def test_top_k_mass_matches_sorting():
    g = torch.Generator().manual_seed(2)
    zt = torch.randn(3, 4, 17, dtype=torch.float64, generator=g) * 3
    for k in (1, 5, 17):
        for T in (0.7, 2.0):
            p = reference.softmax_t(zt.numpy(), T)
            want = np.sort(p, axis=-1)[..., ::-1][..., :k].sum(-1)
            got = vocab.top_k_mass(zt, k, T=T)
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    torch.testing.assert_close(vocab.top_k_mass(zt, 17), torch.ones(3, 4, dtype=torch.float64))


def test_student_gradient_reaches_every_token_through_the_normaliser():
    g = torch.Generator().manual_seed(3)
    zt = torch.randn(50, dtype=torch.float64, generator=g) * 2
    zs = (zt + torch.randn(50, dtype=torch.float64, generator=g)).requires_grad_(True)
    (grad,) = torch.autograd.grad(vocab.top_k_kl(zs, zt, 5), zs)
    assert int((grad != 0).sum()) == 50
    # at k = K the bucketed divergence is the full one, with gradient (q - p) / T
    (grad_full,) = torch.autograd.grad(vocab.top_k_kl(zs, zt, 50, T=2.0), zs)
    want = kdmath.kd_grad(zs.detach(), zt, T=2.0, alpha=1.0, reduction="sum", t_squared=False)
    torch.testing.assert_close(grad_full, want, rtol=1e-10, atol=1e-13)


def test_float32_input():
    zt = torch.randn(4, 30, generator=torch.Generator().manual_seed(4))
    zs = zt * 0.5
    got = vocab.top_k_kl(zs, zt, 10)
    assert got.dtype == torch.float32 and got.shape == (4,)
    assert bool((got <= full_kl(zs, zt, 1.0) + 1e-5).all())


def _exact_and_variance(zs, zt, T):
    log_p, log_q = kdmath.log_softmax_t(zt, T), kdmath.log_softmax_t(zs, T)
    p = log_p.exp()
    ratio = log_p - log_q
    kl = (p * ratio).sum(-1)
    return kl, (p * ratio**2).sum(-1) - kl**2


def test_sampled_kl_is_unbiased_with_the_teacher_as_proposal():
    g = torch.Generator().manual_seed(5)
    zt = torch.randn(12, dtype=torch.float64, generator=g) * 2
    zs = zt + torch.randn(12, dtype=torch.float64, generator=g)
    T, m, R = 1.5, 8, 4000
    estimates = vocab.sampled_kl(zs.expand(R, 12), zt.expand(R, 12), m, T=T,
                                 generator=torch.Generator().manual_seed(6))
    assert estimates.shape == (R,)
    exact, variance = _exact_and_variance(zs, zt, T)
    standard_error = math.sqrt(variance.item() / (m * R))
    assert abs(estimates.mean().item() - exact.item()) < 4 * standard_error
    # and the spread of one estimate is sqrt(Var_p[log p/q] / m)
    assert estimates.var().item() == pytest.approx(variance.item() / m, rel=0.1)


@pytest.mark.parametrize("proposal_kind", ["uniform", "mixture"])
def test_sampled_kl_is_unbiased_with_other_proposals(proposal_kind):
    g = torch.Generator().manual_seed(7)
    K = 10
    zt = torch.randn(K, dtype=torch.float64, generator=g) * 2
    zs = zt + torch.randn(K, dtype=torch.float64, generator=g)
    p = kdmath.softmax_t(zt, 1.0)
    r = torch.full((K,), 1 / K, dtype=torch.float64) if proposal_kind == "uniform" else 0.5 * p + 0.5 / K
    m, R = 16, 4000
    estimates = vocab.sampled_kl(zs.expand(R, K), zt.expand(R, K), m, proposal=r.expand(R, K),
                                 generator=torch.Generator().manual_seed(8))
    exact = full_kl(zs, zt, 1.0).item()
    log_ratio = kdmath.log_softmax_t(zt, 1.0) - kdmath.log_softmax_t(zs, 1.0)
    one_term = p / r * log_ratio
    variance = (r * one_term**2).sum().item() - exact**2
    assert abs(estimates.mean().item() - exact) < 4 * math.sqrt(variance / (m * R))


def test_sampled_kl_is_deterministic_given_a_generator_and_weights_are_one():
    g = torch.Generator().manual_seed(9)
    zt = torch.randn(3, 2, 20, dtype=torch.float64, generator=g)
    zs = torch.randn(3, 2, 20, dtype=torch.float64, generator=g)
    a = vocab.sampled_kl(zs, zt, 64, T=2.0, generator=torch.Generator().manual_seed(10))
    b = vocab.sampled_kl(zs, zt, 64, T=2.0, generator=torch.Generator().manual_seed(10))
    assert a.shape == (3, 2)
    assert torch.equal(a, b)
    explicit = vocab.sampled_kl(zs, zt, 64, T=2.0, proposal=kdmath.softmax_t(zt, 2.0),
                                generator=torch.Generator().manual_seed(10))
    torch.testing.assert_close(explicit, a, rtol=1e-14, atol=1e-15)


def test_sampled_kl_is_differentiable_in_the_student():
    zt = torch.randn(2, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(11))
    zs = torch.zeros(2, 8, dtype=torch.float64, requires_grad=True)
    est = vocab.sampled_kl(zs, zt, 5, generator=torch.Generator().manual_seed(12)).sum()
    (grad,) = torch.autograd.grad(est, zs)
    assert torch.isfinite(grad).all()


def test_bad_inputs_name_the_argument():
    zs = torch.zeros(2, 5, dtype=torch.float64)
    zt = torch.randn(2, 5, dtype=torch.float64)
    with pytest.raises(ValueError, match="k"):
        vocab.top_k_kl(zs, zt, 0)
    with pytest.raises(ValueError, match="k"):
        vocab.top_k_kl(zs, zt, 6)
    with pytest.raises(TypeError, match="k"):
        vocab.top_k_kl(zs, zt, 2.0)
    with pytest.raises(TypeError, match="k"):
        vocab.top_k_kl(zs, zt, True)
    with pytest.raises(ValueError, match="T"):
        vocab.top_k_kl(zs, zt, 2, T=0.0)
    with pytest.raises(ValueError, match="tail"):
        vocab.top_k_kl(zs, zt, 2, tail="drop")
    with pytest.raises(ValueError, match="z_t"):
        vocab.top_k_kl(zs, zt[:, :4], 2)
    with pytest.raises(TypeError, match="z_s"):
        vocab.top_k_kl(zs.numpy(), zt, 2)
    with pytest.raises(ValueError, match="z_t"):
        vocab.top_k_kl(zs, zt.clone().fill_(float("nan")), 2)
    with pytest.raises(ValueError, match="k"):
        vocab.top_k_mass(zt, 9)
    with pytest.raises(ValueError, match="T"):
        vocab.top_k_mass(zt, 2, T=-1.0)
    with pytest.raises(TypeError, match="z_t"):
        vocab.top_k_mass([1.0, 2.0], 1)
    with pytest.raises(ValueError, match="num_samples"):
        vocab.sampled_kl(zs, zt, 0)
    with pytest.raises(TypeError, match="num_samples"):
        vocab.sampled_kl(zs, zt, 3.0)
    with pytest.raises(TypeError, match="generator"):
        vocab.sampled_kl(zs, zt, 3, generator=0)
    with pytest.raises(ValueError, match="proposal"):
        vocab.sampled_kl(zs, zt, 3, proposal=torch.full((2, 4), 0.25, dtype=torch.float64))
    with pytest.raises(ValueError, match="proposal"):
        vocab.sampled_kl(zs, zt, 3, proposal=torch.full((2, 5), 0.3, dtype=torch.float64))
    with pytest.raises(ValueError, match="proposal"):
        bad = torch.tensor([[0.5, 0.5, 0.0, 0.0, 0.0]] * 2, dtype=torch.float64)
        vocab.sampled_kl(zs, zt, 3, proposal=bad)
    with pytest.raises(TypeError, match="proposal"):
        vocab.sampled_kl(zs, zt, 3, proposal=[0.2] * 5)
