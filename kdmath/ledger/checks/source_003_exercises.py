"""The checks of the claims in :mod:`kdmath.ledger.claims.source_003_exercises` (source 003's worked examples, quiz and practice problems)."""

from __future__ import annotations

import math

import torch

from ...losses import hard_cross_entropy, kl_divergence
from ...softmax import logits_for, softmax_t
from .._finding import (
    Finding,
    agrees_to_shown_digits,
    below,
    false_if,
    fmt,
    verified_if,
)
from ._common import F64, _random_logits

# Example 1's teacher logits (source 003, line 139).
_EXAMPLE1 = (5.0, 2.0, 1.0, 0.5, 0.1)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    return -(p * p.log()).sum(-1)


def example1_exponentials_003() -> Finding:
    """003 example 1: the exponentials e^{z/T} it prints at T = 1, 2 and 5."""
    z = torch.tensor(_EXAMPLE1, dtype=F64)
    stated = {
        1: ((148.4, 7.39, 2.72, 1.65, 1.11), (1, 2, 2, 2, 2)),
        2: ((12.18, 2.718, 1.649, 1.284, 1.051), (2, 3, 3, 3, 3)),
        5: ((2.718, 1.492, 1.221, 1.105, 1.020), (3, 3, 3, 3, 3)),
    }
    computed = {T: torch.exp(z / T).tolist() for T in stated}
    wrong = [(T, s) for T, (values, places) in stated.items()
             for s, c, d in zip(values, computed[T], places) if not agrees_to_shown_digits(s, c, d)]
    return verified_if(
        not wrong,
        f"e^(z/T) = {fmt(computed[1], 4)} at T = 1, {fmt(computed[2], 4)} at T = 2, {fmt(computed[5], 4)} at T = 5: "
        f"{'every printed value is these rounded' if not wrong else f'not a rounding of them: {wrong}'}",
    )


def example1_more_spread_003() -> Finding:
    """003 example 1: at T = 2 the softmax is 'more spread' than at T = 1."""
    z = torch.tensor(_EXAMPLE1, dtype=F64)
    entropies = [_entropy(softmax_t(z, T)).item() for T in (1.0, 2.0, 5.0, 20.0)]
    peaks = [softmax_t(z, T).max().item() for T in (1.0, 2.0)]
    return verified_if(
        entropies[1] > entropies[0] and peaks[1] < peaks[0],
        f"entropy {fmt(entropies[0], 3)} nats at T = 1, {fmt(entropies[1], 3)} at T = 2 (then {fmt(entropies[2], 3)} at T = 5 and "
        f"{fmt(entropies[3], 3)} at T = 20, of at most log 5 = {fmt(math.log(5), 3)}); the top probability falls from "
        f"{fmt(peaks[0], 3)} to {fmt(peaks[1], 3)}",
    )


def example1_best_wrong_003() -> Finding:
    """003 example 1: at T = 2 class 2 gets 14.4%, 'revealing' that it is the best wrong answer."""
    z = torch.tensor(_EXAMPLE1, dtype=F64)
    p2 = softmax_t(z, 2.0)
    temperatures = torch.logspace(-1, 2, 301, dtype=F64)
    best_wrong = [int(softmax_t(z, T.item())[1:].argmax()) + 2 for T in temperatures]
    always = all(c == 2 for c in best_wrong)
    p1 = softmax_t(z, 1.0)
    return verified_if(
        agrees_to_shown_digits(14.4, 100 * p2[1].item(), 1) and always,
        f"class 2 holds {fmt(100 * p2[1].item(), 2)}% at T = 2, and it is the most probable wrong class at every T from 0.1 to 100 "
        f"(it has the largest wrong logit): at T = 1 already, with {fmt(p1[1].item(), 4)} against {fmt(p1[2].item(), 4)} for class 3",
    )


def example1_rank_order_003() -> Finding:
    """003 example 1: at T = 5 'the rank order is preserved'."""
    z = torch.tensor(_EXAMPLE1, dtype=F64)
    order = torch.argsort(z, descending=True)
    temperatures = torch.logspace(-1, 2, 301, dtype=F64)
    kept = all(torch.equal(torch.argsort(softmax_t(z, T.item()), descending=True), order) for T in temperatures)
    gaps = softmax_t(z, 5.0)[:-1] - softmax_t(z, 5.0)[1:]
    return verified_if(
        kept and bool((gaps > 0).all()),
        f"the probabilities keep the logits' order at every T from 0.1 to 100 (e^(z_i/T) is increasing in z_i); at T = 5 the "
        f"gaps between neighbours are {fmt(gaps, 4)}, all positive",
    )


