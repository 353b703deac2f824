"""The temperature limits hold for symbolic K, wrong variants are rejected, and the floats agree."""

from __future__ import annotations

import math

import pytest
import sympy as sp
import torch

import kdmath
from kdmath.derivations import DerivationError, general_limits as gl, verify_for
from kdmath.derivations._symbols import eps

BUILDERS = [gl.softmax_expansion, gl.soft_loss_limit, gl.zero_temperature_limit, gl.uniform_limit, gl.soft_gradient_expansion,
            gl.zero_temperature_soft_term, gl.zero_temperature_gradients]


@pytest.mark.parametrize("build", BUILDERS)
def test_general_derivation_holds_for_symbolic_K(build):
    d = build()
    assert "for every K" in d.title
    # K is a sympy Symbol, not a number: the derivation is about every K at once
    assert any(gl.K in s.lhs.free_symbols | s.rhs.free_symbols for s in d.steps)
    result = verify_for(build, K=None)
    assert result.Ks == () and result.steps == len(d.steps)


@pytest.mark.parametrize("build", BUILDERS)
def test_every_step_says_whether_sympy_decides_it_or_which_rule_it_uses(build):
    for step in build().steps:
        assert "sympy" in step.text or "stated rule" in step.text, step.text


def test_exported():
    import kdmath.derivations as D

    assert "general_limits" in D.__all__ and D.general_limits is gl


# -- wrong variants of the softmax expansion ------------------------------------------------------

x = gl.z_i - gl.zbar


@pytest.mark.parametrize(
    "claim",
    [
        # source note 000: p_i ~ 1/n + (v_i - mean v)/T, the 1/K dropped from the first-order term
        1 / gl.K + eps * x + eps**2 * (x**2 - gl.m2) / (2 * gl.K) + sp.O(eps**3),
        1 / gl.K + eps * x + sp.O(eps**2),
        # centring missing: z_i instead of z_i - zbar
        1 / gl.K + eps * gl.z_i / gl.K + sp.O(eps**2),
        gl.second_order_softmax(mean_=0),
        # wrong second-order coefficients
        1 / gl.K + eps * x / gl.K + eps**2 * (x**2 + gl.m2) / (2 * gl.K) + sp.O(eps**3),
        1 / gl.K + eps * x / gl.K + eps**2 * (x**2 - gl.m2) / gl.K + sp.O(eps**3),
        1 / gl.K + eps * x / gl.K + eps**2 * x**2 / (2 * gl.K) + sp.O(eps**3),
    ],
    ids=["source-000-second-order", "source-000", "uncentred", "uncentred-second-order", "sign-of-m2", "no-half", "no-m2"],
)
def test_wrong_softmax_expansion_is_rejected(claim):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._softmax_expansion(claim).verify()


def test_dropped_1_over_K_in_the_normaliser_sum_is_rejected():
    """The summation step itself fails if it forgets that K ones sum to K."""
    from kdmath.derivations import Derivation

    d = Derivation("wrong sum")
    gl._sum_step(d, "sum of ones", gl.sum_k(1 + eps * gl.centred(gl.z, gl.k)), 1)
    with pytest.raises(DerivationError):
        d.verify()


# -- wrong variants of the T^2 KL limit ------------------------------------------------------------


@pytest.mark.parametrize(
    "claim",
    [
        gl.kl_limit_formula(constant=1 / gl.K),  # 1/K instead of 1/(2K)
        gl.kl_limit_formula(constant=sp.Rational(1, 2)),  # the 1/K dropped
        sp.Sum((gl.z_s[gl.k] - gl.z_t[gl.k]) ** 2, (gl.k, 1, gl.K)) / (2 * gl.K),  # no centring
    ],
    ids=["1/K", "1/2", "uncentred"],
)
def test_wrong_kl_limit_is_rejected(claim):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._soft_loss_limit(claim).verify()


def test_k2_case_falls_out_by_substitution():
    value = gl.kl_limit_formula().subs(gl.K, 2).doit()
    zs, zt = gl.z_s, gl.z_t
    assert sp.simplify(value - ((zs[1] - zs[2]) - (zt[1] - zt[2])) ** 2 / 8) == 0


# -- wrong variants of the zero-temperature limit -----------------------------------------------------


@pytest.mark.parametrize("tied", [sp.Integer(1), 1 / gl.K, 1 / (gl.m + 1)], ids=["1", "1/K", "1/(m+1)"])
def test_ties_counted_wrong_are_rejected(tied):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._zero_temperature_limit(tied).verify()


# -- wrong variants of the uniform limit and of the gradient's expansion -----------------------------


@pytest.mark.parametrize("limit", [sp.Integer(1), 1 / (2 * gl.K), sp.Integer(0)], ids=["1", "1/(2K)", "0"])
def test_wrong_uniform_limit_is_rejected(limit):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._uniform_limit(limit).verify()


@pytest.mark.parametrize(
    "claim",
    [
        gl.K * gl.centred_gradient_limit(),  # the 1/K dropped (source notes 000 and 003)
        (gl.z_s[gl.i] - gl.z_t[gl.i]) / gl.K,  # the centring dropped (source note 003, section 1.4)
        gl.centred_gradient_limit() / 2,
    ],
    ids=["dropped-1/K", "uncentred", "half"],
)
def test_wrong_gradient_limit_is_rejected(claim):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._soft_gradient_expansion(claim).verify()


