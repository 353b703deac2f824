"""The checks of source 003's claims (the study unit: limits, examples, practice problems, language models)."""

from __future__ import annotations

import math

import torch

from ... import limits
from ...gradients import kd_grad
from ...losses import hard_cross_entropy, kd_loss, kl_divergence, soft_cross_entropy
from ...softmax import logits_for, softmax_t, softmax_t_jacobian
from .._finding import (
    CORRECTED,
    FALSE,
    UNVERIFIABLE,
    VERIFIED,
    Finding,
    agrees_to_shown_digits,
    below,
    false_if,
    fmt,
    verified_if,
)
from ._common import F64, _autograd_soft_gradient, _gap_to_kd_loss, _random_logits


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


def sign_of_update() -> Finding:
    """003 practice problem 2 ends on: a positive q_i - p_i gives a positive gradient, and descent lowers q_i.

    The gradient's sign is right (it is T(q - p)), and in the problem's numbers descent lowers every
    over-weighted probability; but in general a descent step lowers the logit z_{s,i}, not q_i: when other
    logits fall further, q_i rises.
    """
    T = 4.0
    z_t, z_s = logits_for([0.4, 0.35, 0.25], T), logits_for([0.5, 0.3, 0.2], T)
    gradient = kd_grad(z_s, z_t, T=T, alpha=1.0, reduction="sum")
    over = softmax_t(z_s, T) > softmax_t(z_t, T)
    stepped = softmax_t(z_s - 0.01 * gradient, T)
    holds_here = bool((gradient[over] > 0).all() and (stepped[over] < softmax_t(z_s, T)[over]).all())
    # a counterexample: q = (0.8, 0.15, 0.05) over-weights class 2 against p = (0.1, 0.14, 0.76), at T = 1
    q, p = torch.tensor([0.8, 0.15, 0.05], dtype=F64), torch.tensor([0.1, 0.14, 0.76], dtype=F64)
    z_q, z_p = logits_for(q, 1.0), logits_for(p, 1.0)
    step = kd_grad(z_q, z_p, T=1.0, alpha=1.0, reduction="sum")
    rise = (softmax_t(z_q - 0.01 * step, 1.0)[1] - q[1]).item()
    return verified_if(
        holds_here and rise < 0,
        f"in problem 2's numbers a descent step lowers each over-weighted probability; but for q = (0.8, 0.15, 0.05), "
        f"p = (0.1, 0.14, 0.76) at T = 1, q_2 > p_2 and a descent step of 0.01 raises q_2 by {fmt(rise, 6)}: "
        "descent lowers the logit z_2, and the KL, not the probability",
        rise=rise,
    )


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


def zero_temperature_reduction() -> Finding:
    """003 §2.4: T -> 0 is training on the teacher's hard predictions (cross-entropy to argmax)."""
    z_t = torch.tensor([2.0, 1.0, 0.0], dtype=F64)
    z_s = torch.tensor([0.5, 1.0, 0.0], dtype=F64)
    values = {T: kl_divergence(z_s, z_t, T=T, reduction="sum").item() for T in (0.1, 0.01, 0.001)}
    ce_to_argmax = hard_cross_entropy(z_s, torch.tensor(0), reduction="sum").item()
    limit = limits.zero_temperature_soft_loss_limit(z_s, z_t).item()
    diverges = values[0.001] > 10 * values[0.1]
    return Finding(
        CORRECTED if diverges and abs(limit - ce_to_argmax) > 1e-3 else VERIFIED,
        f"without T^2 the soft term grows like 1/T ({fmt(values[0.1], 2)}, {fmt(values[0.01], 2)}, {fmt(values[0.001], 1)} at "
        f"T = 0.1, 0.01, 0.001); with T^2 it vanishes, and T KL tends to max_j z_s,j - z_s,argmax(z_t) = {fmt(limit, 2)} "
        f"(a perceptron criterion), not to the cross-entropy {fmt(ce_to_argmax, 3)} on the teacher's label",
    )


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


def projection_flops_problem3() -> Finding:
    from ... import costs

    per_example = costs.projection_flops(256, 768)
    per_epoch = costs.projection_flops(256, 768, n_vectors=100_000)
    ok = per_example == 393_216 and abs(per_epoch / 1e12 - 0.04) < 0.005
    return verified_if(ok, f"2 x 768 x 256 = {per_example:,} FLOPs per vector; {fmt(per_epoch, '.3e')} per epoch of 100K vectors "
                           f"({fmt(per_epoch / 1e12, 4)} TFLOP), forward only")


