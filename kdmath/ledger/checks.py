"""The checks behind the claims ledger: one function per claim that code can decide.

Each function recomputes what a source note states, by an independent route where one exists,
and returns a :class:`~kdmath.ledger.Finding` whose verdict comes from the computation alone:
a check of a correct claim returns ``verified`` only because the numbers agree, a check of a
wrong one returns ``corrected`` or ``false`` only because they do not (or because a
counterexample was found). The registry states the verdict each check is expected to reach,
and the test suite fails when the two part ways.
"""

from __future__ import annotations

import math

import torch

from .. import limits
from ..gradients import kd_grad
from ..losses import hard_cross_entropy, kd_loss, kl_divergence, soft_cross_entropy
from ..softmax import entropy_t, entropy_t_dT, logits_for, softmax_t, softmax_t_jacobian
from ._finding import (
    CORRECTED,
    FALSE,
    VACUOUS,
    VERIFIED,
    Finding,
    agrees_to_shown_digits,
    below,
    false_if,
    fmt,
    verified_if,
)

F64 = torch.float64


def _random_logits(shape, seed, scale=3.0):
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=generator, dtype=F64)


def _autograd_soft_gradient(z_s, z_t, T, scale=1.0):
    z_s = z_s.clone().requires_grad_(True)
    loss = scale * kl_divergence(z_s, z_t, T=T, reduction="sum")
    (grad,) = torch.autograd.grad(loss, z_s)
    return grad


# --- chapter 1: the temperature softmax -------------------------------------------------------


def temperature_softmax_definition() -> Finding:
    z = _random_logits((64, 7), seed=1)
    worst = 0.0
    for T in (0.3, 1.0, 4.0, 50.0):
        direct = torch.exp(z / T) / torch.exp(z / T).sum(-1, keepdim=True)
        worst = max(worst, (softmax_t(z, T) - direct).abs().max().item())
    return verified_if(worst < 1e-12, f"`softmax_t` and exp(z/T)/sum exp(z/T) agree: largest difference {below(worst, 1e-12, otherwise='.1e')}", worst=worst)


def softmax_jacobian() -> Finding:
    z = _random_logits((6,), seed=2)
    worst = 0.0
    for T in (0.5, 1.0, 3.0):
        q = softmax_t(z, T)
        stated = (torch.diag(q) - torch.outer(q, q)) / T
        numeric = torch.autograd.functional.jacobian(lambda v: softmax_t(v, T), z)
        worst = max(worst, (numeric - stated).abs().max().item())
    return verified_if(worst < 1e-12, f"(1/T) q_i (delta_ij - q_j) matches autograd's Jacobian: largest difference {below(worst, 1e-12, otherwise='.1e')}")


def diagonal_only_jacobian() -> Finding:
    """003 §1.2 writes only the diagonal; used alone it gives a wrong gradient direction."""
    z = torch.tensor([2.0, 1.0, 0.0, -1.0], dtype=F64)
    T = 1.0
    q = softmax_t(z, T)
    upstream = torch.tensor([1.0, 0.0, 0.0, -1.0], dtype=F64)
    full = softmax_t_jacobian(z, T) @ upstream
    diagonal_only = (q * (1 - q) / T) * upstream
    diagonal_ok = torch.allclose(torch.diagonal(softmax_t_jacobian(z, T)), q * (1 - q) / T)
    cosine = torch.nn.functional.cosine_similarity(full, diagonal_only, dim=0).item()
    verdict = VERIFIED if diagonal_ok else CORRECTED
    return Finding(
        verdict,
        f"the diagonal entry (1/T) q_i (1 - q_i) is right; the off-diagonal -(1/T) q_i q_j are not zero: "
        f"a chain rule through the diagonal alone gives a gradient at cosine {fmt(cosine, 3)} to the true one",
        {"cosine": cosine},
    )


def high_temperature_uniform() -> Finding:
    z = _random_logits((5,), seed=3)
    distances = [(softmax_t(z, T) - 1 / 5).abs().max().item() for T in (1e2, 1e4)]
    slope_ok = 90 < distances[0] / distances[1] < 110  # distance to uniform is O(1/T)
    return verified_if(
        distances[1] < 1e-3 and slope_ok,
        f"max |sigma_T(z) - 1/K| = {fmt(distances[0], '.1e')} at T = 100 and {fmt(distances[1], '.1e')} at T = 10^4 (order 1/T)",
    )


def zero_temperature_argmax() -> Finding:
    """Both sources write the T -> 0 limit as the one-hot vector of the argmax; with ties it is not."""
    tied = torch.tensor([1.0, 1.0, 0.0], dtype=F64)
    limit = softmax_t(tied, 1e-3)
    untied = softmax_t(torch.tensor([1.0, 0.9, 0.0], dtype=F64), 1e-3)
    ties_break_claim = not torch.allclose(limit, torch.tensor([1.0, 0.0, 0.0], dtype=F64))
    untied_ok = torch.allclose(untied, torch.tensor([1.0, 0.0, 0.0], dtype=F64))
    return Finding(
        CORRECTED if ties_break_claim and untied_ok else VERIFIED,
        f"with a unique maximum the limit is one-hot ({fmt(untied, 3)} at T = 0.001); with logits (1, 1, 0) "
        f"it is {fmt(limit, 3)}: uniform over the tied maxima",
    )


def entropy_increases() -> Finding:
    z = _random_logits((256, 6), seed=4)
    Ts = torch.linspace(1.0, 20.0, 60, dtype=F64)
    slopes = torch.stack([entropy_t_dT(z, float(T)) for T in Ts])
    entropies = torch.stack([entropy_t(z, float(T)) for T in Ts])
    monotone = bool((entropies[1:] >= entropies[:-1] - 1e-12).all())
    return verified_if(
        monotone and bool((slopes >= -1e-12).all()),
        f"dH/dT >= 0 on 256 random logit vectors for T in [1, 20] (smallest {fmt(slopes.min().item(), '.1e')}); "
        "the proof is in chapter 1 (the note's own proof only restates the claim)",
    )


# --- chapter 2: the gradient -------------------------------------------------------------------


