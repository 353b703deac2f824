"""The checks of source 001's claims (the web note: equations 1-4)."""

from __future__ import annotations

import torch

from ...softmax import softmax_t
from .._finding import CORRECTED, FALSE, VERIFIED, Finding, below, fmt, verified_if
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



def temperature_one_is_softmax_001() -> Finding:
    """001: "T is often set to 1": eq. (1) at T = 1 is the ordinary softmax layer of a network."""
    z = _random_logits((64, 7), seed=71)
    eq1 = torch.exp(z / 1.0) / torch.exp(z / 1.0).sum(-1, keepdim=True)
    worst = (eq1 - torch.softmax(z, dim=-1)).abs().max().item()
    return verified_if(
        worst < 1e-14,
        f"eq. (1) at T = 1 and torch.softmax agree on 64 random logit vectors (largest difference {below(worst, 1e-14, otherwise='.1e')}): "
        "T = 1 is the ordinary softmax, the setting of every network outside distillation",
        worst=worst,
    )


def eq4_from_eq3_001() -> Finding:
    """001: eq. 4 is "eq. 3 simplified" for zero-mean logits; eq. 3 as printed simplifies to half of eq. 4."""
    z, v = _zero_mean(_random_logits((5,), seed=72)), _zero_mean(_random_logits((5,), seed=73))
    N, T = 5, 1e3
    eq4 = (z - v) / (N * T**2)

    def eq3(denominator):
        return ((1 + z / T) / denominator(z) - (1 + v / T) / denominator(v)) / T

    def slope(approximation):  # least-squares factor c in approximation = c * eq4
        return (approximation @ eq4 / (eq4 @ eq4)).item()

    printed = slope(eq3(lambda x: N + torch.exp(x / T).sum()))
    repaired = slope(eq3(lambda x: N + (x / T).sum()))
    if abs(printed - 1) < 1e-2:
        verdict = VERIFIED
    elif abs(repaired - 1) < 1e-2:
        verdict = CORRECTED
    else:
        verdict = FALSE
    return Finding(
        verdict,
        f"zero-mean logits, N = 5, T = 1000: eq. (3) as printed is {fmt(printed, 3)} times eq. (4); "
        f"with the denominators N + sum_j z_j/T it is {fmt(repaired, 3)} times eq. (4)",
        {"printed": printed, "repaired": repaired},
    )
