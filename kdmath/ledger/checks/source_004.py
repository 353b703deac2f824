"""The checks of source 004's claims (the 'mathematical foundations' module and its theorems)."""

from __future__ import annotations

import math

import torch

from ...gradients import kd_grad
from ...softmax import entropy_t, entropy_t_dT, softmax_t
from .._finding import FALSE, VACUOUS, Finding, below, false_if, fmt, verified_if
from ._common import F64, _random_logits


def softmax_jacobian() -> Finding:
    z = _random_logits((6,), seed=2)
    worst = 0.0
    for T in (0.5, 1.0, 3.0):
        q = softmax_t(z, T)
        stated = (torch.diag(q) - torch.outer(q, q)) / T
        numeric = torch.autograd.functional.jacobian(lambda v: softmax_t(v, T), z)
        worst = max(worst, (numeric - stated).abs().max().item())
    return verified_if(worst < 1e-12, f"(1/T) q_i (delta_ij - q_j) matches autograd's Jacobian: largest difference {below(worst, 1e-12, otherwise='.1e')}")


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
    from ...theory import conditional_mutual_information

    return conditional_mutual_information(joint)


def distillation_generalization_bound() -> Finding:
    """004 Theorem 4: eps_S <= eps_T + sqrt(d_KL) + O(sqrt(complexity/n))."""
    from ...theory import argmax_error_rate

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
    from ...theory import kernel_ridge_self_distillation

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


def least_squares_closed_form() -> Finding:
    """004: W* = h_S h_T^T (h_T h_T^T)^{-1}, stated without a condition."""
    from ...features import least_squares_projection, projection_is_unique

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


def rkd_potentials_004() -> Finding:
    from ...features import rkd_angle_potentials, rkd_distance_potentials

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


def attention_mutual_information() -> Finding:
    """004 Theorem 6: after successful attention distillation MI(A_S; X) ~ MI(A_T; X)."""
    from ...features import attention_transfer_loss

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