def soft_gradient() -> Finding:
    z_s, z_t = _random_logits((8, 5), seed=5), _random_logits((8, 5), seed=6)
    worst = 0.0
    for T in (0.5, 1.0, 4.0, 20.0):
        closed = (softmax_t(z_s, T) - softmax_t(z_t, T)) / T
        worst = max(worst, (_autograd_soft_gradient(z_s, z_t, T) - closed).abs().max().item())
    return verified_if(worst < 1e-12, f"(q - p)/T matches autograd of KL(p || q) for T in 0.5..20: largest difference {below(worst, 1e-12, otherwise='.1e')}")


def scaled_soft_gradient() -> Finding:
    z_s, z_t = _random_logits((8, 5), seed=7), _random_logits((8, 5), seed=8)
    worst = 0.0
    for T in (1.0, 2.0, 4.0, 10.0):
        closed = T * (softmax_t(z_s, T) - softmax_t(z_t, T))
        worst = max(worst, (_autograd_soft_gradient(z_s, z_t, T, scale=T**2) - closed).abs().max().item())
    return verified_if(worst < 1e-12, f"T (q - p) matches autograd of T^2 KL(p || q): largest difference {below(worst, 1e-12, otherwise='.1e')}")


def combined_gradient() -> Finding:
    z_s, z_t = _random_logits((8, 5), seed=9), _random_logits((8, 5), seed=10)
    y = torch.arange(8) % 5
    worst = 0.0
    for T, alpha in ((1.0, 0.5), (4.0, 0.3), (10.0, 0.9)):
        stated = (1 - alpha) * (softmax_t(z_s, 1.0) - torch.nn.functional.one_hot(y, 5)) + alpha * T * (
            softmax_t(z_s, T) - softmax_t(z_t, T)
        )
        student = z_s.clone().requires_grad_(True)
        loss = (1 - alpha) * hard_cross_entropy(student, y, reduction="sum") + alpha * T**2 * kl_divergence(
            student, z_t, T=T, reduction="sum"
        )
        (grad,) = torch.autograd.grad(loss, student)
        worst = max(worst, (grad - stated).abs().max().item())
    return verified_if(worst < 1e-12, f"(1 - alpha)(sigma_1(z_s) - e_y) + alpha T (q - p) matches autograd: largest difference {below(worst, 1e-12, otherwise='.1e')}")


def example2_scaled_gradient() -> Finding:
    """003 example 2 multiplies q - p by T^2 = 4; the T^2-scaled gradient is T (q - p)."""
    T = 2.0
    z_t, z_s = logits_for([0.6, 0.3, 0.1], T), logits_for([0.5, 0.2, 0.3], T)
    computed = kd_grad(z_s, z_t, T=T, alpha=1.0, reduction="sum")
    stated = torch.tensor([-0.4, -0.4, 0.8], dtype=F64)
    ratio = (stated / computed).mean().item()
    return verified_if(
        torch.allclose(computed, stated, atol=5e-3),
        f"T^2-scaled gradient at T = 2 is {fmt(computed, 2)}; the note's {fmt(stated, 2)} is {fmt(ratio, 2)} times too large",
        ratio=ratio,
    )


def gradient_magnitude_preservation() -> Finding:
    """004 Theorem 2: the scaled soft gradient is proportional to the hard-label gradient."""
    z_s = torch.tensor([4.0, 0.0, 0.0], dtype=F64)
    z_t = torch.tensor([1.0, 0.5, 0.0], dtype=F64)
    y = torch.tensor(0)
    hard = kd_grad(z_s, z_t, y, T=1.0, alpha=0.0, reduction="sum")
    soft = kd_grad(z_s, z_t, T=1.0, alpha=1.0, reduction="sum")
    cosine = torch.nn.functional.cosine_similarity(soft, hard, dim=0).item()
    return false_if(
        cosine < 0.999,
        f"teacher logits (1, 0.5, 0) agreeing with the label, student (4, 0, 0): the soft and hard gradients "
        f"have cosine {fmt(cosine, 3)}, not 1",
        cosine=cosine,
    )


def sign_of_update() -> Finding:
    """003 practice problem 2 ends on the right reading: descent along -(q - p) lowers the KL."""
    T = 4.0
    z_t, z_s = logits_for([0.4, 0.35, 0.25], T), logits_for([0.5, 0.3, 0.2], T)
    gradient = kd_grad(z_s, z_t, T=T, alpha=1.0, reduction="sum")
    before = kl_divergence(z_s, z_t, T=T, reduction="sum").item()
    after = kl_divergence(z_s - 0.5 * gradient, z_t, T=T, reduction="sum").item()
    return verified_if(after < before, f"one descent step lowers KL(p || q) from {fmt(before, 5)} to {fmt(after, 5)}")


def practice_problem2_total() -> Finding:
    T, alpha = 4.0, 0.5
    z_t, z_s = logits_for([0.4, 0.35, 0.25], T), logits_for([0.5, 0.3, 0.2], T)
    computed = kd_grad(z_s, z_t, torch.tensor(0), T=T, alpha=alpha, reduction="sum")
    stated = [0.13, -0.045, -0.085]
    decimals = [2, 3, 3]
    agree = all(agrees_to_shown_digits(s, c, d) for s, c, d in zip(stated, computed.tolist(), decimals))
    p1 = softmax_t(z_s, 1.0)
    return verified_if(
        agree,
        f"total gradient {fmt(computed, 4)} against the note's {fmt(stated, 3)}; the note rounds "
        f"sigma_1(z_s)_3 = {fmt(p1[2].item(), 4)} up to 0.03, so its hard part 0.015 should be {fmt(0.5 * p1[2].item(), 4)}",
        computed=computed.tolist(),
    )


# --- chapter 3: high temperature ---------------------------------------------------------------


def _zero_mean(z):
    return z - z.mean(-1, keepdim=True)


def first_order_expansion_003() -> Finding:
    z = _random_logits((5,), seed=11)
    K = 5
    errors = []
    for T in (1e2, 1e3):
        stated = 1 / K + z / (T * K) - z.sum() / (K**2 * T)
        errors.append((softmax_t(z, T) - stated).abs().max().item())
    return verified_if(
        95 < errors[0] / errors[1] < 105,
        f"1/K + z_i/(TK) - sum_j z_j/(K^2 T) is off by {fmt(errors[0], '.1e')} at T = 100 and {fmt(errors[1], '.1e')} at T = 1000: "
        "an O(1/T^2) remainder, as a first-order expansion must be",
    )


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
    n, T = 6, 1e4
    ratio = _ratio_to_soft_gradient((z - v - (z - v).mean()) / T**2, z, v, T)
    return verified_if(abs(ratio - 1) < 1e-2, f"the note's approximation over the gradient is {fmt(ratio, 3)} at T = 10^4, n = 6", ratio=ratio)


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