def example2_kl_steps_003() -> Finding:
    """003 example 2: the intermediate numbers of KL((0.6, 0.3, 0.1) || (0.5, 0.2, 0.3))."""
    p = torch.tensor([0.6, 0.3, 0.1], dtype=F64)
    q = torch.tensor([0.5, 0.2, 0.3], dtype=F64)
    ratios = p / q
    logs = ratios.log()
    terms = p * logs
    stated = [(1.2, ratios[0].item(), 1), (1.5, ratios[1].item(), 1), (0.333, ratios[2].item(), 3),
              (0.182, logs[0].item(), 3), (0.405, logs[1].item(), 3), (-1.099, logs[2].item(), 3),
              (0.109, terms[0].item(), 3), (0.122, terms[1].item(), 3), (-0.110, terms[2].item(), 3)]
    wrong = [s for s, c, d in stated if not agrees_to_shown_digits(s, c, d)]
    return verified_if(
        not wrong,
        f"ratios {fmt(ratios, 4)}, their logs {fmt(logs, 4)}, the terms p_i log(p_i/q_i) {fmt(terms, 4)}, summing to "
        f"{fmt(terms.sum().item(), 4)}: {'each printed number is these rounded' if not wrong else f'not roundings: {wrong}'}",
    )


def _kl_gradient(p_t: torch.Tensor, p_s: torch.Tensor, T: float) -> torch.Tensor:
    """d KL(p_t || sigma_T(z_s)) / d z_s by autograd, at student logits z_s = T log p_s (so sigma_T(z_s) = p_s)."""
    z_s = (T * p_s.log()).clone().requires_grad_(True)
    kl = (p_t * (p_t.log() - torch.log_softmax(z_s / T, -1))).sum()
    (gradient,) = torch.autograd.grad(kl, z_s)
    return gradient


def example2_gradient_003() -> Finding:
    """003 example 2: at T = 1 the KL gradient is p_s - p_t = (-0.1, -0.1, 0.2)."""
    p_t = torch.tensor([0.6, 0.3, 0.1], dtype=F64)
    p_s = torch.tensor([0.5, 0.2, 0.3], dtype=F64)
    at_1, at_2 = _kl_gradient(p_t, p_s, 1.0), _kl_gradient(p_t, p_s, 2.0)
    ok = all(agrees_to_shown_digits(s, c, 1) for s, c in zip((-0.1, -0.1, 0.2), at_1.tolist()))
    return verified_if(
        ok,
        f"autograd of KL(p_t || sigma_1(z_s)) at sigma_1(z_s) = p_s gives {fmt(at_1, 4)}; had the student's (0.5, 0.2, 0.3) been its "
        f"softmax at T = 2, as the teacher's is, the gradient would be {fmt(at_2, 4)}, with the factor 1/T",
    )


def example2_directions_003() -> Finding:
    """003 example 2: to reduce the KL, cat and dog must rise and bird fall; 'the gradient pushes in exactly these directions'."""
    p_t = torch.tensor([0.6, 0.3, 0.1], dtype=F64)
    p_s = torch.tensor([0.5, 0.2, 0.3], dtype=F64)
    gradient = _kl_gradient(p_t, p_s, 1.0)
    z_s = p_s.log()
    after = torch.softmax(z_s - 0.1 * gradient, -1)
    change = after - p_s
    kl_before = (p_t * (p_t / p_s).log()).sum().item()
    kl_after = (p_t * (p_t / after).log()).sum().item()
    signs_ok = change[0] > 0 and change[1] > 0 and change[2] < 0
    return verified_if(
        bool(signs_ok) and kl_after < kl_before,
        f"a descent step of size 0.1, which moves the logits against the gradient, changes the probabilities by {fmt(change, 4)} "
        f"(cat and dog up, bird down) and lowers the KL from {fmt(kl_before, 4)} to {fmt(kl_after, 4)}",
    )


