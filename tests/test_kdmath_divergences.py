"""kdmath.divergences against naive float64 loops, at extreme logits, under gradcheck; and its sympy facts."""

from __future__ import annotations

import itertools
import math

import pytest
import sympy as sp
import torch

import kdmath
from kdmath import divergences as dv
from kdmath.derivations import DerivationError, verify_for
from kdmath.derivations import divergences as ddv


def _logits(*shape, seed=0, scale=3.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(dtype)


def _naive(name, zs, zt, T, beta):
    """One position at a time, in Python floats: the definitions written out."""
    out = torch.zeros(zs.shape[:-1], dtype=torch.float64)
    for index in torch.cartesian_prod(*[torch.arange(n) for n in zs.shape[:-1]]).reshape(-1, zs.dim() - 1):
        a = [float(v) / T for v in zs[tuple(index)]]
        b = [float(v) / T for v in zt[tuple(index)]]
        q = [math.exp(v - max(a)) for v in a]
        p = [math.exp(v - max(b)) for v in b]
        q = [v / sum(q) for v in q]
        p = [v / sum(p) for v in p]
        if name == "forward_kl":
            value = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
        elif name == "reverse_kl":
            value = sum(qi * math.log(qi / pi) for pi, qi in zip(p, q))
        else:
            m = [beta * pi + (1 - beta) * qi for pi, qi in zip(p, q)]
            value = beta * sum(pi * math.log(pi / mi) for pi, mi in zip(p, m)) + (1 - beta) * sum(
                qi * math.log(qi / mi) for qi, mi in zip(q, m)
            )
        out[tuple(index)] = value
    return out


@pytest.mark.parametrize("name", dv.DIVERGENCES)
@pytest.mark.parametrize("T,beta", [(1.0, 0.5), (2.5, 0.1), (0.7, 0.9)])
def test_per_position_values_match_the_definitions(name, T, beta):
    zs, zt = _logits(2, 3, 7, seed=1), _logits(2, 3, 7, seed=2)
    got = dv.divergence(name, zs, zt, beta=beta, T=T, normalise="none")
    assert got.shape == (2, 3) and got.dtype == torch.float64
    torch.testing.assert_close(got, _naive(name, zs, zt, T, beta), rtol=1e-12, atol=1e-14)
    reduced = dv.divergence(name, zs, zt, beta=beta, T=T)
    torch.testing.assert_close(reduced, got.mean(), rtol=1e-12, atol=0)


def test_named_functions_and_agreement_with_losses():
    zs, zt = _logits(4, 5, 11, seed=3), _logits(4, 5, 11, seed=4)
    assert torch.equal(dv.forward_kl(zs, zt, T=2.0), dv.divergence("forward_kl", zs, zt, T=2.0))
    assert torch.equal(dv.reverse_kl(zs, zt, T=2.0), dv.divergence("reverse_kl", zs, zt, T=2.0))
    assert torch.equal(dv.generalized_jsd(zs, zt, beta=0.3), dv.divergence("jsd", zs, zt, beta=0.3))
    # reverse KL is forward KL with the roles swapped; forward KL is the book's soft term without T^2
    torch.testing.assert_close(dv.reverse_kl(zs, zt), dv.forward_kl(zt, zs), rtol=0, atol=0)
    torch.testing.assert_close(
        dv.forward_kl(zs, zt, T=3.0), kdmath.kl_divergence(zs, zt, T=3.0), rtol=1e-13, atol=0
    )


def test_jsd_endpoints_are_exactly_zero_and_the_symmetry_holds():
    zs, zt = _logits(3, 9, 13, seed=5, scale=8.0), _logits(3, 9, 13, seed=6, scale=8.0)
    for beta in (0.0, 1.0):
        assert torch.equal(
            dv.generalized_jsd(zs, zt, beta=beta, normalise="none"), torch.zeros(3, 9, dtype=torch.float64)
        )
    for beta in (0.2, 0.5, 0.83):
        torch.testing.assert_close(
            dv.generalized_jsd(zs, zt, beta=beta, normalise="none"),
            dv.generalized_jsd(zt, zs, beta=1 - beta, normalise="none"),
            rtol=1e-12,
            atol=1e-15,
        )


def test_small_beta_behaviour_is_beta_times_forward_kl_minus_half_beta_squared_chi2():
    zs, zt = _logits(6, 10, seed=7, scale=1.0), _logits(6, 10, seed=8, scale=1.0)
    p, q = torch.softmax(zt, -1), torch.softmax(zs, -1)
    kl = dv.forward_kl(zs, zt, normalise="none")
    chi2 = ((p - q) ** 2 / q).sum(-1)
    third = ((p - q) ** 3 / (6 * q**2)).sum(-1)
    for beta in (1e-2, 1e-3, 1e-4):
        jsd = dv.generalized_jsd(zs, zt, beta=beta, normalise="none")
        # the first-order coefficient is KL(p||q), the forward KL, not 0 and not KL(q||p)
        assert torch.allclose(jsd / beta, kl, rtol=0, atol=chi2.max().item() * beta)
        if beta >= 1e-3:  # below that, rounding in jsd swamps beta^3
            remainder = (jsd - beta * kl + beta**2 / 2 * chi2) / beta**3
            torch.testing.assert_close(remainder, third, rtol=0, atol=30 * beta * third.abs().max().item())
    reverse = dv.reverse_kl(zs, zt, normalise="none")
    jsd = dv.generalized_jsd(zs, zt, beta=1 - 1e-4, normalise="none")
    torch.testing.assert_close(jsd / 1e-4, reverse, rtol=0, atol=1e-3)


def test_jsd_half_is_at_most_log_two_and_reaches_it_for_disjoint_mass():
    zs, zt = _logits(200, 6, seed=9, scale=20.0), _logits(200, 6, seed=10, scale=20.0)
    values = dv.generalized_jsd(zs, zt, normalise="none")
    assert bool((values <= math.log(2)).all()) and bool((values >= 0).all())
    apart = dv.generalized_jsd(
        torch.tensor([[0.0, -60.0]], dtype=torch.float64), torch.tensor([[-60.0, 0.0]], dtype=torch.float64)
    )
    assert abs(apart.item() - math.log(2)) < 1e-12


def test_forward_and_reverse_kl_agree_to_second_order_for_K_50():
    g = torch.Generator().manual_seed(11)
    p = torch.softmax(torch.randn(50, generator=g, dtype=torch.float64), -1)
    d = torch.randn(50, generator=g, dtype=torch.float64)
    d = d - d.mean()
    shared = 0.5 * (d**2 / p).sum()
    third = -(d**3 / p**2).sum() / 6
    # the expansion parameter is eps * max|d_i / p_i| (about 800 eps here), so the relative errors are
    # a few hundred eps, and shrink tenfold with eps
    errors = []
    for eps in (1e-4, 1e-5, 1e-6):
        q = p + eps * d
        assert bool((q > 0).all())
        zt, zs = p.log(), q.log()
        forward, reverse = dv.forward_kl(zs, zt).item(), dv.reverse_kl(zs, zt).item()
        errors.append([abs(forward / eps**2 / shared - 1), abs(reverse / eps**2 / shared - 1)])
        assert max(errors[-1]) < 500 * eps
        # they part at third order, with the coefficient the derivation gives
        assert abs((forward - reverse) / eps**3 / third - 1) < 1000 * eps
    assert all(later < 0.2 * earlier for a, b in itertools.pairwise(errors) for earlier, later in zip(a, b))


@pytest.mark.parametrize("T", [0.01, 100.0])
@pytest.mark.parametrize("name", dv.DIVERGENCES)
def test_extreme_logits_stay_finite_with_finite_gradients(name, T):
    zs = torch.tensor(
        [[1e4, 0.0, -1e4], [0.0, 0.0, 0.0], [-1e4, 1e4, 5.0]], dtype=torch.float32, requires_grad=True
    )
    zt = torch.tensor(
        [[-1e4, 0.0, 1e4], [1e4, 0.0, 0.0], [-1e4, 1e4, 5.0]], dtype=torch.float32, requires_grad=True
    )
    values = dv.divergence(name, zs, zt, beta=0.3, T=T, normalise="none")
    assert bool(torch.isfinite(values).all()) and bool((values > -1e-6).all())
    values.sum().backward()
    assert bool(torch.isfinite(zs.grad).all()) and bool(torch.isfinite(zt.grad).all())
    if T == 0.01 and name != "jsd":
        # opposite one-hot distributions: the KL is (gap between the logits) / T, about 2e6
        assert values[0].item() > 1e6
    if name == "jsd":
        assert values[0].item() <= math.log(2) * 2  # bounded by beta log(1/beta) + (1-beta) log(1/(1-beta))


@pytest.mark.parametrize("name", dv.DIVERGENCES)
@pytest.mark.parametrize("normalise", dv.NORMALISATIONS)
def test_gradcheck(name, normalise):
    zs = _logits(2, 3, 4, seed=12, scale=1.5).requires_grad_()
    zt = _logits(2, 3, 4, seed=13, scale=1.5).requires_grad_()
    mask = torch.tensor([[True, False, True], [True, True, True]])

    def function(a, b):
        return dv.divergence(name, a, b, beta=0.35, T=1.7, mask=mask, normalise=normalise)

    assert torch.autograd.gradcheck(function, (zs, zt))


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_jsd_endpoints_have_zero_gradients(beta):
    zs = _logits(2, 5, seed=14).requires_grad_()
    zt = _logits(2, 5, seed=15).requires_grad_()
    dv.generalized_jsd(zs, zt, beta=beta).backward()
    assert torch.equal(zs.grad, torch.zeros_like(zs)) and torch.equal(zt.grad, torch.zeros_like(zt))


def _hand_reduce(values, mask, normalise):
    B, L = values.shape
    if normalise == "none":
        return [[values[b, j].item() if mask[b, j] else 0.0 for j in range(L)] for b in range(B)]
    kept = [[values[b, j].item() for j in range(L) if mask[b, j]] for b in range(B)]
    if normalise == "token":
        flat = [v for row in kept for v in row]
        return sum(flat) / len(flat) if flat else 0.0
    if normalise == "batch":
        return sum(sum(row) for row in kept) / B
    means = [sum(row) / len(row) for row in kept if row]
    return sum(means) / len(means) if means else 0.0


@pytest.mark.parametrize("normalise", dv.NORMALISATIONS)
def test_masked_mean_matches_a_hand_loop(normalise):
    values = _logits(4, 6, seed=16).abs()
    masks = [
        torch.tensor(
            [[1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0], [0, 1, 0, 1, 0, 1]], dtype=torch.bool
        ),
        torch.ones(4, 6, dtype=torch.bool),
        torch.zeros(4, 6, dtype=torch.bool),
    ]
    for mask in masks:
        expected = torch.tensor(_hand_reduce(values, mask, normalise), dtype=torch.float64)
        torch.testing.assert_close(dv.masked_mean(values, mask, normalise), expected, rtol=1e-14, atol=0)
    # mask=None keeps everything
    torch.testing.assert_close(
        dv.masked_mean(values, None, normalise), dv.masked_mean(values, masks[1], normalise)
    )


def test_masked_positions_never_reach_the_result_or_the_gradient():
    values = torch.tensor([[1.0, float("nan")], [2.0, float("inf")]], dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[True, False], [True, False]])
    for normalise in ("token", "sequence", "batch"):
        out = dv.masked_mean(values, mask, normalise)
        assert out.item() == 1.5  # (1 + 2) / 2 whichever way: two sequences of one kept position each
        (grad,) = torch.autograd.grad(out, values)
        assert torch.equal(grad[:, 1], torch.zeros(2, dtype=torch.float64))
    everything_masked = dv.masked_mean(values, torch.zeros(2, 2, dtype=torch.bool), "token")
    assert everything_masked.item() == 0.0
    everything_masked.backward()  # still connected to the graph