def high_temperature_gradient_003() -> Finding:
    """003 §1.4: T(q - p) -> (z_s - z_t)/K, without the centring."""
    z_s, z_t = _random_logits((5,), seed=19) + 2.0, _random_logits((5,), seed=20)
    K, T = 5, 1e4
    scaled = T * (softmax_t(z_s, T) - softmax_t(z_t, T))
    stated = (z_s - z_t) / K
    centred = (_zero_mean(z_s) - _zero_mean(z_t)) / K
    return verified_if(
        torch.allclose(scaled, stated, atol=1e-3),
        f"at T = 10^4, T(q - p) = {fmt(scaled, 3)}; the note's (z_s - z_t)/K = {fmt(stated, 3)}; "
        f"the centred form {fmt(centred, 3)}",
    )


def high_temperature_loss_limit() -> Finding:
    z_s, z_t = _random_logits((16, 5), seed=21), _random_logits((16, 5), seed=22)
    T = 1e3
    scaled = (T**2 * kl_divergence(z_s, z_t, T=T, reduction="none"))
    stated = ((_zero_mean(z_t) - _zero_mean(z_s)) ** 2).sum(-1) / (2 * 5)
    worst = ((scaled - stated) / stated).abs().max().item()
    return verified_if(worst < 1e-2, f"T^2 KL at T = 1000 over (1/2K)||centred difference||^2: worst relative gap {fmt(worst, '.1e')}")


def covariance_matching() -> Finding:
    """003 §2.3 reads the limit as matching the logit covariance: two teachers with one covariance, two losses."""
    generator = torch.Generator().manual_seed(23)
    z_t = 3 * torch.randn(512, 5, generator=generator, dtype=F64)
    z_s = z_t[torch.randperm(512, generator=generator)]  # same rows, shuffled: identical covariance
    same_covariance = torch.allclose(torch.cov(z_s.T), torch.cov(z_t.T))
    loss = limits.high_temperature_soft_loss_limit(z_s, z_t).mean().item()
    return false_if(
        same_covariance and loss > 1.0,
        f"a student whose logits are the teacher's, shuffled across examples, has exactly the teacher's logit "
        f"covariance, yet the high-T loss is {fmt(loss, 2)} (it is 0 only when the centred logits match example by example)",
        loss=loss,
    )


# --- chapter 4: zero temperature ---------------------------------------------------------------


def zero_temperature_reduction() -> Finding:
    """003 §2.4: T -> 0 is training on the teacher's hard predictions (cross-entropy to argmax)."""
    z_t = torch.tensor([2.0, 1.0, 0.0], dtype=F64)
    z_s = torch.tensor([0.5, 1.0, 0.0], dtype=F64)
    values = {T: kl_divergence(z_s, z_t, T=T, reduction="sum").item() for T in (0.1, 0.01, 0.001)}
    scaled = {T: T**2 * v for T, v in values.items()}
    ce_to_argmax = hard_cross_entropy(z_s, torch.tensor(0), reduction="sum").item()
    limit = limits.zero_temperature_soft_loss_limit(z_s, z_t).item()
    diverges = values[0.001] > 10 * values[0.1]
    return Finding(
        CORRECTED if diverges and abs(limit - ce_to_argmax) > 1e-3 else VERIFIED,
        f"without T^2 the soft term grows like 1/T ({fmt(values[0.1], 2)}, {fmt(values[0.01], 2)}, {fmt(values[0.001], 1)} at "
        f"T = 0.1, 0.01, 0.001); with T^2 it vanishes, and T KL tends to max_j z_s,j - z_s,argmax(z_t) = {fmt(limit, 2)} "
        f"(a perceptron criterion), not to the cross-entropy {fmt(ce_to_argmax, 3)} on the teacher's label",
    )


# --- chapter 5: worked examples ----------------------------------------------------------------

EXAMPLE1_LOGITS = (5.0, 2.0, 1.0, 0.5, 0.1)
EXAMPLE1_STATED = {
    1: (0.920, 0.046, 0.017, 0.010, 0.007),
    2: (0.645, 0.144, 0.087, 0.068, 0.056),
    5: (0.360, 0.197, 0.162, 0.146, 0.135),
    20: (0.228, 0.200, 0.194, 0.190, 0.188),
}


def _example1_row(T: int) -> Finding:
    computed = softmax_t(torch.tensor(EXAMPLE1_LOGITS, dtype=F64), float(T))
    stated = EXAMPLE1_STATED[T]
    ok = all(agrees_to_shown_digits(s, c, 3) for s, c in zip(stated, computed.tolist()))
    return verified_if(ok, f"softmax at T = {T}: {fmt(computed, 3)}; the note: {fmt(stated, 3)}", computed=computed.tolist())


def example1_T1() -> Finding:
    return _example1_row(1)


def example1_T2() -> Finding:
    return _example1_row(2)


def example1_T5() -> Finding:
    return _example1_row(5)


def example1_T20() -> Finding:
    return _example1_row(20)


def example2_kl() -> Finding:
    T = 2.0
    z_t, z_s = logits_for([0.6, 0.3, 0.1], T), logits_for([0.5, 0.2, 0.3], T)
    value = kl_divergence(z_s, z_t, T=T, reduction="sum").item()
    return verified_if(agrees_to_shown_digits(0.121, value, 3), f"KL(p || q) = {fmt(value, 5)}; the note: 0.121", kl=value)


def example3_bits() -> Finding:
    bits = math.log2(3)
    return verified_if(
        agrees_to_shown_digits(1.5, bits, 1),
        f"log2 3 = {fmt(bits, 4)} bits, not ~1.5; and log2 C is only an upper bound: a label carries H(Y) <= log2 C bits",
    )


def example3_percent() -> Finding:
    """003 example 3 calls a 6-point gain "the 6% improvement"."""
    relative = (78 - 72) / 72
    error_reduction = (28 - 22) / 28
    return verified_if(
        abs(relative - 0.06) < 0.005,
        f"78% - 72% is 6 percentage points: a {fmt(100 * relative, 1)}% relative gain, a {fmt(100 * error_reduction, 1)}% cut in the error rate",
    )


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


