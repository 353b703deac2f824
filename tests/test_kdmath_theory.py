"""kdmath.theory: conditional mutual information, kernel ridge self-distillation, argmax error."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from kdmath import theory

F64 = torch.float64


def _cmi_reference(joint: np.ndarray) -> float:
    """I(X; S | Y) = H(X|Y) + H(S|Y) - H(X,S|Y), from entropies, in nats."""
    def entropy(p):
        p = p[p > 0]
        return float(-(p * np.log(p)).sum())

    h_xys = entropy(joint.ravel())
    h_xy = entropy(joint.sum(axis=2).ravel())
    h_ys = entropy(joint.sum(axis=0).ravel())
    h_y = entropy(joint.sum(axis=(0, 2)))
    return h_xy + h_ys - h_xys - h_y


@pytest.mark.parametrize("seed", range(5))
def test_conditional_mutual_information_matches_the_entropy_formula(seed):
    rng = np.random.default_rng(seed)
    joint = rng.random((3, 4, 2)) ** 3
    joint[0, 0, 0] = 0.0  # zero cells are allowed
    joint /= joint.sum()
    value = theory.conditional_mutual_information(torch.tensor(joint))
    assert value == pytest.approx(_cmi_reference(joint), abs=1e-12)
    assert value >= -1e-15


def test_conditional_mutual_information_of_independent_variables_is_zero():
    p_y = torch.tensor([0.3, 0.7], dtype=F64)
    p_x_given_y = torch.tensor([[0.2, 0.8], [0.5, 0.5]], dtype=F64)  # [y, x]
    p_s_given_y = torch.tensor([[0.1, 0.9], [0.6, 0.4]], dtype=F64)
    joint = torch.einsum("y,yx,ys->xys", p_y, p_x_given_y, p_s_given_y)
    assert abs(theory.conditional_mutual_information(joint)) < 1e-15


@pytest.mark.parametrize(
    "joint, match",
    [
        ([[[0.5, 0.5]]], "torch.Tensor"),
        (torch.ones(2, 2, dtype=torch.int64), "floating-point"),
        (torch.ones(2, 2, dtype=F64) / 4, "three axes"),
        (torch.full((2, 2, 2), 0.25, dtype=F64), "sum to 1"),
        (torch.tensor([[[1.5, -0.5]]], dtype=F64), "non-negative"),
    ],
)
def test_conditional_mutual_information_rejects_bad_tables(joint, match):
    with pytest.raises((TypeError, ValueError), match=match):
        theory.conditional_mutual_information(joint)


def test_kernel_ridge_self_distillation_matches_the_closed_form():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(15, 2, generator=generator, dtype=F64)
    y = torch.randn(15, generator=generator, dtype=F64)
    x_test = torch.rand(7, 2, generator=generator, dtype=F64)
    y_test = torch.randn(7, generator=generator, dtype=F64)
    ridge, bandwidth = 0.2, 0.7
    errors = theory.kernel_ridge_self_distillation(x, y, x_test, y_test, rounds=4, ridge=ridge, bandwidth=bandwidth)
    gram = torch.exp(-torch.cdist(x, x) ** 2 / (2 * bandwidth**2))
    cross = torch.exp(-torch.cdist(x_test, x) ** 2 / (2 * bandwidth**2))
    inverse = torch.linalg.inv(gram + ridge * torch.eye(15, dtype=F64))
    for k in range(4):
        targets = torch.linalg.matrix_power(gram @ inverse, k) @ y
        expected = ((cross @ inverse @ targets - y_test) ** 2).mean().item()
        assert errors[k] == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"rounds": 0}, "rounds"), ({"ridge": 0.0}, "ridge"), ({"bandwidth": -1.0}, "bandwidth"), ({"rounds": 2.5}, "rounds")],
)
def test_kernel_ridge_self_distillation_rejects_bad_arguments(kwargs, match):
    x = torch.zeros(4, 1, dtype=F64)
    y = torch.zeros(4, dtype=F64)
    arguments = {"rounds": 2, "ridge": 0.1, "bandwidth": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        theory.kernel_ridge_self_distillation(x, y, x, y, **arguments)


def test_kernel_ridge_self_distillation_checks_shapes():
    x = torch.zeros(4, 1, dtype=F64)
    with pytest.raises(ValueError, match="y_train"):
        theory.kernel_ridge_self_distillation(x, torch.zeros(3, dtype=F64), x, torch.zeros(4, dtype=F64), 2, 0.1)


def test_argmax_error_rate():
    probabilities = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.9, 0.1], [0.2, 0.8]], dtype=F64)
    assert theory.argmax_error_rate(probabilities, torch.tensor([0, 0, 0, 1])) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="target"):
        theory.argmax_error_rate(probabilities, torch.tensor([0, 5, 0, 1]))