def test_divergence_with_mask_equals_reducing_the_per_position_tensor():
    zs, zt = _logits(3, 5, 8, seed=17), _logits(3, 5, 8, seed=18)
    mask = dv.prompt_mask([5, 3, 4], [2, 0, 4], 5)
    per_position = dv.generalized_jsd(zs, zt, beta=0.4, normalise="none")
    for normalise in ("token", "sequence", "batch"):
        expected = torch.tensor(_hand_reduce(per_position, mask, normalise), dtype=torch.float64)
        torch.testing.assert_close(
            dv.generalized_jsd(zs, zt, beta=0.4, mask=mask, normalise=normalise), expected
        )


def test_mask_from_targets_and_prompt_mask():
    targets = torch.tensor([[3, -100, 5], [-100, -100, 1]])
    assert dv.mask_from_targets(targets).tolist() == [[True, False, True], [False, False, True]]
    assert dv.mask_from_targets(targets, ignore_index=5).tolist() == [[True, True, False], [True, True, True]]
    lengths, prompts, L = [6, 4, 0], [2, 4, 0], 6
    for shift in (0, 1):
        length = L - shift
        got = dv.prompt_mask(torch.tensor(lengths), prompts, length, shift=shift)
        expected = [[prompts[b] <= j + shift < lengths[b] for j in range(length)] for b in range(3)]
        assert got.dtype == torch.bool and got.tolist() == expected
    assert dv.prompt_mask([3, 5], 1, 5).tolist() == [
        [False, True, True, False, False],
        [False, True, True, True, True],
    ]