def label_smoothing_identity() -> Finding:
    """003 §4.2: hard + soft targets ~ cross-entropy on (1 - eps) y + eps p_t. Exact at T = 1."""
    z_s, z_t = _random_logits((16, 5), seed=30), _random_logits((16, 5), seed=31)
    y = torch.arange(16) % 5
    alpha = 0.3
    combined = kd_loss(z_s, z_t, y, T=1.0, alpha=alpha, soft_loss="cross_entropy")
    smoothed = (1 - alpha) * torch.nn.functional.one_hot(y, 5).to(F64) + alpha * softmax_t(z_t, 1.0)
    smoothed_ce = soft_cross_entropy(z_s, torch.log(smoothed), T=1.0)
    gap = abs(combined.item() - smoothed_ce.item())
    return verified_if(gap < 1e-12, f"at T = 1 the combined loss equals the cross-entropy to the smoothed target exactly (gap {below(gap, 1e-12, otherwise='.1e')}), with eps = alpha")


# --- source 004's theorems (chapter 9) ---------------------------------------------------------


def dark_knowledge_mutual_information() -> Finding:
    """004 Theorem 3: I(X; p_T | Y) >= 0. True of every random variable, so it says nothing."""
    generator = torch.Generator().manual_seed(32)
    smallest = math.inf
    for _ in range(200):
        joint = torch.rand(4, 3, 5, generator=generator, dtype=F64) ** 3
        smallest = min(smallest, _cmi(joint / joint.sum()))
    # a teacher that ignores the input: S independent of X given Y
    p_xy = torch.rand(4, 3, generator=generator, dtype=F64)
    p_xy /= p_xy.sum()
    constant_teacher = torch.einsum("xy,s->xys", p_xy, torch.tensor([1.0, 0.0], dtype=F64))
    uninformative = _cmi(constant_teacher)
    holds = smallest >= -1e-12 and abs(uninformative) < 1e-12
    return Finding(
        VACUOUS if holds else FALSE,
        f"the smallest I(X; S | Y) over 200 random joint tables is {fmt(smallest, '.2e')} >= 0, and a teacher that outputs the same "
        f"vector for every input also satisfies it (I {below(uninformative, 1e-12, otherwise='.1e')}): the inequality holds for any S, so it "
        "cannot show that soft labels carry information",
    )


def _cmi(joint):
    from ..theory import conditional_mutual_information

    return conditional_mutual_information(joint)


def distillation_generalization_bound() -> Finding:
    """004 Theorem 4: eps_S <= eps_T + sqrt(d_KL) + O(sqrt(complexity/n))."""
    from ..theory import argmax_error_rate

    # Population version (n -> infinity, the complexity term vanishes): a teacher just above the
    # decision boundary on every input, a student just below it.
    labels = torch.zeros(1000, dtype=torch.long)
    p = torch.tensor([0.51, 0.49], dtype=F64).expand(1000, 2)
    q = torch.tensor([0.49, 0.51], dtype=F64).expand(1000, 2)
    eps_t, eps_s = argmax_error_rate(p, labels), argmax_error_rate(q, labels)
    d_kl = (p * (p / q).log()).sum(-1).mean().item()
    bound = eps_t + math.sqrt(d_kl)
    return false_if(
        eps_s > bound,
        f"teacher (0.51, 0.49), student (0.49, 0.51), label 0: eps_T = {fmt(eps_t, 0)}, eps_S = {fmt(eps_s, 0)}, "
        f"but eps_T + sqrt(d_KL) = {fmt(bound, 4)}; a small KL does not bound a difference in argmax errors",
        bound=bound,
    )


def progressive_bound_vacuous() -> Finding:
    """004 Theorem 7: L_S <= L_T + k eps_step, with eps_step the per-step increase: a telescoping sum."""
    generator = torch.Generator().manual_seed(33)
    losses = torch.cumsum(torch.rand(6, generator=generator, dtype=F64), 0)  # any chain T, TA_1, ..., S
    steps = losses[1:] - losses[:-1]
    eps_step = steps.max().item()
    k = len(steps)
    holds = losses[-1].item() <= losses[0].item() + k * eps_step + 1e-12
    return Finding(
        VACUOUS if holds else FALSE,
        "with eps_step the largest per-step increase in loss, L_S - L_T is a sum of k such steps, so the bound holds "
        "for every chain of models whatever they are: it restates the definition of eps_step",
    )


def progressive_optimal_steps() -> Finding:
    """004 Theorem 7: k* = O(log |T|/|S|) is "optimal". Minimising its own bound gives k = 0."""
    eps_step, L_T = 0.05, 1.0
    bounds = {k: L_T + k * eps_step for k in range(0, 6)}
    best = min(bounds, key=bounds.get)
    ratio, compression = 4.0, 64.0
    k_geometric = math.log(compression, ratio)
    return false_if(
        best == 0 and abs(k_geometric - 3) < 1e-9,
        f"log_r(|T|/|S|) = {fmt(k_geometric, 0)} steps of ratio r = 4 take |T| to |T|/64, true, but that counts steps; the "
        f"theorem's bound L_T + k eps_step grows with k and is smallest at k = {best} (no assistants), so it cannot "
        "show that any k > 0 is optimal",
    )


def self_distillation_monotone() -> Finding:
    """004 Theorem 8: E[L_test(M_{k+1})] <= E[L_test(M_k)]. Kernel ridge self-distillation breaks it."""
    from ..theory import kernel_ridge_self_distillation

    rounds = 10
    curves = []
    for seed in range(20):
        generator = torch.Generator().manual_seed(seed)
        x = torch.rand(40, 1, generator=generator, dtype=F64) * 6 - 3
        y = torch.sin(2 * x[:, 0]) + 0.3 * torch.randn(40, generator=generator, dtype=F64)
        x_test = torch.linspace(-3, 3, 200, dtype=F64)[:, None]
        curves.append(kernel_ridge_self_distillation(x, y, x_test, torch.sin(2 * x_test[:, 0]), rounds, ridge=0.1, bandwidth=0.5))
    mean = torch.tensor(curves).mean(0)
    rises = [k for k in range(rounds - 1) if mean[k + 1] > mean[k]]
    best = int(mean.argmin())
    return false_if(
        bool(rises),
        f"kernel ridge regression (RBF, ridge 0.1), 20 data sets: mean test MSE by round {fmt(mean[:6], 4)} ...; "
        f"it is lowest at round {best} and rises after, as Mobahi et al. (2020) predict",
        curve=mean.tolist(),
    )


