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


# K = 2 and 3 as examples of the written-out derivations; the general modules prove every K
# (tests/test_kdmath_derivations_general*.py).
@pytest.mark.parametrize("K", [2, 3])
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


def test_vector_series_step_checks_every_entry():
    """A series step over a vector holds only when every entry does."""
    z = logits("z", 3)
    q = softmax(z, 1 / eps)
    zbar = sum(z) / 3
    right = [sp.Rational(1, 3) + eps * (zi - zbar) / 3 + sp.O(eps**2) for zi in z]
    Derivation("vector").add("expansion", sp.Matrix(q), sp.Matrix(right), "~").verify()
    wrong = right[:2] + [sp.Rational(1, 3) + eps * (z[2] - zbar) + sp.O(eps**2)]  # drops the 1/K
    with pytest.raises(DerivationError):
        Derivation("vector").add("expansion", sp.Matrix(q), sp.Matrix(wrong), "~").verify()


def test_show_states_each_repeated_sentence_once(monkeypatch):
    shown = []
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    x = sp.Symbol("x")
    d = Derivation("d").add("one", x, x).add("same", x, x).add("same", 2 * x, 2 * x).add("other", x, x)
    d.show()
    headings = [obj.data for obj in shown if isinstance(obj, IPython.display.Markdown)]
    assert headings == ["**Step 1.** one", "**Steps 2–3.** same", "**Step 4.** other"]
    assert sum(isinstance(obj, IPython.display.Math) for obj in shown) == 4
    with pytest.raises(ValueError, match="only"):
        d.show(only=[5])


def test_display_only_names_with_latex_are_braced():
    name = sp.Symbol(r"\sum_i q_i z_i")
    step = Derivation("d").add("s", name, name).steps[0]
    assert r"{\sum_i q_i z_i}" in step.latex()


def test_verify_for_says_what_it_checked_and_raises_on_wrong_algebra():
    from kdmath.derivations import verify_for

    record = verify_for(temperature.high_temperature_limit, K=(2, 3))
    text = record._repr_markdown_()
    assert record.Ks == (2, 3) and record.steps == len(temperature.high_temperature_limit(3).steps)
    assert "K = 2, 3" in text and "High-temperature limit of the softmax" in text and "(K = " not in text
    assert "simplifies the difference" in text

    def wrong(K):
        z = logits("z", K)
        return Derivation(f"wrong (K = {K})").add("w", sp.diff(softmax(z, T)[0], z[0]), 0)

    with pytest.raises(DerivationError):
        verify_for(wrong, K=(2, 3))
    with pytest.raises(ValueError, match="K"):
        verify_for(temperature.jacobian, K=(1,))
    with pytest.raises(TypeError, match="build"):
        verify_for("jacobian")
    assert verify_for(temperature.zero_temperature_limit, K=None).Ks == ()


def test_verify_for_says_every_K_for_a_symbolic_K_and_counts_stated_rules():
    from kdmath.derivations import general_limits, verify_for

    general = verify_for(general_limits.zero_temperature_limit, K=None)
    text = general._repr_markdown_()
    assert general.symbolic_K and "for every K" in text and "case written out" not in text
    assert general.stated_rules >= 1 and "rules stated in their text" in text
    concrete = verify_for(temperature.zero_temperature_limit, K=None)
    assert not concrete.symbolic_K and concrete.stated_rules == 0
    assert "case written out" in concrete._repr_markdown_() and "stated" not in concrete._repr_markdown_()