def problem1_steps_003() -> Finding:
    """003 problems 1 and 2: the derivative of log-softmax and the algebra that ends in T (p_s - p_t)."""
    import sympy as sp

    from ...derivations._symbols import T
    from ...derivations.general_gradients import (
        GeneralStep,
        i,
        j,
        log_softmax,
        softmax,
        z,
    )

    derivative = GeneralStep(
        "d log q_j / d z_i = (delta_ij - q_i)/T, for every K",
        sp.Derivative(log_softmax(j), z[i]), (sp.KroneckerDelta(i, j) - softmax(i)) / T, "=", None, i,
    )
    p, q = sp.symbols("p q", positive=True)  # p_t^T(i), p_s^T(i); the other teacher probabilities sum to 1 - p
    rest = 1 - p
    problem1 = [  # the note's chain in problem 1, from "Plugging in" to the end
        -T**2 * (p * (1 - q) / T + rest * (-q / T)),
        -T * (p * (1 - q) - q * rest),
        -T * (p - p * q - q * (1 - p)),
        -T * (p - p * q - q + q * p),
        -T * (p - q),
        T * (q - p),
    ]
    problem2 = [  # the same with -log, in problem 2's re-derivation
        T**2 * (p * (-1 / T) * (1 - q) + rest * (1 / T) * q),
        T * (-p * (1 - q) + q * (1 - p)),
        T * (-p + p * q + q - q * p),
        T * (q - p),
    ]
    chains = [problem1, problem2]
    algebra_ok = all(sp.simplify(a - b) == 0 for chain in chains for a, b in zip(chain, chain[1:]))
    cases_ok = all(sp.simplify(e) == 0 for e in (
        ((sp.KroneckerDelta(i, j) - q) / T).subs(j, i) - (1 - q) / T,  # j = i
        ((0 - q) / T) - (-q / T),  # j != i: delta_ij = 0
    ))
    derivative_ok = derivative.holds()
    steps = sum(len(chain) - 1 for chain in chains)
    return verified_if(
        derivative_ok and algebra_ok and cases_ok,
        f"sympy proves d log q_j/d z_i = (delta_ij - q_i)/T for every K ({'holds' if derivative_ok else 'fails'}), whose two cases "
        f"are the note's (1/T)(1 - q_i) and -(1/T) q_i; and each of the {steps} rewritings of the two chains, with "
        f"sum over j != i of p_j = 1 - p_i, is an identity ({'all hold' if algebra_ok else 'one fails'})",
    )


# Practice problem 2's data (source 003, line 249).
_PP2_T, _PP2_ALPHA = 4.0, 0.5
_PP2_TEACHER, _PP2_STUDENT = (0.4, 0.35, 0.25), (0.5, 0.3, 0.2)


def problem2_logits_003() -> Finding:
    """003 problem 2: z_s = 4 log p_s^T + C = (-2.77, -4.82, -6.44) + C."""
    q = torch.tensor(_PP2_STUDENT, dtype=F64)
    z_s = _PP2_T * q.log()
    back = softmax_t(z_s + 7.0, _PP2_T)  # any constant: the softmax ignores it
    ok = all(agrees_to_shown_digits(s, c, 2) for s, c in zip((-2.77, -4.82, -6.44), z_s.tolist()))
    gap = (back - q).abs().max().item()
    return verified_if(
        ok and gap < 1e-12,
        f"4 log (0.5, 0.3, 0.2) = {fmt(z_s, 4)}; these logits plus any constant give back sigma_4 = (0.5, 0.3, 0.2) "
        f"(largest difference {below(gap, 1e-12, otherwise='.1e')})",
    )


def problem2_sigma1_003() -> Finding:
    """003 problem 2: p_s = sigma_1(z_s) = (0.063, 0.008, 0.002)/0.073 = (0.86, 0.11, 0.03)."""
    q = torch.tensor(_PP2_STUDENT, dtype=F64)
    exponentials = torch.exp(_PP2_T * q.log())
    total = exponentials.sum().item()
    p1 = softmax_t(_PP2_T * q.log(), 1.0)
    stated = [(0.063, exponentials[0].item(), 3), (0.008, exponentials[1].item(), 3), (0.002, exponentials[2].item(), 3),
              (0.073, total, 3), (0.86, p1[0].item(), 2), (0.11, p1[1].item(), 2), (0.03, p1[2].item(), 2)]
    wrong = [s for s, c, d in stated if not agrees_to_shown_digits(s, c, d)]
    return verified_if(
        not wrong,
        f"e^(z_s) = q^4 = {fmt(exponentials, 4)}, summing to {fmt(total, 4)}, so sigma_1(z_s) = {fmt(p1, 4)}; "
        f"the note's {', '.join(str(w) for w in wrong) or 'numbers'} {'are not' if len(wrong) > 1 else 'is not'} these rounded: "
        "it divides the exponentials after rounding them to three decimals",
    )


