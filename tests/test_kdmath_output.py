"""kdmath.output: rounded text that reads the same on every machine, bounds, and glue."""

from __future__ import annotations

import math
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from kdmath.output import GLUE_PREFIX, UnstableDigitsWarning, below, fmt, glue, rounded


def _no_warning(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnstableDigitsWarning)
        return function(*args, **kwargs)


def test_rounded_returns_the_shown_digits():
    assert _no_warning(rounded, 0.97809, ".3f") == 0.978
    assert _no_warning(rounded, 0.97809, 3) == 0.978
    assert _no_warning(rounded, 0.97809, ".1%") == 0.978 and repr(rounded(0.97809, ".1%")) == "0.978"
    assert _no_warning(rounded, 12345.6, ",.0f") == 12346 and isinstance(rounded(12345.6, ",.0f"), int)
    assert _no_warning(rounded, 4.212078971625732e-05, ".2e") == 4.21e-05
    assert _no_warning(rounded, 141.2537544622754, ".3g") == 141.0
    assert _no_warning(rounded, -1e-12, ".4f") == 0.0 and math.copysign(1, rounded(-1e-12, ".4f")) == 1


def test_fmt_writes_numbers_and_sequences():
    assert _no_warning(fmt, 0.97809, 3) == "0.978"
    assert _no_warning(fmt, [0.5, -1e-9], 2) == "[0.50, 0.00]"
    assert _no_warning(fmt, (0.5, 0.24), 1, brackets="()") == "(0.5, 0.2)"
    assert _no_warning(fmt, torch.tensor([[1.0, 2.0]], dtype=torch.float64), ".1f") == "[1.0, 2.0]"
    assert _no_warning(fmt, np.array([0.123456]), ".2e") == "[1.23e-01]"
    assert _no_warning(fmt, 0.5, ">8.2f") == "    0.50"
    assert _no_warning(fmt, torch.tensor(0.25, dtype=torch.float64), 3) == "0.250"
    assert _no_warning(fmt, {"a": 0.5, "b": 2.0}.values(), ".1f") == "[0.5, 2.0]"
    assert _no_warning(fmt, (x / 4 for x in range(1, 3)), 2) == "[0.25, 0.50]"
    assert _no_warning(fmt, 2.0, "g") == "2" and _no_warning(rounded, 20.0, "g") == 20.0


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), st.integers(0, 6))
def test_text_far_from_a_boundary_is_the_same_under_any_perturbation_within_noise(x, decimals):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text = fmt(x, decimals)
        if not caught:
            for factor in (1 - 1e-9, 1 + 1e-9, 1 - 5e-10, 1 + 5e-10):
                assert fmt(x * factor, decimals) == text, (x, factor)


def test_a_value_on_a_rounding_boundary_warns():
    with pytest.warns(UnstableDigitsWarning, match="rounding boundary"):
        fmt(0.12345000000000001, 4)
    with pytest.warns(UnstableDigitsWarning):
        rounded(0.5 + 1e-12, ".0f")
    with pytest.warns(UnstableDigitsWarning):  # a fitted slope, ill-conditioned: a larger noise
        rounded(-0.98844155, ".6f", noise=1e-6)
    _no_warning(rounded, -0.98844155, ".6f")  # at the default noise it is far enough


def test_float32_values_get_a_noise_scaled_to_their_precision():
    value = torch.tensor(0.1234502, dtype=torch.float32)  # 2e-7 from a boundary of '.4f', relative 1.6e-6
    with pytest.warns(UnstableDigitsWarning):
        fmt(value, 4)
    _no_warning(fmt, value.double().item(), 4)  # as a Python float the default noise, 1e-9, applies


def test_below_prints_a_bound_and_asserts_it():
    assert below(4.0e-15, 1e-12) == "below 1e-12"
    assert below(-3e-13, 1e-12) == "below 1e-12"
    with pytest.raises(AssertionError, match="not below"):
        below(2e-12, 1e-12)
    with pytest.raises(ValueError, match="bound"):
        below(0.0, 0.0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: rounded("0.5"), TypeError, "value must be a real number"),
        (lambda: rounded(True), TypeError, "value must be a real number"),
        (lambda: rounded(float("nan")), ValueError, "value must be finite"),
        (lambda: rounded(torch.ones(2)), TypeError, "single number"),
        (lambda: rounded(0.5, ".4"), ValueError, "spec must look like"),
        (lambda: rounded(0.5, ".4d"), ValueError, "spec must look like"),
        (lambda: rounded(0.5, -1), ValueError, "spec must be a non-negative"),
        (lambda: rounded(0.5, 2.0), TypeError, "spec must be a format"),
        (lambda: rounded(0.5, ".2f", noise=2.0), ValueError, "noise must be"),
        (lambda: fmt([0.5], 2, brackets="["), ValueError, "brackets"),
        (lambda: below("x", 1.0), TypeError, "value must be a real number"),
        (lambda: glue("", 1), TypeError, "name must be"),
        (lambda: glue("x", 1, display=1), TypeError, "display must be"),
        (lambda: glue("x", 0.25), ValueError, "needs the format"),
        (lambda: glue("x", torch.tensor(0.25)), ValueError, "needs the format"),
    ],
)
def test_bad_input_is_refused_with_a_named_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def _captured_glue(monkeypatch, use_myst_nb: bool, *args, **kwargs):
    """The display call that glue makes: (bundle, metadata)."""
    import IPython.display

    calls = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: calls.append((a, k)))
    import myst_nb.ext.glue as myst_glue_module

    monkeypatch.setattr(myst_glue_module, "ipy_display", lambda *a, **k: calls.append((a, k)))
    if not use_myst_nb:
        monkeypatch.setitem(sys.modules, "myst_nb", None)  # import myst_nb now raises ImportError
    glue(*args, **kwargs)
    assert len(calls) == 1
    (bundle,), keywords = calls[0]
    assert keywords["raw"] is True
    return bundle, keywords["metadata"]


@pytest.mark.parametrize(
    "args, stored",
    [
        (("ch0-float", 0.97809, ".3f"), "0.978"),
        (("ch0-tensor", torch.tensor(2.0 / 3.0, dtype=torch.float64), ".1%"), "0.667"),
        (("ch0-int", np.int64(82)), "82"),
        (("ch0-text", "1, 2, 2.5"), "'1, 2, 2.5'"),
        (("ch0-fraction", Fraction(3, 7)), "Fraction(3, 7)"),
        (("ch0-rounded-fraction", Fraction(12, 5), ".1f"), "2.4"),
    ],
)
def test_glue_stores_the_rounded_value_with_or_without_myst_nb(monkeypatch, args, stored):
    pytest.importorskip("myst_nb")
    with_myst = _captured_glue(monkeypatch, True, *args)
    monkeypatch.undo()
    without_myst = _captured_glue(monkeypatch, False, *args)
    assert with_myst == without_myst, "kdmath's glue writes what myst-nb's does"
    bundle, metadata = without_myst
    assert bundle == {GLUE_PREFIX + "text/plain": stored}
    assert metadata["scrapbook"] == {"name": args[0], "mime_prefix": GLUE_PREFIX}