def optimal_temperature_formula() -> Finding:
    """004 Theorem 9: T* ~ sqrt(H(p_T) / H(y)). For one-hot labels H(y) = 0."""
    one_hot = torch.tensor([1.0, 0.0, 0.0], dtype=F64)
    h_y = -(one_hot[one_hot > 0] * one_hot[one_hot > 0].log()).sum().item()
    h_p = entropy_t(torch.tensor([5.0, 2.0, 1.0], dtype=F64), 1.0).item()
    undefined = h_y == 0.0
    return false_if(
        undefined,
        f"for the one-hot labels every source uses, H(y) = {fmt(h_y + 0.0, 1)}, so sqrt(H(p_T)/H(y)) = sqrt({fmt(h_p, 3)}/0) is "
        "undefined; and H(p_T) itself depends on T, so the formula has no fixed meaning",
    )


# --- chapter 6: practice problems 3-5 ----------------------------------------------------------


def projection_flops_problem3() -> Finding:
    from .. import costs

    per_example = costs.projection_flops(256, 768)
    per_epoch = costs.projection_flops(256, 768, n_vectors=100_000)
    ok = per_example == 393_216 and abs(per_epoch / 1e12 - 0.04) < 0.005
    return verified_if(ok, f"2 x 768 x 256 = {per_example:,} FLOPs per vector; {fmt(per_epoch, '.3e')} per epoch of 100K vectors "
                           f"({fmt(per_epoch / 1e12, 4)} TFLOP), forward only")


def wider_student_params_problem3() -> Finding:
    from .. import costs

    wide, narrow = costs.transformer_layer_params(768), costs.transformer_layer_params(256)
    attention = wide["attention"] - narrow["attention"]
    ffn = wide["ffn"] - narrow["ffn"]
    per_layer = attention + ffn
    twelve = 12 * per_layer
    megabytes = 2 * twelve / 1e6
    ok = attention == 2_097_152 and ffn == 4_194_304 and abs(per_layer / 1e6 - 6.3) < 0.05 and abs(twelve / 1e6 - 75) < 1 and abs(megabytes - 150) < 2
    return verified_if(ok, f"extra per layer: attention {attention:,} + FFN {ffn:,} = {per_layer:,}; 12 layers {twelve:,}; "
                           f"{fmt(megabytes, 0)} MB in fp16 (weights only, no biases or embeddings)")


def projection_memory_problem3() -> Finding:
    """003 problem 3: the projection costs 'O(1) extra memory'."""
    parameters = 768 * 256
    return verified_if(parameters <= 1, f"W_proj has 768 x 256 = {parameters:,} parameters, {fmt(2 * parameters / 1e6, 2)} MB in fp16: "
                                        "small beside the wider student's extra weights, but not O(1)")


def top_k_cost_fractions() -> Finding:
    ok = agrees_to_shown_digits(0.5, 100 * 256 / 50_000, 1) and agrees_to_shown_digits(1.0, 100 * 512 / 50_000, 1)
    return verified_if(ok, f"256/50,000 = {fmt(100 * 256 / 50_000, 3)}% and 512/50,000 = {fmt(100 * 512 / 50_000, 3)}% of the vocabulary")


def top_k_bucket_underestimates() -> Finding:
    """003 problem 4: the tail of a top-k KL, "ignored or aggregated", makes a small underestimate."""
    from ..vocab import top_k_kl

    z_s, z_t = _random_logits((64, 1000), seed=40), _random_logits((64, 1000), seed=41)
    full = kl_divergence(z_s, z_t, T=1.0, reduction="none")
    worst = -math.inf
    for k in (1, 10, 100, 999):
        worst = max(worst, (top_k_kl(z_s, z_t, k, tail="bucket") - full).max().item())
    equal_at_K = (top_k_kl(z_s, z_t, 1000, tail="bucket") - full).abs().max().item()
    # dropping the tail and renormalising: a student that matches the teacher's tail exactly and
    # disagrees on the head is charged more than the full KL (the head's terms are divided by its mass)
    z_t3 = torch.tensor([[0.45, 0.45, 0.10]], dtype=F64).log()
    z_s3 = torch.tensor([[0.60, 0.30, 0.10]], dtype=F64).log()
    renormalised = top_k_kl(z_s3, z_t3, 2, tail="renormalize").item()
    full3 = kl_divergence(z_s3, z_t3, T=1.0, reduction="sum").item()
    bucket_ok = worst <= 1e-12 and equal_at_K < 1e-10
    return verified_if(
        bucket_ok and renormalised <= full3,
        f"with a catch-all class the top-k KL never exceeds the full KL (64 random pairs, 1,000 tokens: largest excess "
        f"{below(worst, 1e-12, otherwise='.1e')}; merging outcomes cannot raise a KL); dropping the tail and renormalising can overshoot: "
        f"{fmt(renormalised, 4)} against a full KL of {fmt(full3, 4)} for teacher (0.45, 0.45, 0.10), student (0.60, 0.30, 0.10), k = 2",
    )


def only_term_problem1() -> Finding:
    """003 problem 1: "the only term depending on z_{s,i} is log(1/p_s^T(i))"."""
    T = 2.0
    z_s, z_t = _random_logits((5,), seed=62), _random_logits((5,), seed=63)
    p, q = softmax_t(z_t, T), softmax_t(z_s, T)
    i = 0
    # keep only the j = i term of T^2 sum_j p_j log(1/q_j), as the sentence says
    student = z_s.clone().requires_grad_(True)
    only_term = -(T**2) * p[i] * torch.log_softmax(student / T, -1)[i]
    (gradient_only,) = torch.autograd.grad(only_term, student)
    true = T * (q - p)
    return false_if(
        abs(gradient_only[i].item() - true[i].item()) > 1e-3,
        f"keeping only the j = i term gives d/dz_s,i = {fmt(gradient_only[i].item(), 4)}; the true derivative is {fmt(true[i].item(), 4)}: "
        "every log q_j depends on z_s,i through the normaliser (the note's own next lines use those terms)",
    )