def problem2_hard_003() -> Finding:
    """003 problem 2: hard part (1 - alpha)(sigma_1(z_s) - e_0) = (-0.07, 0.055, 0.015)."""
    z_s = logits_for(list(_PP2_STUDENT), _PP2_T).clone().requires_grad_(True)
    loss = (1 - _PP2_ALPHA) * hard_cross_entropy(z_s, torch.tensor(0), reduction="sum")
    (hard,) = torch.autograd.grad(loss, z_s)
    stated, places = (-0.07, 0.055, 0.015), (2, 3, 3)
    wrong = [s for s, c, d in zip(stated, hard.tolist(), places) if not agrees_to_shown_digits(s, c, d)]
    return verified_if(
        not wrong,
        f"autograd of 0.5 CE(e_0, sigma_1(z_s)) gives {fmt(hard, 4)}; the note's {', '.join(str(w) for w in wrong) or 'values'} "
        "are not these rounded: they are half its rounded sigma_1(z_s) = (0.86, 0.11, 0.03)",
    )


def problem2_soft_003() -> Finding:
    """003 problem 2: soft part alpha T (p_s^T - p_t^T) = 2 (0.1, -0.05, -0.05) = (0.2, -0.1, -0.1); update (-0.2, 0.1, 0.1)."""
    z_t = logits_for(list(_PP2_TEACHER), _PP2_T)
    z_s = logits_for(list(_PP2_STUDENT), _PP2_T).clone().requires_grad_(True)
    loss = _PP2_ALPHA * _PP2_T**2 * kl_divergence(z_s, z_t, T=_PP2_T, reduction="sum")
    (soft,) = torch.autograd.grad(loss, z_s)
    ok = all(agrees_to_shown_digits(s, c, 1) for s, c in zip((0.2, -0.1, -0.1), soft.tolist()))
    before = softmax_t(z_s.detach(), _PP2_T)
    change = softmax_t(z_s.detach() - 0.1 * soft, _PP2_T) - before
    directions_ok = change[0] < 0 and change[1] > 0 and change[2] > 0
    return verified_if(
        ok and bool(directions_ok),
        f"autograd of alpha T^2 KL at T = 4, alpha = 0.5 gives {fmt(soft, 4)}, i.e. alpha T = 2 times q - p; a step along "
        f"minus it changes sigma_4(z_s) by {fmt(change, 4)}: class 0 down, classes 1 and 2 up, toward the teacher",
    )


def problem2_small_logits_003() -> Finding:
    """003 problem 2: taking sigma_1(z_s) ~ sigma_4(z_s) 'is only valid if the logits are small'."""
    def gap(logits):
        z = torch.tensor(logits, dtype=F64)
        return (softmax_t(z, 1.0) - softmax_t(z, 4.0)).abs().max().item()

    large_but_close = gap([100.0, 100.1, 99.9])
    small = gap([0.0, 0.1, -0.1])
    q = torch.tensor(_PP2_STUDENT, dtype=F64)
    z_s = _PP2_T * q.log()
    here = gap(z_s.tolist())
    spread = (z_s.max() - z_s.min()).item()
    # "only if the logits are small": logits of size 100 that lie close together pass as well as small ones do
    return verified_if(
        large_but_close > 2 * small,
        f"logits (100, 100.1, 99.9), far from small, give distributions at T = 1 and T = 4 within {fmt(large_but_close, 3)} of each "
        f"other, as (0, 0.1, -0.1) do ({fmt(small, 3)}): the softmax ignores a common shift, so what matters is the logits' spread; "
        f"here the spread is {fmt(spread, 2)} and the two distributions differ by up to {fmt(here, 3)}",
    )


def problem2_confusion_003() -> Finding:
    """003 problem 2: 'the soft loss pushes class 0 up'; 'a positive gradient increases z_{s,i}'; 'we want to increase p_s'."""
    z_t = logits_for(list(_PP2_TEACHER), _PP2_T)
    z_s = logits_for(list(_PP2_STUDENT), _PP2_T)

    def soft_loss(logits):
        return _PP2_ALPHA * _PP2_T**2 * kl_divergence(logits, z_t, T=_PP2_T, reduction="sum").item()

    student = z_s.clone().requires_grad_(True)
    loss = _PP2_ALPHA * _PP2_T**2 * kl_divergence(student, z_t, T=_PP2_T, reduction="sum")
    (gradient,) = torch.autograd.grad(loss, student)
    step = 0.1 * gradient
    descended = z_s - step
    up = z_s.clone()
    up[0] += 0.1
    p0_before = softmax_t(z_s, _PP2_T)[0].item()
    p0_after = softmax_t(descended, _PP2_T)[0].item()
    counterexample = gradient[0] > 0 and descended[0] < z_s[0] and p0_after < p0_before and soft_loss(up) > soft_loss(z_s)
    return false_if(
        bool(counterexample),
        f"the soft gradient's class-0 component is {fmt(gradient[0].item(), 3)}; a descent step lowers z_s,0 and p_s^T(0) from "
        f"{fmt(p0_before, 4)} to {fmt(p0_after, 4)}, and the soft loss from {fmt(soft_loss(z_s), 4)} to {fmt(soft_loss(descended), 4)}; "
        f"raising z_s,0 by 0.1 instead raises it to {fmt(soft_loss(up), 4)}",
    )


