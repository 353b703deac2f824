"""The temperature softmax: agreement with a float64 reference, stability, limits, Jacobian, entropy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import kdmath

from . import reference

temperatures = st.floats(min_value=-4, max_value=4).map(lambda e: 10.0**e)
float32_logits = hnp.arrays(
    np.float32,
    hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    elements=st.floats(-1e4, 1e4, width=32),
)


@settings(max_examples=300, deadline=None)
@given(z=float32_logits, T=temperatures)
def test_softmax_t_matches_float64_reference_and_stays_finite(z, T):
    got_log = kdmath.log_softmax_t(torch.from_numpy(z), T)
    got = kdmath.softmax_t(torch.from_numpy(z), T)
    assert got.dtype == torch.float32
    assert torch.isfinite(got_log).all() and torch.isfinite(got).all()
    want_log = reference.log_softmax_t(z, T)
    want = np.exp(want_log)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(got_log.numpy(), want_log, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got.numpy().sum(-1), 1.0, rtol=0, atol=1e-5)


@settings(max_examples=100, deadline=None)
@given(z=hnp.arrays(np.float64, (4, 5), elements=st.floats(-50, 50)), T=temperatures)
def test_softmax_t_float64_agrees_to_near_rounding(z, T):
    # the reference divides before shifting, so it carries an error of about |z|/T * 2e-16 itself
    got = kdmath.softmax_t(torch.from_numpy(z), T).numpy()
    np.testing.assert_allclose(got, reference.softmax_t(z, T), rtol=1e-9, atol=1e-300)


def test_extreme_corners_are_finite():
    z = torch.tensor([[1e4, -1e4, 0.0], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=torch.float32)
    for T in (1e-4, 1e4):
        logq = kdmath.log_softmax_t(z, T)
        assert torch.isfinite(logq).all(), T
    q = kdmath.softmax_t(z, 1e-4)
    torch.testing.assert_close(q[0], torch.tensor([1.0, 0.0, 0.0]))
    torch.testing.assert_close(q[1], torch.tensor([0.5, 0.5, 0.0]))
    torch.testing.assert_close(q[2], torch.full((3,), 1 / 3))


def test_limits_in_temperature():
    z = torch.tensor([2.0, -1.0, 2.0, 0.5], dtype=torch.float64)
    torch.testing.assert_close(kdmath.softmax_t(z, 1e-3), torch.tensor([0.5, 0.0, 0.5, 0.0], dtype=torch.float64))
    uniform_gap = (kdmath.softmax_t(z, 1e6) - 0.25).abs().max().item()
    assert uniform_gap < 1e-5


def test_dim_argument_and_half_precision():
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(kdmath.softmax_t(z, 2.0, dim=0), torch.softmax(z / 2.0, dim=0))
    half = kdmath.softmax_t(z.to(torch.bfloat16), 2.0)
    assert half.dtype == torch.float32


def test_jacobian_matches_autograd():
    g = torch.Generator().manual_seed(1)
    z = torch.randn(2, 5, dtype=torch.float64, generator=g) * 3
    for T in (0.3, 1.0, 7.0):
        closed = kdmath.softmax_t_jacobian(z, T)
        for n in range(z.shape[0]):
            auto = torch.autograd.functional.jacobian(lambda v: kdmath.softmax_t(v, T), z[n])
            torch.testing.assert_close(closed[n], auto, rtol=1e-12, atol=1e-14)


def test_entropy_derivative_matches_finite_difference_and_is_nonnegative():
    g = torch.Generator().manual_seed(2)
    z = torch.randn(6, 5, dtype=torch.float64, generator=g) * 4
    for T in (0.2, 1.0, 3.0, 30.0):
        h = 1e-5 * T
        numeric = (kdmath.entropy_t(z, T + h) - kdmath.entropy_t(z, T - h)) / (2 * h)
        closed = kdmath.entropy_t_dT(z, T)
        torch.testing.assert_close(closed, numeric, rtol=1e-6, atol=1e-9)
        assert (closed >= 0).all()
    equal = torch.full((1, 4), 1.5, dtype=torch.float64)
    assert kdmath.entropy_t_dT(equal, 2.0).item() == pytest.approx(0.0, abs=1e-15)
    assert kdmath.entropy_t(equal, 2.0).item() == pytest.approx(math.log(4))


@pytest.mark.parametrize("T", [0.5, 1.0, 4.0])
def test_logits_for_inverts_the_temperature_softmax(T):
    p = torch.tensor([[0.6, 0.3, 0.1], [0.25, 0.25, 0.5]], dtype=torch.float64)
    z = kdmath.logits_for(p, T)
    torch.testing.assert_close(kdmath.softmax_t(z, T), p, rtol=1e-14, atol=0)
    torch.testing.assert_close(torch.exp(z / T).sum(-1), torch.ones(2, dtype=torch.float64), rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "probabilities, T, error, name",
    [
        ([0.5, 0.5, 0.0], 1.0, ValueError, "probabilities"),
        ([0.5, 0.6], 1.0, ValueError, "sum to 1"),
        ([1.0], 1.0, ValueError, "two classes"),
        ("0.5", 1.0, TypeError, "probabilities"),
        ([0.5, 0.5], 0.0, ValueError, "T"),
    ],
)
def test_logits_for_rejects_bad_input(probabilities, T, error, name):
    with pytest.raises(error, match=name):
        kdmath.logits_for(probabilities, T)