def test_determinism_and_half_precision():
    zs, zt = _logits(2, 4, 6, seed=19), _logits(2, 4, 6, seed=20)
    for name in dv.DIVERGENCES:
        assert torch.equal(dv.divergence(name, zs, zt), dv.divergence(name, zs.clone(), zt.clone()))
    half = dv.forward_kl(zs.to(torch.bfloat16), zt.to(torch.bfloat16), normalise="none")
    assert half.dtype == torch.float32
    torch.testing.assert_close(half.double(), dv.forward_kl(zs, zt, normalise="none"), rtol=0.05, atol=0.05)


def test_bad_inputs_raise_named_errors():
    zs, zt = _logits(2, 3, seed=21), _logits(2, 3, seed=22)
    with pytest.raises(ValueError, match="name"):
        dv.divergence("kl", zs, zt)
    with pytest.raises(ValueError, match="beta"):
        dv.generalized_jsd(zs, zt, beta=1.5)
    with pytest.raises(TypeError, match="beta"):
        dv.generalized_jsd(zs, zt, beta=True)
    with pytest.raises(ValueError, match="T"):
        dv.forward_kl(zs, zt, T=0.0)
    with pytest.raises(ValueError, match="normalise"):
        dv.reverse_kl(zs, zt, normalise="mean")
    with pytest.raises(ValueError, match="teacher_logits"):
        dv.forward_kl(zs, _logits(2, 4))
    with pytest.raises(TypeError, match="student_logits"):
        dv.forward_kl(torch.ones(2, 3, dtype=torch.long), zt)
    with pytest.raises(ValueError, match="teacher_logits"):
        dv.forward_kl(zs, torch.full((2, 3), float("nan"), dtype=torch.float64))
    with pytest.raises(TypeError, match="mask"):
        dv.forward_kl(zs, zt, mask=torch.ones(2, dtype=torch.long))
    with pytest.raises(ValueError, match="mask"):
        dv.forward_kl(zs, zt, mask=torch.ones(3, dtype=torch.bool))
    with pytest.raises(TypeError, match="per_position"):
        dv.masked_mean([1.0, 2.0])
    with pytest.raises(TypeError, match="targets"):
        dv.mask_from_targets(torch.ones(3))
    with pytest.raises(ValueError, match="prompt_lengths"):
        dv.prompt_mask([2, 3], [3, 1], 4)
    with pytest.raises(ValueError, match="lengths"):
        dv.prompt_mask([2, 9], [0, 1], 4)
    with pytest.raises(ValueError, match="prompt_lengths"):
        dv.prompt_mask([2, 3], [0, 1, 2], 4)
    with pytest.raises(ValueError, match="L"):
        dv.prompt_mask([2], [0], -1)
    with pytest.raises(TypeError, match="lengths"):
        dv.prompt_mask([2.5], [0], 4)