def test_gradient_expansion_with_a_wrong_factor_of_T_is_rejected():
    # the T^2 on the loss leaves T on the gradient; T^2 on the gradient itself would diverge
    with pytest.raises(DerivationError, match="does not hold"):
        gl._soft_gradient_expansion(scale=1 / eps**2).verify()


# -- wrong variants of the zero-temperature soft term -----------------------------------------------

_pbar = sp.IndexedBase(r"\bar p", nonnegative=True)
_M = sp.Symbol("M_s", real=True)
_r, _g = sp.Symbol("r", nonnegative=True), sp.Symbol("g", positive=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": gl.sum_k(_pbar[gl.k] * gl.z_s[gl.k]) - _M},  # the perceptron loss with its sign flipped
        {"limit": _M - gl.sum_k(gl.z_s[gl.k]) / gl.K},  # the mean logit instead of the teacher's targets
        {"bound": sp.log(gl.K) + gl.K * _r * sp.exp(-_g / gl.T)},  # a factor of T dropped: no limit
    ],
    ids=["sign", "mean-not-targets", "bound-without-T"],
)
def test_wrong_zero_temperature_soft_term_is_rejected(kwargs):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._zero_temperature_soft_term(**kwargs).verify()


@pytest.mark.parametrize("kwargs", [{"scaled_limit": sp.Integer(1)}, {"unscaled_limit": sp.Symbol(r"\bar q_i", nonnegative=True)}],
                         ids=["scaled-not-zero", "teacher-dropped"])
def test_wrong_zero_temperature_gradients_are_rejected(kwargs):
    with pytest.raises(DerivationError, match="does not hold"):
        gl._zero_temperature_gradients(**kwargs).verify()


# -- numeric cross-checks with K = 7 in float64 -------------------------------------------------------


def _second_order(z, T):
    x = z - z.mean()
    m2 = (x**2).mean()
    K = z.numel()
    e = 1.0 / T
    return 1 / K + e * x / K + e**2 * (x**2 - m2) / (2 * K)


def test_softmax_agrees_with_second_order_expansion_to_order_T_minus_3():
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        z = torch.randn(7, generator=g, dtype=torch.float64) * 2 + 3
        errors = []
        for T in (50.0, 100.0, 200.0):
            q = kdmath.softmax_t(z, T)
            err = (q - _second_order(z, T)).abs().max().item()
            first = (q - (1 / 7 + (z - z.mean()) / (7 * T))).abs().max().item()
            dropped = (q - (1 / 7 + (z - z.mean()) / T)).abs().max().item()  # source 000
            scale = (z - z.mean()).abs().max().item()
            assert err < scale**3 / T**3  # O(T^-3), constant well below 1/6 * scale^3 * 2
            assert first > 10 * err  # the second-order term is what closes the gap
            assert dropped > 0.1 * scale / T  # dropping 1/K is wrong at first order
            errors.append(err)
        # doubling T divides the error by about 8
        for a, b in zip(errors, errors[1:]):
            assert 5 < a / b < 11


def test_scaled_kl_tends_to_general_limit_with_constant_1_over_2K():
    g = torch.Generator().manual_seed(1)
    zs = torch.randn(4, 7, generator=g, dtype=torch.float64)
    zt = torch.randn(4, 7, generator=g, dtype=torch.float64) * 1.5
    d = (zs - zs.mean(-1, keepdim=True)) - (zt - zt.mean(-1, keepdim=True))
    limit = (d**2).sum(-1) / (2 * 7)
    gaps = []
    for T in (100.0, 200.0, 400.0):
        scaled = T**2 * kdmath.kl_divergence(zs, zt, T=T, reduction="none")
        gap = (scaled - limit).abs().max().item()
        assert gap < 5 * limit.max().item() / T  # O(1/T)
        assert (T**2 * kdmath.kl_divergence(zs, zt, T=T, reduction="none") - 2 * limit).abs().min().item() > 0.1 * limit.min().item()
        gaps.append(gap)
    for a, b in zip(gaps, gaps[1:]):
        assert 1.5 < a / b < 2.5  # halves as T doubles


def test_zero_temperature_limit_with_tied_maxima():
    g = torch.Generator().manual_seed(2)
    for m in (1, 2, 3, 7):
        M = 2.0
        gaps = 0.5 + torch.rand(7 - m, generator=g, dtype=torch.float64)
        z = torch.cat([torch.full((m,), M, dtype=torch.float64), M - gaps])
        z = z[torch.randperm(7, generator=g)]
        tied = z == M
        target = tied.double() / m
        wrong = tied.double()  # ties counted as 1 each
        for T in (0.05, 0.02):
            q = kdmath.softmax_t(z, T)
            bound = 7 * math.exp(-0.5 / T)  # R <= (K - m) e^{-g_min/T}
            assert (q - target).abs().max().item() <= bound
            if m > 1:
                assert (q - wrong).abs().max().item() > 0.4
