"""Helpers shared by the checks of several sources."""

from __future__ import annotations

import torch

from ...losses import hard_cross_entropy, kd_loss, kl_divergence

F64 = torch.float64


def _random_logits(shape, seed, scale=3.0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=generator, dtype=F64)


def _autograd_soft_gradient(z_s, z_t, T, scale=1.0):
    z_s = z_s.clone().requires_grad_(True)
    loss = scale * kl_divergence(z_s, z_t, T=T, reduction="sum")
    (grad,) = torch.autograd.grad(loss, z_s)
    return grad



def _gap_to_kd_loss(hard_weight, soft_weight, book_alpha, seed, T=3.0) -> float:
    """Largest |note's loss - kd_loss| over alpha in (0.1, 0.5, 0.9), the note's loss being
    ``hard_weight(alpha) CE + soft_weight(alpha) T^2 KL`` and the book's taken at ``book_alpha(alpha)``."""
    z_s, z_t = _random_logits((16, 5), seed=seed), _random_logits((16, 5), seed=seed + 1)
    y = torch.arange(16) % 5
    worst = 0.0
    for alpha in (0.1, 0.5, 0.9):
        theirs = hard_weight(alpha) * hard_cross_entropy(z_s, y) + soft_weight(alpha) * T**2 * kl_divergence(z_s, z_t, T=T)
        worst = max(worst, abs(theirs.item() - kd_loss(z_s, z_t, y, T=T, alpha=book_alpha(alpha)).item()))
    return worst
