"""The checks of source 002's claims (the explainer's combined loss)."""

from __future__ import annotations

import math

import torch

from ...gradients import kd_grad
from ...losses import kl_divergence, soft_cross_entropy
from ...softmax import entropy_t
from .._finding import FALSE, VACUOUS, Finding, below, fmt, verified_if
from ._common import _autograd_soft_gradient, _gap_to_kd_loss, _random_logits


def alpha_on_hard_term_002() -> Finding:
    """002 weights the hard term by alpha: its loss at alpha is the book's at 1 - alpha."""
    worst = _gap_to_kd_loss(lambda a: a, lambda a: 1 - a, lambda a: 1 - a, seed=24)
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



def compression_by_construction_002() -> Finding:
    """002: distillation reduces size and inference time; it does, by the student's widths alone."""
    from ...costs import projection_flops
    from ...models import MLP

    def counts(hidden):
        widths = (784, *hidden, 10)
        pairs = list(zip(widths[:-1], widths[1:]))
        params = sum((d_in + 1) * d_out for d_in, d_out in pairs)
        flops = sum(projection_flops(d_in, d_out) for d_in, d_out in pairs)
        return params, flops, sum(p.numel() for p in MLP(hidden=hidden).parameters())

    teacher, student = counts((1200, 1200)), counts((800, 800))
    by_widths = teacher[0] == teacher[2] and student[0] == student[2]
    smaller = student[0] < teacher[0] and student[1] < teacher[1]
    return Finding(
        VACUOUS if smaller and by_widths else FALSE,
        f"teacher 784-1200-1200-10: {teacher[0]:,} parameters, {teacher[1]:,} FLOPs per image; student 784-800-800-10: "
        f"{student[0]:,} parameters, {student[1]:,} FLOPs ({fmt(teacher[0] / student[0], 2)} and {fmt(teacher[1] / student[1], 2)} times fewer). "
        "Both counts are functions of the widths alone (the formula (d_in + 1) d_out gives PyTorch's count), so the same student "
        "trained on the labels alone is exactly as small and as fast: the saving is the architecture's, not distillation's",
    )


def temperature_softens_002() -> Finding:
    """002: T > 1 softens: the entropy of softmax(z/T) does not fall and its largest probability does not rise as T grows from 1."""
    z = _random_logits((256, 6), seed=74)
    Ts = torch.linspace(1.0, 20.0, 77, dtype=torch.float64)
    log_probs = torch.stack([torch.log_softmax(z / T, dim=-1) for T in Ts])  # (T, example, class)
    entropy = -(log_probs.exp() * log_probs).sum(-1)
    top = log_probs.exp().max(-1).values
    softer = bool((entropy[1:] >= entropy[:-1] - 1e-12).all()) and bool((top[1:] <= top[:-1] + 1e-12).all())
    return verified_if(
        softer,
        f"on 256 random logit vectors over 6 classes, as T grows from 1 to 20 the entropy never falls (mean {fmt(entropy[0].mean().item(), 3)} "
        f"at T = 1, {fmt(entropy[-1].mean().item(), 3)} at T = 20; log 6 = {fmt(math.log(6), 3)}) and the largest probability never rises "
        f"(mean {fmt(top[0].mean().item(), 3)} at T = 1, {fmt(top[-1].mean().item(), 3)} at T = 20)",
    )


def kd_loss_measures_mimicry_002() -> Finding:
    """002: L_KD measures how well the student mimics the teacher: zero at a perfect copy, positive otherwise, growing away from it."""
    T = 3.0
    z_t = _random_logits((256, 6), seed=75)

    def kl(z_s):
        log_p, log_q = torch.log_softmax(z_t / T, dim=-1), torch.log_softmax(z_s / T, dim=-1)
        return T**2 * (log_p.exp() * (log_p - log_q)).sum(-1)

    shift = _random_logits((256, 1), seed=76)
    copy = kl(z_t + shift).abs().max().item()  # a student that differs by a constant per example has the same probabilities
    other = kl(_random_logits((256, 6), seed=77)).min().item()
    direction = _random_logits((256, 6), seed=78)
    path = torch.stack([kl(z_t + s * direction) for s in (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)])
    grows = bool((path[1:] >= path[:-1] - 1e-12).all())
    return verified_if(
        copy < 1e-12 and other > 0 and grows,
        f"T^2 KL(p_t || p_s) at T = 3 is {below(copy, 1e-12, otherwise='.1e')} for a student whose logits are the teacher's plus a constant, "
        f"at least {fmt(other, 2)} for 256 unrelated students, and never falls as 256 students move away from the teacher along a "
        "random direction; the cross-entropy form differs by T^2 H(p_t), which does not depend on the student (002-kl-or-ce)",
    )