def importance_weights_problem4() -> Finding:
    """003 problem 4: with the teacher as proposal 'p_t/q is close to 1'. It is exactly 1."""
    from ..vocab import sampled_kl

    z_s, z_t = _random_logits((1, 2000), seed=42), _random_logits((1, 2000), seed=43)
    exact = kl_divergence(z_s, z_t, T=1.0, reduction="sum").item()
    generator = torch.Generator().manual_seed(44)
    estimates = torch.stack([sampled_kl(z_s, z_t, 512, generator=generator) for _ in range(400)]).flatten()
    mean, error = estimates.mean().item(), estimates.std().item() / math.sqrt(len(estimates))
    unbiased = abs(mean - exact) < 4 * error
    return Finding(
        CORRECTED if unbiased else FALSE,
        f"with r = p every weight p_i/r_i is exactly 1, so the estimate is the sample mean of log(p_i/q_i); "
        f"unbiased: mean of 400 estimates {fmt(mean, 4)} +/- {fmt(error, 4)} against the exact {fmt(exact, 4)}",
    )


def sampled_kl_needs_the_normaliser() -> Finding:
    """003 problem 4: the sampled estimate 'avoids the full-softmax normalization'."""
    z_s, z_t = _random_logits((1, 5000), seed=45), _random_logits((1, 5000), seed=46)
    exact = kl_divergence(z_s, z_t, T=1.0, reduction="sum").item()
    generator = torch.Generator().manual_seed(47)
    p = softmax_t(z_t, 1.0)
    index = torch.multinomial(p, 512, replacement=True, generator=generator)
    log_p = torch.log_softmax(z_t, -1).gather(-1, index)
    with_full = (log_p - torch.log_softmax(z_s, -1).gather(-1, index)).mean().item()
    sampled_logits = z_s.gather(-1, index)
    with_sampled = (log_p - torch.log_softmax(sampled_logits, -1)).mean().item()  # normalised over the sample only
    return false_if(
        abs(with_sampled - exact) > 10 * abs(with_full - exact) and abs(with_sampled - exact) > 0.5,
        f"log q_i needs the student's log-normaliser over all 5,000 tokens: with it the estimate is {fmt(with_full, 3)}, "
        f"normalising over the 512 sampled tokens instead gives {fmt(with_sampled, 3)}; the exact KL is {fmt(exact, 3)}",
    )


def distillation_cost_problem5() -> Finding:
    from .. import costs

    total = costs.distillation_cost(1e9, 10.0, 1_000.0)
    return verified_if(abs(total - 11_000) < 1e-6, f"1B tokens x $10 per 1M = ${fmt(total - 1_000, ',.0f')}, plus the note's assumed "
                                                   f"$1,000 of training: ${fmt(total, ',.0f')}")


def break_even_problem5() -> Finding:
    from .. import costs

    tokens = costs.break_even_tokens(11_000.0, 10.0, 0.5)
    days = tokens / (1e6 * 1000)
    days_realistic = tokens / (1e3 * 1000)
    ok = agrees_to_shown_digits(1.16, tokens / 1e9, 2) and days < 1.5
    return verified_if(ok, f"$11,000 / ($9.50 per 1M) = {fmt(tokens / 1e9, 4)}B tokens; at the note's 1M tokens per query and "
                           f"1,000 queries a day that is {fmt(days, 2)} days, at a more typical 1,000 tokens per query "
                           f"{fmt(days_realistic, ',.0f')} days ({fmt(days_realistic / 365, 1)} years)")


def quality_adjusted_break_even() -> Finding:
    """003 problem 5: break-even = $11,000 / ($9.50/1M - value loss per token), without a condition."""
    from .. import costs

    value_loss = 12.0  # dollars per 1M tokens: more than the saving
    formula = 11_000 / ((9.5 - value_loss) / 1e6)
    computed = costs.break_even_tokens(11_000.0, 10.0, 0.5, value_loss_per_million=value_loss)
    return verified_if(formula > 0, f"with a value loss of ${fmt(value_loss, 0)} per 1M tokens the note's formula gives "
                                    f"{fmt(formula, '.3g')} tokens (negative); there is no break-even: {computed}")


# --- chapter 7: features, attention, relations ---------------------------------------------


def feature_loss_definition() -> Finding:
    from ..features import feature_matching_loss

    generator = torch.Generator().manual_seed(50)
    student = torch.randn(32, 8, generator=generator, dtype=F64)
    teacher = torch.randn(32, 12, generator=generator, dtype=F64)
    W = torch.randn(12, 8, generator=generator, dtype=F64)
    explicit = ((teacher - student @ W.T) ** 2).sum(-1)
    value = feature_matching_loss(student, teacher, W, reduction="none")
    return verified_if(torch.allclose(value.reshape(-1), explicit.reshape(-1), atol=1e-12) or
                       torch.allclose(value.sum(), explicit.sum(), atol=1e-10),
                       "||f_t - W f_s||^2 with W of shape (d_t, d_s): kdmath.features.feature_matching_loss matches the explicit sum")


def least_squares_closed_form() -> Finding:
    """004: W* = h_S h_T^T (h_T h_T^T)^{-1}, stated without a condition."""
    from ..features import least_squares_projection, projection_is_unique

    generator = torch.Generator().manual_seed(51)
    d_t, d_s = 96, 32
    tall = torch.randn(400, d_t, generator=generator, dtype=F64)  # N >= d_t: unique
    student_tall = tall @ torch.randn(d_t, d_s, generator=generator, dtype=F64)
    X, Y = tall.T, student_tall.T
    closed = Y @ X.T @ torch.linalg.inv(X @ X.T)
    agrees = torch.allclose(closed, least_squares_projection(tall, student_tall), atol=1e-8)
    batch = torch.randn(64, d_t, generator=generator, dtype=F64)  # N < d_t: h_T h_T^T is singular
    rank = int(torch.linalg.matrix_rank(batch.T @ batch))
    singular = rank < d_t and not projection_is_unique(batch)
    return verified_if(
        agrees and not singular,
        f"with N = 400 >= d_T = {d_t} the closed form matches least squares; with a batch of N = 64 < d_T the "
        f"{d_t} x {d_t} matrix h_T h_T^T has rank {rank}: no inverse, and the minimiser is not unique",
    )


