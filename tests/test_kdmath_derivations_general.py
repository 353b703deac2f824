"""The symbolic-K derivations hold for every K, reject wrong algebra, and agree with the concrete-K ones."""

from __future__ import annotations

import pytest
import sympy as sp
import torch

from kdmath import kd_loss
from kdmath.derivations import DerivationError, general_gradients as g, soft_gradient, temperature, verify_for
from kdmath.derivations._symbols import T, alpha, logits
from kdmath.softmax import entropy_t, entropy_t_dT, softmax_t_jacobian

K, i, j, y, z, u = g.K, g.i, g.j, g.y, g.z, g.u
q = lambda a: g.softmax(a, z)
p = lambda a: g.softmax(a, u)
q1 = lambda a: g.softmax(a, z, 1)
delta = sp.KroneckerDelta

BUILDERS = [g.jacobian, g.soft_target_gradient, g.combined_gradient, g.entropy_derivative]


@pytest.mark.parametrize("build", BUILDERS)
def test_general_derivation_verifies_for_symbolic_K(build):
    record = verify_for(build, K=None)
    assert record.Ks == ()
    assert "for every K" in record.title
    d = build()
    assert all(isinstance(s, g.GeneralStep) for s in d.steps)
    # K is symbolic: no step is written out for a particular number of classes
    assert any(K in (s.lhs - s.rhs).free_symbols or s.lhs.has(K) for s in d.steps)


def _rejected(derivation, step=None):
    with pytest.raises(DerivationError, match="does not hold"):
        derivation.verify()


@pytest.mark.parametrize(
    "wrong",
    [
        lambda a, b: T * q(a) * (delta(a, b) - q(b)),  # T instead of 1/T
        lambda a, b: -q(a) * (delta(a, b) - q(b)) / T,  # wrong sign
        lambda a, b: q(a) * (delta(a, b) - q(b)) / T**2,  # wrong power of T
        lambda a, b: q(a) * (delta(a, b) - 1 / K) / T,  # q_j replaced by the uniform 1/K
    ],
    ids=["T-not-1/T", "sign", "T^2", "uniform-q_j"],
)
def test_wrong_jacobian_is_rejected(wrong):
    _rejected(g.jacobian(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda b: T * (q(b) - p(b)),  # T instead of 1/T (that is the T^2-scaled gradient)
        lambda b: (p(b) - q(b)) / T,  # wrong sign
        lambda b: (q(b) - p(b)) / T - (q(b) - 1 / K) / (K * T),  # a spurious 1/K centring term
    ],
    ids=["T-not-1/T", "sign", "extra-1/K"],
)
def test_wrong_soft_target_gradient_is_rejected(wrong):
    _rejected(g.soft_target_gradient(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda b: (1 - alpha) * (q1(b) - delta(b, y)) + alpha * (q(b) - p(b)) / T,  # T^2 factor missing
        lambda b: (1 - alpha) * (q1(b) - delta(b, y)) + alpha * T**2 * (q(b) - p(b)),  # wrong power
        lambda b: (1 - alpha) * (q1(b) - delta(b, y)) + alpha * T * (p(b) - q(b)),  # wrong sign, soft term
        lambda b: (1 - alpha) * (delta(b, y) - q1(b)) + alpha * T * (q(b) - p(b)),  # wrong sign, hard term
        lambda b: alpha * (q1(b) - delta(b, y)) + (1 - alpha) * T * (q(b) - p(b)),  # weights swapped
    ],
    ids=["no-T^2", "T^2-not-T", "soft-sign", "hard-sign", "weights-swapped"],
)
def test_wrong_combined_gradient_is_rejected(wrong):
    _rejected(g.combined_gradient(wrong))


@pytest.mark.parametrize(
    "wrong",
    [
        lambda m2, m1: (m2 - m1**2) / T**2,  # wrong power of T
        lambda m2, m1: (m2 - m1**2) * T**3,  # T^3 instead of 1/T^3
        lambda m2, m1: m2 / T**3,  # second moment not centred
        lambda m2, m1: (m1**2 - m2) / T**3,  # wrong sign
    ],
    ids=["T^2", "T^3", "uncentred", "sign"],
)
def test_wrong_entropy_derivative_is_rejected(wrong):
    # only the chain-rule step uses the closed form; checking it alone keeps the test fast
    (step,) = [s for s in g.entropy_derivative(wrong).steps if s.text.startswith("Chain rule")]
    _rejected(g.Derivation("entropy derivative, wrong closed form", [step]))


