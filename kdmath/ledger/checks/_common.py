"""Helpers shared by the checks of several sources."""

from __future__ import annotations

import torch

from ...losses import kl_divergence

F64 = torch.float64


def _random_logits(shape, seed, scale=3.0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=generator, dtype=F64)


def _autograd_soft_gradient(z_s, z_t, T, scale=1.0):
    z_s = z_s.clone().requires_grad_(True)
    loss = scale * kl_divergence(z_s, z_t, T=T, reduction="sum")
    (grad,) = torch.autograd.grad(loss, z_s)
    return grad