def attention_loss_conventions() -> Finding:
    from ..features import attention_transfer_loss

    generator = torch.Generator().manual_seed(52)
    heads = 12
    a_s = torch.softmax(torch.randn(heads, 6, 6, generator=generator, dtype=F64), -1)
    a_t = torch.softmax(torch.randn(heads, 6, 6, generator=generator, dtype=F64), -1)
    sum_over_heads = ((a_t - a_s) ** 2).sum().item()  # 004
    mean_over_heads = attention_transfer_loss(a_s, a_t).item()  # 003
    return verified_if(abs(sum_over_heads / mean_over_heads - heads) < 1e-9,
                       f"003's (1/H) sum_h ||A_t - A_s||_F^2 and 004's sum differ by exactly H = {heads}")


def rkd_unnormalised_distance() -> Finding:
    """003 §3.3: sum over pairs of (psi_D(t_i, t_j) - psi_D(s_i, s_j))^2 with psi_D a plain distance."""
    from ..features import rkd_distance_loss

    generator = torch.Generator().manual_seed(53)
    teacher = torch.randn(16, 8, generator=generator, dtype=F64)
    student = 2 * teacher
    unnormalised = ((torch.cdist(teacher, teacher) - torch.cdist(student, student)) ** 2).sum().item()
    normalised = rkd_distance_loss(student, teacher).item()
    return verified_if(unnormalised < 1e-12, f"a student equal to the teacher scaled by 2: the note's loss is {fmt(unnormalised, 1)}, "
                                             f"the paper's (distances over their mean, Huber) {below(normalised, 1e-12, otherwise='.1e')}")


def rkd_potentials_004() -> Finding:
    from ..features import rkd_angle_potentials, rkd_distance_potentials

    generator = torch.Generator().manual_seed(54)
    x = torch.randn(10, 5, generator=generator, dtype=F64)
    rotation, _ = torch.linalg.qr(torch.randn(5, 5, generator=generator, dtype=F64))
    moved = 3.0 * x @ rotation + torch.randn(5, generator=generator, dtype=F64)
    distances = torch.cdist(x, x)
    off_diagonal = ~torch.eye(10, dtype=torch.bool)
    explicit = distances / distances[off_diagonal].mean()
    ok_distance = torch.allclose(rkd_distance_potentials(x), explicit, atol=1e-12)
    invariant = torch.allclose(rkd_distance_potentials(moved), rkd_distance_potentials(x), atol=1e-10) and torch.allclose(
        rkd_angle_potentials(moved), rkd_angle_potentials(x), atol=1e-10)
    # the angle at vertex j from the law of cosines, for one triplet
    i, j, k = 0, 1, 2
    a, b, c = distances[i, j], distances[k, j], distances[i, k]
    law = ((a**2 + b**2 - c**2) / (2 * a * b)).item()
    ok_angle = abs(rkd_angle_potentials(x)[i, j, k].item() - law) < 1e-12
    return verified_if(ok_distance and ok_angle and invariant,
                       "psi_D = ||x_i - x_j|| / mu_D and psi_A = cos of the angle at the vertex match explicit formulas and the law "
                       "of cosines, and both are unchanged by scaling, rotating and translating the embedding")


# Published GLUE macro-scores (Sanh et al., 2019, table 1): data, not results of this book.
GLUE_BERT_BASE, GLUE_DISTILBERT = 79.5, 77.0


def distilbert_size() -> Finding:
    from .. import costs

    bert = costs.bert_params(30522, 768, 12, 512)
    distil = costs.bert_params(30522, 768, 6, 512, type_vocab_size=0, pooler=False)
    reduction = 1 - distil / bert
    return verified_if(abs(reduction - 0.40) < 0.01, f"BERT-base {bert:,} parameters, DistilBERT {distil:,}: "
                                                     f"{fmt(100 * reduction, 1)}% fewer")


def distilbert_retention() -> Finding:
    retained = GLUE_DISTILBERT / GLUE_BERT_BASE
    return verified_if(agrees_to_shown_digits(0.95, retained, 2), f"GLUE {GLUE_DISTILBERT} against {GLUE_BERT_BASE}: "
                                                                   f"{fmt(100 * retained, 1)}% retained")


def car_example_distribution() -> Finding:
    p_t = torch.tensor([0.7, 0.2, 0.08, 0.01, 0.01], dtype=F64)
    total = p_t.sum().item()
    return verified_if(abs(total - 1) < 1e-12 and bool((p_t[:-1] >= p_t[1:]).all()),
                       f"the teacher's example distribution sums to {fmt(total, 2)} and is ordered car > truck > bus > bicycle = pedestrian")


def per_position_average() -> Finding:
    """003 §5.2: the LLM loss is the per-position loss averaged over all positions."""
    z_s, z_t = _random_logits((4, 7, 11), seed=60), _random_logits((4, 7, 11), seed=61)
    y = (torch.arange(28) % 11).reshape(4, 7)
    per_position = kd_loss(z_s, z_t, y, T=2.0, alpha=0.5, reduction="none")
    averaged = kd_loss(z_s, z_t, y, T=2.0, alpha=0.5, reduction="batchmean")
    torch_batchmean = torch.nn.functional.kl_div(
        torch.log_softmax(z_s / 2, -1), torch.log_softmax(z_t / 2, -1), reduction="batchmean", log_target=True).item()
    ours_soft = kl_divergence(z_s, z_t, T=2.0, reduction="batchmean").item()
    return verified_if(abs(averaged.item() - per_position.mean().item()) < 1e-12,
                       f"kd_loss(reduction='batchmean') on (B, L, K) = (4, 7, 11) logits is the mean over all 28 positions; "
                       f"PyTorch's kl_div(reduction='batchmean') divides by B only and is {fmt(torch_batchmean / ours_soft, 1)} times larger")


def on_policy_objective() -> Finding:
    """003 §5.3: on-policy distillation trains the student 'to maximize the teacher-assigned score' of its outputs."""
    p = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=F64)
    logits = torch.zeros(4, dtype=F64, requires_grad=True)
    optimiser = torch.optim.SGD([logits], lr=1.0)
    for _ in range(3000):  # maximise E_q[log p] over the student's distribution q
        optimiser.zero_grad()
        q = torch.softmax(logits, 0)
        (-(q * p.log()).sum()).backward()
        optimiser.step()
    score_maximiser = torch.softmax(logits, 0).detach()
    logits = torch.zeros(4, dtype=F64, requires_grad=True)
    optimiser = torch.optim.SGD([logits], lr=1.0)
    for _ in range(3000):  # minimise the reverse KL(q || p), the on-policy objective of GKD / MiniLLM
        optimiser.zero_grad()
        q = torch.softmax(logits, 0)
        (q * (q.log() - p.log())).sum().backward()
        optimiser.step()
    reverse_kl_minimiser = torch.softmax(logits, 0).detach()
    collapses = score_maximiser[0] > 0.99 and torch.allclose(reverse_kl_minimiser, p, atol=1e-6)
    return verified_if(not collapses,
                       f"maximising the teacher's score E_q[log p] drives the student to {fmt(score_maximiser, 3)} (the teacher's mode); "
                       f"minimising the reverse KL, which adds the student's entropy, gives {fmt(reverse_kl_minimiser, 3)} = p")


