"""The checks of source 000's claims (the soft-target gradient and its high-temperature limit)."""

from __future__ import annotations

import torch

from ...softmax import softmax_t
from .._finding import Finding, below, fmt, verified_if
from ._common import _autograd_soft_gradient, _random_logits


def soft_gradient() -> Finding:
    z_s, z_t = _random_logits((8, 5), seed=5), _random_logits((8, 5), seed=6)
    worst = 0.0
    for T in (0.5, 1.0, 4.0, 20.0):
        closed = (softmax_t(z_s, T) - softmax_t(z_t, T)) / T
        worst = max(worst, (_autograd_soft_gradient(z_s, z_t, T) - closed).abs().max().item())
    return verified_if(worst < 1e-12, f"(q - p)/T matches autograd of KL(p || q) for T in 0.5..20: largest difference {below(worst, 1e-12, otherwise='.1e')}")


def expansion_missing_1_over_K() -> Finding:
    """000: p_i ~ 1/n + (v_i - mean v)/T, without the 1/n on the second term."""
    v = _random_logits((6,), seed=12)
    n, T = 6, 1e4
    slope = ((softmax_t(v, T) - 1 / n) * T / (v - v.mean())).mean().item()
    return verified_if(
        abs(slope - 1.0) < 1e-3,
        f"T (p_i - 1/n) / (v_i - mean v) = {fmt(slope, 5)} at T = 10^4: the coefficient is 1/n = {fmt(1 / n, 5)}, not 1",
        slope=slope,
    )


def _ratio_to_soft_gradient(approximation, z, v, T) -> float:
    """Mean ratio of ``approximation`` to the exact soft gradient (sigma_T(z) - sigma_T(v)) / T."""
    return (approximation / ((softmax_t(z, T) - softmax_t(v, T)) / T)).mean().item()


def gradient_limit_000() -> Finding:
    """000: dC/dz_i ~ (1/T^2)(z_i - v_i - mean(z - v)); the true coefficient is 1/(n T^2)."""
    z, v = _random_logits((6,), seed=13), _random_logits((6,), seed=14)
    T = 1e4  # n = 6 classes
    ratio = _ratio_to_soft_gradient((z - v - (z - v).mean()) / T**2, z, v, T)
    return verified_if(abs(ratio - 1) < 1e-2, f"the note's approximation over the gradient is {fmt(ratio, 3)} at T = 10^4, n = 6", ratio=ratio)



def taylor_exponential_000() -> Finding:
    """000: e^x ~ 1 + x for small x, applied to x = z_i/T; the error is x^2/2 + O(x^3)."""
    x = torch.tensor([1e-2, 1e-3, 1e-4], dtype=torch.float64)
    scaled_error = ((torch.exp(x) - 1 - x) / x**2).tolist()
    ok = all(abs(r - 0.5) < x_i for r, x_i in zip(scaled_error, x.tolist()))
    return verified_if(ok, "(e^x - 1 - x) / x^2 tends to 1/2 as x = z_i/T tends to 0 "
                           f"({', '.join(fmt(r, 3) for r in scaled_error)} at x = 10^-2, 10^-3, 10^-4): the error is second order")


def difference_missing_1_over_K() -> Finding:
    """000: q_i - p_i ~ (1/T)((z_i - mean z) - (v_i - mean v)), without the 1/n."""
    z, v = _random_logits((6,), seed=15), _random_logits((6,), seed=16)
    n, T = 6, 1e4
    exact = softmax_t(z, T) - softmax_t(v, T)
    stated = ((z - z.mean()) - (v - v.mean())) / T
    ratio = (exact / stated).mean().item()
    return verified_if(abs(ratio - 1) < 1e-2, f"the exact difference over the note's is {fmt(ratio, 4)} at T = 10^4, n = 6: "
                                              f"it is 1/n = {fmt(1 / n, 4)}", ratio=ratio)