def test_general_steps_reject_wrong_sums_and_signs():
    k = g.k
    S = g.normaliser()
    # a dropped normalisation: sum_i e^{z_i/T} is S, not 1
    bad = g.Derivation("sum of unnormalised weights")
    g._add(bad, "wrong", sp.Sum(sp.exp(z[i] / T), (i, 1, K)), 1)
    _rejected(bad)
    ok = g.Derivation("sum of q")
    g._add(ok, "right", sp.Sum(q(i), (i, 1, K)), 1)
    ok.verify()
    # column sum with the delta term dropped is -q_j, not 0
    bad = g.Derivation("column sum")
    g._add(bad, "wrong", sp.Sum(-q(i) * q(j) / T, (i, 1, K)), 0, within=j)
    _rejected(bad)
    # a sum with weights of unknown sign is not provably non-negative
    c = sp.IndexedBase("c", real=True)
    bad = g.Derivation("sign")
    g._add(bad, "wrong", sp.Sum(c[k] * z[k] ** 2, (k, 1, K)), 0, ">=")
    _rejected(bad)
    assert S.has(K)


def _at_K(expr, n, names, **idx):
    """``expr`` at indices ``idx`` and K = n, sums expanded, IndexedBase entries mapped to concrete symbols."""
    expr = expr.subs({g.__dict__[name]: v for name, v in idx.items()}).subs(K, n).doit()
    mapping = {}
    for base, symbols in names.items():
        for idx, symbol in enumerate(symbols, start=1):
            mapping[base[idx]] = symbol
    return expr.xreplace(mapping)


def test_K3_substitution_agrees_with_concrete_derivations():
    zc = logits("z", 3)
    qc = [sp.exp(a / T) / sum(sp.exp(b / T) for b in zc) for a in zc]
    for a in (1, 2, 3):
        for b in (1, 2, 3):
            general = _at_K(sp.diff(q(i), z[j]), 3, {z: zc}, i=a, j=b)
            concrete = sp.diff(qc[a - 1], zc[b - 1])
            assert sp.simplify(general - concrete) == 0
    # the concrete derivations state the same closed form
    concrete_J = temperature.jacobian(3).steps[0].rhs
    for a in (1, 2, 3):
        for b in (1, 2, 3):
            closed = _at_K(q(i) * (delta(i, j) - q(j)) / T, 3, {z: zc}, i=a, j=b)
            assert sp.simplify(closed - concrete_J[a - 1, b - 1]) == 0
    zs, zt = logits("z_{s", 3), logits("z_{t", 3)
    combined = soft_gradient.combined_gradient(3, label=0).steps[0].rhs
    closed = (1 - alpha) * (q1(j) - delta(j, y)) + alpha * T * (q(j) - p(j))
    for b in (1, 2, 3):
        general = _at_K(closed, 3, {z: zs, u: zt}, j=b, y=1)
        assert sp.simplify(general - combined[b - 1]) == 0


def test_K5_numbers_agree_with_kdmath():
    torch.manual_seed(0)
    n, Tv, av, label = 5, 2.5, 0.3, 2
    zs = torch.randn(n, dtype=torch.float64) * 2
    zt = torch.randn(n, dtype=torch.float64) * 2
    values = {z[a + 1]: float(zs[a]) for a in range(n)} | {u[a + 1]: float(zt[a]) for a in range(n)}
    values |= {T: Tv, alpha: av}

    def number(expr, **idx):
        return float(expr.subs({getattr(g, name): v for name, v in idx.items()}).subs(K, n).doit().subs(values).evalf())

    J = softmax_t_jacobian(zs, Tv)
    for a in range(n):
        for b in range(n):
            got = number(q(i) * (delta(i, j) - q(j)) / T, i=a + 1, j=b + 1)
            assert abs(got - float(J[a, b])) < 1e-12

    student = zs.clone().requires_grad_(True)
    loss = kd_loss(student[None], zt[None], torch.tensor([label]), T=Tv, alpha=av, reduction="sum")
    (grad,) = torch.autograd.grad(loss, student)
    closed = (1 - alpha) * (q1(j) - delta(j, y)) + alpha * T * (q(j) - p(j))
    for b in range(n):
        assert abs(number(closed, j=b + 1, y=label + 1) - float(grad[b])) < 1e-12

    mean_q = sp.Sum(q(i) * z[i], (i, 1, K))
    variance = sp.Sum(q(i) * (z[i] - mean_q) ** 2, (i, 1, K)) / T**3
    assert abs(number(variance) - float(entropy_t_dT(zs, Tv))) < 1e-12
    h = 1e-4  # central difference of the entropy itself, error O(h^2)
    dH = (float(entropy_t(zs, Tv + h)) - float(entropy_t(zs, Tv - h))) / (2 * h)
    assert abs(number(variance) - dH) < 1e-7