def wider_student_params_problem3() -> Finding:
    from ... import costs

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
    from ...vocab import top_k_kl

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
    from ...vocab import sampled_kl

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
    from ... import costs

    total = costs.distillation_cost(1e9, 10.0, 1_000.0)
    return verified_if(abs(total - 11_000) < 1e-6, f"1B tokens x $10 per 1M = ${fmt(total - 1_000, ',.0f')}, plus the note's assumed "
                                                   f"$1,000 of training: ${fmt(total, ',.0f')}")


def break_even_problem5() -> Finding:
    from ... import costs

    tokens = costs.break_even_tokens(11_000.0, 10.0, 0.5)
    days = tokens / (1e6 * 1000)
    days_realistic = tokens / (1e3 * 1000)
    ok = agrees_to_shown_digits(1.16, tokens / 1e9, 2) and days < 1.5
    return verified_if(ok, f"$11,000 / ($9.50 per 1M) = {fmt(tokens / 1e9, 4)}B tokens; at the note's 1M tokens per query and "
                           f"1,000 queries a day that is {fmt(days, 2)} days, at a more typical 1,000 tokens per query "
                           f"{fmt(days_realistic, ',.0f')} days ({fmt(days_realistic / 365, 1)} years)")


def quality_adjusted_break_even() -> Finding:
    """003 problem 5: break-even = $11,000 / ($9.50/1M - value loss per token), without a condition."""
    from ... import costs

    value_loss = 12.0  # dollars per 1M tokens: more than the saving
    formula = 11_000 / ((9.5 - value_loss) / 1e6)
    computed = costs.break_even_tokens(11_000.0, 10.0, 0.5, value_loss_per_million=value_loss)
    return verified_if(formula > 0, f"with a value loss of ${fmt(value_loss, 0)} per 1M tokens the note's formula gives "
                                    f"{fmt(formula, '.3g')} tokens (negative); there is no break-even: {computed}")


def feature_loss_definition() -> Finding:
    from ...features import feature_matching_loss

    generator = torch.Generator().manual_seed(50)
    student = torch.randn(32, 8, generator=generator, dtype=F64)
    teacher = torch.randn(32, 12, generator=generator, dtype=F64)
    W = torch.randn(12, 8, generator=generator, dtype=F64)
    explicit = ((teacher - student @ W.T) ** 2).sum(-1)
    value = feature_matching_loss(student, teacher, W, reduction="none")
    return verified_if(torch.allclose(value.reshape(-1), explicit.reshape(-1), atol=1e-12) or
                       torch.allclose(value.sum(), explicit.sum(), atol=1e-10),
                       "||f_t - W f_s||^2 with W of shape (d_t, d_s): kdmath.features.feature_matching_loss matches the explicit sum")


def attention_loss_conventions() -> Finding:
    from ...features import attention_transfer_loss

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
    from ...features import rkd_distance_loss

    generator = torch.Generator().manual_seed(53)
    teacher = torch.randn(16, 8, generator=generator, dtype=F64)
    student = 2 * teacher
    unnormalised = ((torch.cdist(teacher, teacher) - torch.cdist(student, student)) ** 2).sum().item()
    normalised = rkd_distance_loss(student, teacher).item()
    return verified_if(unnormalised < 1e-12, f"a student equal to the teacher scaled by 2: the note's loss is {fmt(unnormalised, 1)}, "
                                             f"the paper's (distances over their mean, Huber) {below(normalised, 1e-12, otherwise='.1e')}")


# Published GLUE macro-scores (Sanh et al., 2019, table 1): data, not results of this book.
GLUE_BERT_BASE, GLUE_DISTILBERT = 79.5, 77.0