def attention_mutual_information() -> Finding:
    """004 Theorem 6: after successful attention distillation MI(A_S; X) ~ MI(A_T; X)."""
    from ..features import attention_transfer_loss

    # four equally likely inputs; the teacher's attention moves by 1e-6 from input to input, the
    # student's is the same for all: a loss of order 1e-12, yet the teacher's map identifies the input
    base = torch.softmax(torch.randn(1, 4, 4, generator=torch.Generator().manual_seed(64), dtype=F64), -1)
    teacher = torch.stack([base + 1e-6 * x * torch.eye(4, dtype=F64) for x in range(4)])
    student = base.expand(4, 1, 4, 4)
    loss = attention_transfer_loss(student, teacher).item()

    def mutual_information_with_input(maps):  # deterministic maps of a uniform input: I = H(map)
        distinct = {tuple(m.flatten().tolist()) for m in maps}
        counts = torch.tensor([sum(tuple(m.flatten().tolist()) == d for m in maps) for d in distinct], dtype=F64)
        probabilities = counts / counts.sum()
        return float(-(probabilities * probabilities.log()).sum())

    mi_teacher, mi_student = mutual_information_with_input(teacher), mutual_information_with_input(student)
    return false_if(
        loss < 1e-10 and mi_teacher - mi_student > 1.0,
        f"an attention loss of {fmt(loss, '.1e')}, yet I(A_T; X) = {fmt(mi_teacher, 4)} nats (log 4) and I(A_S; X) = {fmt(mi_student + 0.0, 4)}: "
        "mutual information is not continuous in the maps, so a small loss says nothing about it",
    )


def tenfold_without_t_squared() -> Finding:
    """003 §1.4: without T^2 the soft gradient 'scales as 1/T': at T = 10 it is '10x smaller'."""
    z_s, z_t = _random_logits((256, 10), seed=65), _random_logits((256, 10), seed=66)
    unscaled = {T: kd_grad(z_s, z_t, T=T, alpha=1.0, reduction="sum", t_squared=False).norm().item() for T in (1.0, 10.0)}
    shrink = unscaled[1.0] / unscaled[10.0]
    return verified_if(
        abs(shrink - 10) < 2,
        f"from T = 1 to T = 10 the unscaled soft gradient shrinks {fmt(shrink, 1)} times on 256 random logit pairs: for large T "
        "it falls like 1/T^2 (the 1/T of the chain rule times the 1/T by which q - p shrinks), and the factor T^2 "
        "compensates exactly that",
    )


def example1_sums() -> Finding:
    """003 example 1 prints the sums of exponentials 161.2 (T = 1), 18.88 (T = 2) and 7.556 (T = 5)."""
    z = torch.tensor(EXAMPLE1_LOGITS, dtype=F64)
    sums = {T: torch.exp(z / T).sum().item() for T in (1.0, 2.0, 5.0)}
    stated = {1.0: (161.2, 1), 2.0: (18.88, 2), 5.0: (7.556, 3)}
    ok = all(agrees_to_shown_digits(value, sums[T], decimals) for T, (value, decimals) in stated.items())
    return verified_if(ok, f"sums {fmt(sums[1.0], 3)}, {fmt(sums[2.0], 3)}, {fmt(sums[5.0], 4)}: the note truncates the first (161.2 for 161.27) and "
                           "adds its rounded exponentials for the last (7.556 for 7.557); the probabilities are unaffected")


def example1_maximal_at_T5() -> Finding:
    """003 example 1: at T = 5 'the dark knowledge is maximally revealed'."""
    z = torch.tensor(EXAMPLE1_LOGITS, dtype=F64)
    Ts = torch.arange(0.05, 100.0, 0.001, dtype=F64)
    probabilities = torch.softmax(z[None, :] / Ts[:, None], -1)
    gap = probabilities[:, 1] - probabilities[:, 4]  # best wrong class minus worst
    T_gap = Ts[gap.argmax()].item()
    entropy = -(probabilities * probabilities.log()).sum(-1)
    wrong_mass = 1 - probabilities[:, 0]
    monotone = bool((entropy[1:] >= entropy[:-1]).all() and (wrong_mass[1:] >= wrong_mass[:-1]).all())
    return false_if(
        abs(T_gap - 5) > 1 and monotone,
        f"the gap between the best and the worst wrong class peaks at T = {fmt(T_gap, 2)} ({fmt(gap.max().item(), 4)}; "
        f"{fmt(gap[(Ts - 5).abs().argmin()].item(), 4)} at T = 5); the entropy and the mass on wrong classes rise without a "
        "maximum: under none of these measures is T = 5 a maximum",
    )


def example1_information_lost_at_T20() -> Finding:
    """003 example 1: at T = 20 'nearly all class-distinction information is lost'."""
    z = torch.tensor(EXAMPLE1_LOGITS, dtype=F64)
    recovered = 20.0 * softmax_t(z, 20.0).log()
    gap = ((recovered - recovered.mean()) - (z - z.mean())).abs().max().item()
    return false_if(gap < 1e-10, f"20 log p at T = 20, centred, gives back the centred logits (largest difference {below(gap, 1e-10, otherwise='.1e')}): the map from logits to "
                                 "soft targets is invertible up to a constant at every T, so nothing is lost, only compressed")


def simplex_dimension() -> Finding:
    """003 example 3: the teacher's softmax gives C - 1 real numbers per example."""
    ranks = {}
    for C in (3, 10):
        J = softmax_t_jacobian(_random_logits((C,), seed=70 + C), 1.0)
        ranks[C] = int(torch.linalg.matrix_rank(J))
    return verified_if(all(ranks[C] == C - 1 for C in ranks),
                       f"the softmax Jacobian has rank {ranks[3]} for C = 3 and {ranks[10]} for C = 10: a soft target moves in a "
                       "(C - 1)-dimensional simplex")
