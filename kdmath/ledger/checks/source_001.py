"""The checks of source 001's claims (the web note: equations 1-4)."""

from __future__ import annotations

import torch

from ...softmax import softmax_t
from .._finding import Finding, below, fmt, verified_if
from ._common import _random_logits
from .source_000 import _ratio_to_soft_gradient
from .source_003 import _zero_mean


def temperature_softmax_definition() -> Finding:
    z = _random_logits((64, 7), seed=1)
    worst = 0.0
    for T in (0.3, 1.0, 4.0, 50.0):
        direct = torch.exp(z / T) / torch.exp(z / T).sum(-1, keepdim=True)
        worst = max(worst, (softmax_t(z, T) - direct).abs().max().item())
    return verified_if(worst < 1e-12, f"`softmax_t` and exp(z/T)/sum exp(z/T) agree: largest difference {below(worst, 1e-12, otherwise='.1e')}", worst=worst)


def eq3_denominator_001() -> Finding:
    """001 eq. 3 puts N + sum_j e^{z_j/T} in the denominator, where the expansion gives N + sum_j z_j/T."""
    z, v = _zero_mean(_random_logits((5,), seed=15)), _zero_mean(_random_logits((5,), seed=16))
    N, T = 5, 1e3
    eq3 = ((1 + z / T) / (N + torch.exp(z / T).sum()) - (1 + v / T) / (N + torch.exp(v / T).sum())) / T
    ratio = _ratio_to_soft_gradient(eq3, z, v, T)
    return verified_if(abs(ratio - 1) < 1e-2, f"eq. 3 over the true gradient: {fmt(ratio, 4)} at T = 1000 (zero-mean logits)", ratio=ratio)


def eq4_zero_mean_001() -> Finding:
    z, v = _zero_mean(_random_logits((5,), seed=17)), _zero_mean(_random_logits((5,), seed=18))
    N, T = 5, 1e3
    ratio = _ratio_to_soft_gradient((z - v) / (N * T**2), z, v, T)
    return verified_if(abs(ratio - 1) < 1e-2, f"eq. 4 over the true gradient: {fmt(ratio, 4)} at T = 1000 (zero-mean logits)")