def distilbert_size() -> Finding:
    from ... import costs

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
    # The note defines no measure of how much is 'revealed', so no reading the book picks decides the claim;
    # the check shows what three natural readings give, and finds the claim unverifiable only if none of them
    # has its maximum at T = 5 (were one to, the claim would be a reading away from verified).
    no_reading_peaks_at_5 = abs(T_gap - 5) > 1 and monotone
    return Finding(
        UNVERIFIABLE if no_reading_peaks_at_5 else VERIFIED,
        f"the gap between the best and the worst wrong class peaks at T = {fmt(T_gap, 2)} ({fmt(gap.max().item(), 4)}; "
        f"{fmt(gap[(Ts - 5).abs().argmin()].item(), 4)} at T = 5); the entropy and the mass on wrong classes rise without a "
        "maximum: under none of these readings is T = 5 a maximum",
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



# --------------------------------------------------------------------------- found by the coverage map (lines 1-136)


def softer_above_one_003() -> Finding:
    """003 §1.2: T > 1 gives a 'softer' distribution, flattening the mass and giving more weight to incorrect classes."""
    from ...softmax import entropy_t

    z = _random_logits((32, 10), seed=80)
    temperatures = torch.linspace(1.0, 50.0, 197, dtype=F64)
    entropy = torch.stack([entropy_t(z, float(T)) for T in temperatures])
    wrong_mass = torch.stack([1 - softmax_t(z, float(T)).max(-1).values for T in temperatures])
    rising = bool((entropy[1:] >= entropy[:-1]).all() and (wrong_mass[1:] >= wrong_mass[:-1]).all())
    # one wrong class on its own can lose weight: the runner-up of a close pair
    pair = torch.tensor([5.0, 4.9, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], dtype=F64)
    runner_up = (softmax_t(pair, 1.0)[1].item(), softmax_t(pair, 10.0)[1].item())
    return verified_if(
        rising,
        f"on 32 random logit vectors of 10 classes, from T = 1 to T = 50 the entropy rises (mean {fmt(entropy[0].mean().item(), 2)} "
        f"to {fmt(entropy[-1].mean().item(), 2)} nats) and so does the mass on the incorrect classes (mean {fmt(wrong_mass[0].mean().item(), 2)} "
        f"to {fmt(wrong_mass[-1].mean().item(), 2)}), at every step; the incorrect classes gain together, not each one: the runner-up "
        f"of logits (5, 4.9, 0, ..., 0) falls from {fmt(runner_up[0], 3)} at T = 1 to {fmt(runner_up[1], 3)} at T = 10",
    )


def t_squared_scale_003() -> Finding:
    """003 §1.4: the T^2 factor makes the gradient's scale invariant to temperature, 'at all T'."""
    z_s, z_t = _random_logits((256, 10), seed=81), _random_logits((256, 10), seed=82)
    temperatures = (0.1, 1.0, 10.0, 100.0, 1000.0)
    size = {T: (T * (softmax_t(z_s, T) - softmax_t(z_t, T))).norm(dim=-1).mean().item() for T in temperatures}
    spread = max(size.values()) / min(size.values())
    settles = abs(size[1000.0] / size[100.0] - 1) < 0.01
    shown = ", ".join(f"{fmt(size[T], 3)} at T = {fmt(T, 'g')}" for T in temperatures)
    return verified_if(
        spread < 1.1,
        f"mean size of the scaled soft gradient T(q - p) on 256 random logit pairs: {shown}; "
        f"it settles as T grows ({'within 1%' if settles else 'not within 1%'} from T = 100 to 1000) but changes "
        f"{fmt(spread, 0)}-fold over the range, vanishing like T as T -> 0",
    )


def match_at_one_003() -> Finding:
    """003 §1.5: at T = 1, alpha = 1 the gradient is p_s - p_t and the student learns to match the teacher exactly."""
    z_s, z_t = _random_logits((8, 6), seed=83), _random_logits((8, 6), seed=84)
    gap = (_autograd_soft_gradient(z_s, z_t, 1.0) - (softmax_t(z_s, 1.0) - softmax_t(z_t, 1.0))).abs().max().item()
    z = z_s.clone()
    for _ in range(5000):  # gradient descent on free student logits
        z = z - 2.0 * (softmax_t(z, 1.0) - softmax_t(z_t, 1.0))
    mismatch = (softmax_t(z, 1.0) - softmax_t(z_t, 1.0)).abs().max().item()
    return verified_if(
        gap < 1e-12 and mismatch < 1e-3,
        f"autograd of KL(p_t || p_s) at T = 1 is p_s - p_t (largest difference {below(gap, 1e-12, otherwise='.1e')}); "
        f"it is zero only where p_s = p_t, and descent on free student logits reaches p_s = p_t "
        f"(largest gap {below(mismatch, 1e-3, otherwise='.1e')} after 5,000 steps): a student that can represent p_t matches it exactly",
    )


def logit_loss_sees_only_logits_003() -> Finding:
    """003 §3.1: logit-based distillation is architecture-agnostic and ignores intermediate representations."""
    from ...features import feature_matching_loss

    generator = torch.Generator().manual_seed(85)
    x = torch.randn(32, 20, generator=generator, dtype=F64)
    teacher_in = torch.randn(64, 20, generator=generator, dtype=F64) / 4
    teacher_out = torch.randn(10, 64, generator=generator, dtype=F64) / 8
    student_in = torch.randn(8, 20, generator=generator, dtype=F64) / 4
    student_out = torch.randn(10, 8, generator=generator, dtype=F64) / 3
    teacher_hidden = torch.relu(x @ teacher_in.T)
    z_t = teacher_hidden @ teacher_out.T
    hidden = torch.relu(x @ student_in.T)
    # permute and rescale the student's hidden units (positive scales commute with ReLU): new features, same logits
    order = torch.randperm(8, generator=generator)
    scale = 0.5 + 3 * torch.rand(8, generator=generator, dtype=F64)
    hidden_b = torch.relu(x @ (scale[:, None] * student_in)[order].T)
    logits_a, logits_b = hidden @ student_out.T, hidden_b @ (student_out / scale[None, :])[:, order].T
    y = torch.arange(32) % 10
    kd_a = kd_loss(logits_a, z_t, y, T=4.0, alpha=0.5).item()
    kd_b = kd_loss(logits_b, z_t, y, T=4.0, alpha=0.5).item()
    moved = ((hidden_b - hidden).norm() / hidden.norm()).item()
    projection = torch.randn(64, 8, generator=generator, dtype=F64) / 3
    feature_a = feature_matching_loss(hidden, teacher_hidden, projection).item()
    feature_b = feature_matching_loss(hidden_b, teacher_hidden, projection).item()
    same = abs(kd_a - kd_b) < 1e-12 and abs(feature_a - feature_b) > 1.0
    return verified_if(
        same,
        f"a teacher with 64 hidden units and a student with 8: the distillation loss needs no projection, only the same 10 outputs "
        f"(for language models, the same vocabulary); permuting and rescaling the student's hidden units moves its features by "
        f"{fmt(100 * moved, 0)}% but leaves its logits and the loss unchanged (difference {below(abs(kd_a - kd_b), 1e-12, otherwise='.1e')}), "
        f"while a feature loss through a fixed projection goes from {fmt(feature_a, 1)} to {fmt(feature_b, 1)}; 'simple' is not measured",
    )


def _note_angle_loss(student, teacher):
    """003 §3.3's angle loss: squared differences of the angles (not their cosines) over distinct triplets."""
    from ...features import rkd_angle_potentials

    n = student.shape[0]
    index = torch.arange(n)
    distinct = ((index[:, None, None] != index[None, :, None]) & (index[None, :, None] != index[None, None, :])
                & (index[:, None, None] != index[None, None, :]))
    angles = [torch.arccos(rkd_angle_potentials(x).clamp(-1.0, 1.0)) for x in (student, teacher)]
    return ((angles[1] - angles[0]) ** 2)[distinct].sum().item()


def _embedded(teacher, generator, scale):
    """The teacher's rows rotated, scaled, translated and placed in 4 more dimensions."""
    width = teacher.shape[1] + 4
    rotation, _ = torch.linalg.qr(torch.randn(width, width, generator=generator, dtype=F64))
    shift = torch.randn(width, generator=generator, dtype=F64)
    padded = torch.cat([teacher, torch.zeros(teacher.shape[0], 4, dtype=F64)], 1)
    return scale * padded @ rotation.T + shift


def rkd_angle_003() -> Finding:
    """003 §3.3: L_angle = sum over triplets of (psi_A(t) - psi_A(s))^2, psi_A the angle formed by three points."""
    from ...features import rkd_angle_loss

    generator = torch.Generator().manual_seed(86)
    teacher = torch.randn(10, 8, generator=generator, dtype=F64)
    similar = _embedded(teacher, generator, 3.0)
    perturbed = similar + 0.3 * torch.randn(similar.shape, generator=generator, dtype=F64)
    note_similar, park_similar = _note_angle_loss(similar, teacher), rkd_angle_loss(similar, teacher).item()
    note_perturbed, park_perturbed = _note_angle_loss(perturbed, teacher), rkd_angle_loss(perturbed, teacher).item()
    same_zeros = max(note_similar, park_similar) < 1e-20 and min(note_perturbed, park_perturbed) > 1e-4
    return verified_if(
        same_zeros,
        f"for a student that is the teacher rotated, scaled by 3, translated and set in 12 dimensions (the teacher has 8), the note's "
        f"squared angle differences and Park et al.'s Huber loss of the cosines are both 0 ({below(max(note_similar, park_similar), 1e-20, otherwise='.1e')}); "
        f"for a perturbed student both are positive ({fmt(note_perturbed, 2)} and {fmt(park_perturbed, '.1e')}): the cosine is one-to-one "
        "on [0, pi], so the two losses have the same zeros; they differ in scale and shape (Park et al. average over triplets, with the Huber loss)",
    )


def rkd_relative_structure_003() -> Finding:
    """003 §3.3: with RKD the student need not reproduce the teacher's exact features, only their relative structure."""
    generator = torch.Generator().manual_seed(88)
    teacher = torch.randn(10, 8, generator=generator, dtype=F64)
    student = _embedded(teacher, generator, 1.0)
    distance = ((torch.cdist(teacher, teacher) - torch.cdist(student, student)) ** 2).sum().item()
    angle = _note_angle_loss(student, teacher)
    rescaled = _embedded(teacher, generator, 2.0)
    rescaled_distance = ((torch.cdist(teacher, teacher) - torch.cdist(rescaled, rescaled)) ** 2).sum().item()
    return verified_if(
        max(distance, angle) < 1e-20 and _note_angle_loss(rescaled, teacher) < 1e-20,
        f"a student whose embeddings are the teacher's rotated, translated and set in 12 dimensions (the teacher's have 8) has the note's "
        f"distance and angle losses both at 0 ({below(max(distance, angle), 1e-20, otherwise='.1e')}), though its features live in another "
        f"space; rescaled by 2 it keeps the angle loss at 0, but the note's distance loss, without Park et al.'s normaliser, "
        f"becomes {fmt(rescaled_distance, 0)} (003-rkd)",
    )


# Layer maps of the published students (Sanh et al., 2019; Jiao et al., 2020), teacher layers counted from 1;
# chapter 7 asserts them too.
_TEACHER_LAYERS_MATCHED = {
    "TinyBERT (4 layers)": (4, 12, tuple(3 * m for m in range(1, 5))),  # g(m) = 3m, hidden states of every student layer
    "DistilBERT": (6, 12, (12,)),  # a cosine loss on the final hidden states only
}


def hidden_state_layer_maps_003() -> Finding:
    """003 §3.5: TinyBERT and DistilBERT match hidden states, half depth, every other teacher layer mapped."""
    as_stated = True
    shown = []
    for name, (student_layers, teacher_layers, matched) in _TEACHER_LAYERS_MATCHED.items():
        every_other = tuple(2 * m for m in range(1, student_layers + 1))
        as_stated &= teacher_layers == 2 * student_layers and matched == every_other
        shown.append(f"{name}: {student_layers} of {teacher_layers} layers, teacher layers {matched} matched, "
                     f"against the note's every other {every_other}")
    return verified_if(as_stated, "; ".join(shown) + ". DistilBERT uses one teacher layer in two only to initialise its student")


def distil_recipe_003() -> Finding:
    """003 §5.3: DistilGPT-2 / DistilBERT style: half the layers, initialised from every other layer, KL + cosine + hard loss."""
    depth = {"DistilBERT": (6, 12), "DistilGPT-2": (6, 12)}  # Sanh et al. (2019); the DistilGPT-2 model card
    halves = all(student == teacher / 2 for student, teacher in depth.values())
    # DistilBERT's soft loss is the cross-entropy to the teacher's soft targets: the KL plus the teacher's entropy
    z_s, z_t = _random_logits((16, 12), seed=89), _random_logits((16, 12), seed=90)
    student = z_s.clone().requires_grad_(True)
    (ce_gradient,) = torch.autograd.grad(soft_cross_entropy(student, z_t, T=2.0, reduction="sum"), student)
    gap = (ce_gradient - _autograd_soft_gradient(z_s, z_t, 2.0)).abs().max().item()
    return verified_if(
        halves and gap < 1e-12,
        "DistilBERT has 6 of BERT-base's 12 layers, initialised from one teacher layer in two (the released script takes 1, 3, 5, 8, "
        "10, 12), and DistilGPT-2 6 of GPT-2's 12; DistilBERT trains with the cross-entropy to soft targets, masked-LM and a cosine "
        f"loss; the soft cross-entropy has the KL's gradient (largest difference {below(gap, 1e-12, otherwise='.1e')})",
    )


def _gpt2_params(n_layers: int, vocab_size: int = 50257, max_positions: int = 1024, d_model: int = 768) -> int:
    """GPT-2: token and position embeddings, n layers with biases and two layer norms, a final layer norm; the head is tied."""
    from ... import costs

    layer = costs.transformer_layer_params(d_model, bias=True, layer_norm=True)["total"]
    return (vocab_size + max_positions) * d_model + n_layers * layer + 2 * d_model


def distilgpt2_size_003() -> Finding:
    """003 §5.3: DistilGPT-2 / DistilBERT style gives a 40% parameter reduction."""
    gpt2, distil = _gpt2_params(12), _gpt2_params(6)
    reduction = 100 * (1 - distil / gpt2)
    return verified_if(
        agrees_to_shown_digits(40, reduction, 0),
        f"GPT-2 {gpt2:,} parameters, DistilGPT-2 (6 layers) {distil:,}: {fmt(reduction, 1)}% fewer, not 40% (DistilBERT's figure)",
    )


# Vocabulary sizes of released language models (their configuration files).
_VOCABULARY_SIZES = {"Llama 2": 32_000, "GPT-2": 50_257, "Llama 3": 128_256, "Gemma": 256_000}


def vocabulary_sizes_003() -> Finding:
    """003 §5.1: for LLMs, K = |V| is about 32K-256K tokens."""
    sizes = _VOCABULARY_SIZES.values()
    within = all(31_500 <= size <= 262_144 for size in sizes)
    ends = agrees_to_shown_digits(32, min(sizes) / 1000, 0) and agrees_to_shown_digits(256, max(sizes) / 1000, 0)
    shown = ", ".join(f"{name} {size:,}" for name, size in _VOCABULARY_SIZES.items())
    return verified_if(within and ends, f"{shown}: the range 32K-256K, ends included")


def on_policy_prefixes_003() -> Finding:
    """003 §5.3: on-policy distillation costs student rollouts but trains on the student's own distribution."""
    generator = torch.Generator().manual_seed(87)
    tokens, length, rollouts = 4, 8, 20_000
    teacher = torch.softmax(2 * torch.randn(tokens, tokens, generator=generator, dtype=F64), -1)  # bigram models
    student = torch.softmax(2 * torch.randn(tokens, tokens, generator=generator, dtype=F64), -1)
    start = torch.full((tokens,), 1 / tokens, dtype=F64)
    teacher_marginal, student_marginal = start.clone(), start.clone()
    for _ in range(length):
        teacher_marginal, student_marginal = teacher_marginal @ teacher, student_marginal @ student
    off_policy_gap = 0.5 * (teacher_marginal - student_marginal).abs().sum().item()
    state = torch.multinomial(start, rollouts, replacement=True, generator=generator)
    for _ in range(length):  # the rollouts: one sequential student step per token
        state = torch.multinomial(student[state], 1, generator=generator).squeeze(-1)
    sampled = torch.bincount(state, minlength=tokens).to(F64) / rollouts
    on_policy_gap = 0.5 * (sampled - student_marginal).abs().sum().item()
    return verified_if(
        off_policy_gap > 0.1 and on_policy_gap < 0.01,
        f"two bigram models over 4 tokens: at step {length} the prefixes of the teacher's text, on which off-policy distillation "
        f"trains, are at total variation {fmt(off_policy_gap, 2)} from the student's own; {rollouts:,} student rollouts, {length} "
        f"sequential student steps each (the extra cost), reproduce the student's distribution (distance {below(on_policy_gap, 0.01, otherwise='.3f')})",
    )


def alpha_on_soft_term() -> Finding:
    """003 §1.3 and 004 §4 weight the soft term by alpha: (1 - alpha) CE + alpha T^2 KL, the book's kd_loss at alpha."""
    worst = _gap_to_kd_loss(lambda a: 1 - a, lambda a: a, lambda a: a, seed=34)
    return verified_if(worst < 1e-12, "(1 - alpha) CE + alpha T^2 KL equals kdmath.kd_loss at the same alpha: largest difference "
                                      f"{below(worst, 1e-12, otherwise='.1e')}")
