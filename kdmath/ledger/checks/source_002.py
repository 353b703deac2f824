"""The checks of source 002's claims (the explainer's combined loss)."""

from __future__ import annotations

import torch

from ...gradients import kd_grad
from ...losses import hard_cross_entropy, kd_loss, kl_divergence, soft_cross_entropy
from ...softmax import entropy_t
from .._finding import Finding, below, fmt, verified_if
from ._common import _autograd_soft_gradient, _random_logits


def alpha_on_hard_term_002() -> Finding:
    """002 weights the hard term by alpha: its loss at alpha is the book's at 1 - alpha."""
    z_s, z_t = _random_logits((16, 5), seed=24), _random_logits((16, 5), seed=25)
    y = torch.arange(16) % 5
    worst = 0.0
    for alpha_002 in (0.1, 0.5, 0.9):
        T = 3.0
        theirs = alpha_002 * hard_cross_entropy(z_s, y) + (1 - alpha_002) * T**2 * kl_divergence(z_s, z_t, T=T)
        ours = kd_loss(z_s, z_t, y, T=T, alpha=1 - alpha_002)
        worst = max(worst, abs(theirs.item() - ours.item()))
    return verified_if(worst < 1e-12, f"002's loss at alpha equals the book's at 1 - alpha: largest difference {below(worst, 1e-12, otherwise='.1e')}")


def kl_or_cross_entropy_002() -> Finding:
    z_s, z_t = _random_logits((16, 5), seed=26), _random_logits((16, 5), seed=27)
    T = 3.0
    gap = (T**2 * soft_cross_entropy(z_s, z_t, T=T) - T**2 * kl_divergence(z_s, z_t, T=T)).item()
    entropy = (T**2 * entropy_t(z_t, T).mean()).item()
    g_kl = _autograd_soft_gradient(z_s, z_t, T, scale=T**2)
    student = z_s.clone().requires_grad_(True)
    (g_ce,) = torch.autograd.grad(T**2 * soft_cross_entropy(student, z_t, T=T, reduction="sum"), student)
    same_gradient = torch.allclose(g_kl, g_ce, atol=1e-12)
    return verified_if(
        same_gradient and abs(gap - entropy) < 1e-10,
        f"same gradient (to 1e-12); the values differ by T^2 H(p) = {fmt(entropy, 4)} per example",
    )


def t_squared_balances_002() -> Finding:
    """002: "the T^2 term ensures the gradient magnitudes are balanced"."""
    z_s, z_t = _random_logits((256, 10), seed=28), _random_logits((256, 10), seed=29)
    y = torch.arange(256) % 10
    hard = kd_grad(z_s, z_t, y, T=1.0, alpha=0.0, reduction="sum").norm().item()
    ratios = {T: kd_grad(z_s, z_t, T=T, alpha=1.0, reduction="sum").norm().item() / hard for T in (1.0, 5.0, 20.0, 100.0)}
    balanced = max(ratios.values()) / min(ratios.values()) < 1.1
    return verified_if(
        balanced,
        "soft over hard gradient norm with T^2: " + ", ".join(f"{fmt(r, 3)} at T = {T:g}" for T, r in ratios.items())
        + ": of order 1 as T grows (without T^2 it would fall like 1/T^2), but not equal to the hard term's",
        ratios=ratios,
    )