# -- the sympy facts ------------------------------------------------------------------------------


BUILDERS = [ddv.jsd_small_beta, ddv.jsd_half_bound, ddv.kl_second_order]


@pytest.mark.parametrize("build", BUILDERS)
def test_divergence_derivations_hold_for_symbolic_K(build):
    d = build()
    assert "for every K" in d.title
    assert any(ddv.K in s.lhs.free_symbols | s.rhs.free_symbols for s in d.steps)
    for step in d.steps:
        assert "sympy" in step.text or "stated rule" in step.text, step.text
    result = verify_for(build, K=None)
    assert result.symbolic_K and result.steps == len(d.steps)


p, q = ddv.p, ddv.q


@pytest.mark.parametrize(
    "leading,second",
    [
        (sp.Integer(0), None),  # "the derivative at beta = 0 is 0"
        (q * sp.log(q / p) - q + p, None),  # the reverse KL as the leading term
        (None, (p - q) ** 2 / (2 * q)),  # the wrong sign of the chi^2 term
        (None, -((p - q) ** 2) / (2 * p)),  # chi^2 with the wrong denominator
    ],
    ids=["zero-derivative", "reverse-kl", "chi2-sign", "chi2-denominator"],
)
def test_wrong_small_beta_claims_are_rejected(leading, second):
    with pytest.raises(DerivationError):
        ddv._jsd_small_beta(leading=leading, second=second).verify()


def test_wrong_bound_and_wrong_second_order_claims_are_rejected():
    with pytest.raises(DerivationError):
        ddv._jsd_half_bound(bound=sp.log(2) / 2).verify()
    d = sp.Symbol("d", real=True)
    with pytest.raises(DerivationError):
        ddv._kl_second_order(reverse_second=ddv.eps**2 * d**2 / ddv.p).verify()


def test_two_point_series_agrees_with_the_floats():
    series = ddv.jsd_two_point_series(3)
    a, b = sp.symbols("a b", positive=True)
    value = series.removeO().subs({a: sp.Rational(7, 10), b: sp.Rational(1, 5)})
    zt = torch.tensor([math.log(0.7), math.log(0.3)], dtype=torch.float64)
    zs = torch.tensor([math.log(0.2), math.log(0.8)], dtype=torch.float64)
    beta = 1e-3
    exact = dv.generalized_jsd(zs, zt, beta=beta).item()
    approx = float(value.subs(ddv.beta, beta))
    assert abs(exact - approx) < 1e-8
    assert abs(exact / beta - dv.forward_kl(zs, zt).item()) < 2e-3
    claim = ddv.jsd_small_beta_claim()
    assert claim.getO() == sp.O(ddv.beta**3)