def _layer_weight_flops(d: int) -> int:
    """Per-token forward FLOPs of one transformer layer's weight matrices, counted matrix by matrix (2 per multiply-add)."""
    shapes = [(d, d)] * 4 + [(d, 4 * d), (4 * d, d)]  # W_Q, W_K, W_V, W_O; the FFN's two matrices
    return sum(2 * a * b for a, b in shapes)


def problem3_quadratic_003() -> Finding:
    """003 problem 3: a layer's parameters are 'roughly proportional to d_s^2'."""
    from ... import costs

    ratios = {}
    for d in (256, 768):
        weights = costs.transformer_layer_params(d)["total"]
        everything = costs.transformer_layer_params(d, bias=True, layer_norm=True)["total"]
        ratios[d] = (weights / d**2, everything / d**2)
    ok = all(abs(w - 12) < 1e-12 and abs(e - 12) < 0.1 for w, e in ratios.values())
    return verified_if(
        ok,
        f"a layer's weight matrices hold exactly 12 d^2 parameters (4 d^2 attention, 8 d^2 FFN); with biases and layer norms "
        f"{fmt(ratios[256][1], 3)} d^2 at d = 256 and {fmt(ratios[768][1], 3)} d^2 at d = 768",
    )


def problem3_wider_flops_003() -> Finding:
    """003 problem 3: a wider student costs 'proportionally more FLOPs per forward pass'."""
    from ... import costs

    narrow, wide = 256, 768
    weight_ratio = costs.transformer_layer_params(wide)["total"] / costs.transformer_layer_params(narrow)["total"]
    flop_ratio = _layer_weight_flops(wide) / _layer_weight_flops(narrow)

    def layer_flops(d, n):  # weights, plus the attention scores Q K^T and their product with V: 4 n d per token
        return _layer_weight_flops(d) + 4 * n * d

    ratios = {n: layer_flops(wide, n) / layer_flops(narrow, n) for n in (128, 4096)}
    return verified_if(
        abs(flop_ratio - weight_ratio) < 1e-12 and all(abs(r / weight_ratio - 1) < 0.1 for r in ratios.values()),
        f"the weight matrices cost 2 FLOPs per weight and token, so their FLOPs grow {fmt(flop_ratio, 1)}-fold with the weights; "
        f"the attention scores, 4 n d per token for n tokens, grow only 3-fold: a layer's FLOPs grow {fmt(ratios[128], 2)}-fold "
        f"at n = 128 tokens and {fmt(ratios[4096], 2)}-fold at n = 4,096",
    )


def problem3_projection_cheaper_003() -> Finding:
    """003 problem 3: 'the projection is clearly the more efficient approach'."""
    from ... import costs

    projection_weights = 768 * 256
    projection_flops = costs.projection_flops(256, 768)
    extra_weights = 12 * (costs.transformer_layer_params(768)["total"] - costs.transformer_layer_params(256)["total"])
    extra_flops = 12 * (_layer_weight_flops(768) - _layer_weight_flops(256))
    return verified_if(
        projection_weights < extra_weights / 100 and projection_flops < extra_flops / 100,
        f"the projection: {projection_weights:,} weights and {projection_flops:,} FLOPs per vector, during training only; "
        f"the wider student: {extra_weights:,} more weights and {extra_flops:,} more FLOPs per token, at every inference",
    )


def problem4_deterministic_003() -> Finding:
    """003 problem 4: top-k KL is deterministic; the sampled estimate is stochastic."""
    from ...vocab import sampled_kl, top_k_kl

    z_s, z_t = _random_logits((1, 2000), seed=80), _random_logits((1, 2000), seed=81)
    top = [top_k_kl(z_s, z_t, 256).item() for _ in range(2)]
    sampled = [sampled_kl(z_s, z_t, 512, generator=torch.Generator().manual_seed(s)).item() for s in (1, 2)]
    return verified_if(
        top[0] == top[1] and sampled[0] != sampled[1],
        f"on one 2,000-token position the top-256 KL is {fmt(top[0], 4)} on every evaluation; the 512-sample estimate is "
        f"{fmt(sampled[0], 4)} with one draw and {fmt(sampled[1], 4)} with another",
    )
