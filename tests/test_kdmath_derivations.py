"""The sympy derivations hold, and the checker rejects wrong algebra."""

from __future__ import annotations

import pytest
import sympy as sp

from kdmath.derivations import (
    Derivation,
    DerivationError,
    high_temperature,
    soft_gradient,
    temperature,
    zero_temperature,
)
from kdmath.derivations._symbols import T, eps, logits, softmax


@pytest.mark.parametrize("K", [2, 3, 4])
def test_generic_K_derivations(K):
    temperature.jacobian(K).verify()
    temperature.high_temperature_limit(K).verify()
    soft_gradient.soft_target_gradient(K).verify()
    high_temperature.softmax_expansion(K).verify()


@pytest.mark.parametrize(
    "build",
    [
        temperature.zero_temperature_limit,
        temperature.entropy_monotonicity,
        soft_gradient.combined_gradient,
        high_temperature.gradient_expansion,
        high_temperature.soft_loss_limit,
        zero_temperature.soft_term_limits,
    ],
)
def test_chapter_derivations(build):
    d = build()
    assert d.steps, "a derivation must have steps"
    d.verify()


def test_wrong_jacobian_factor_is_rejected():
    z = logits("z", 3)
    q = softmax(z, T)
    wrong = Derivation("Jacobian with T instead of 1/T").add(
        "wrong", sp.diff(q[0], z[1]), T * q[0] * (-q[1])
    )
    with pytest.raises(DerivationError, match="does not hold"):
        wrong.verify()


def test_source_000_expansion_is_rejected():
    """Source note 000 drops the 1/K from the first-order term of the softmax."""
    z = logits("z", 3)
    q = softmax(z, 1 / eps)
    claim = sp.Rational(1, 3) + eps * (z[0] - sum(z) / 3) + sp.O(eps**2)
    with pytest.raises(DerivationError):
        Derivation("source 000").add("p_i ~ 1/n + (v_i - mean v)/T", q[0], claim, "~").verify()


def test_wrong_inequality_and_undecidable_steps_fail():
    x = sp.Symbol("x", real=True)
    with pytest.raises(DerivationError):
        Derivation("not non-negative").add("x >= 0 for all real x", x, 0, ">=").verify()
    a = sp.Symbol("a", real=True)
    with pytest.raises(DerivationError):
        # the limit depends on the sign of a, which sympy cannot know
        Derivation("undecidable").add("limit", sp.Limit(sp.exp(a * T), T, sp.oo), 0).verify()


def test_limit_to_infinity_is_compared_exactly():
    Derivation("oo").add("diverges", sp.Limit(T, T, sp.oo), sp.oo).verify()
    with pytest.raises(DerivationError):
        Derivation("oo").add("does not converge to 1", sp.Limit(T, T, sp.oo), 1).verify()
