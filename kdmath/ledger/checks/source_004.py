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



# --- claims added with the coverage map of note 004 ------------------------------------------------


def rigorous_proofs_004() -> Finding:
    """004, overview: 'This module provides rigorous mathematical foundations and proofs.'

    A false statement has no proof, rigorous or not: run the checks of the note's theorems and
    count those that find a counterexample.
    """
    theorem_checks = {
        "2": gradient_magnitude_preservation,
        "4": distillation_generalization_bound,
        "6": attention_mutual_information,
        "7 (its optimal k)": progressive_optimal_steps,
        "8": self_distillation_monotone,
        "9": optimal_temperature_formula,
    }
    refuted = [number for number, check in theorem_checks.items() if check().verdict == FALSE]
    return false_if(
        bool(refuted),
        f"the checks find counterexamples to {len(refuted)} of the note's nine theorems (Theorems {', '.join(refuted)}); "
        "a false statement has no proof, and of the rest Theorem 3 is vacuous, Theorem 5 cites a proof that does not "
        "exist, and Theorem 1's proof restates it",
        refuted=refuted,
    )


def entropy_toward_log_k_004() -> Finding:
    """004, Theorem 1's proof: as T increases the entropy of sigma_T(z) increases toward log K."""
    z = _random_logits((64, 7), seed=401)
    temperatures = torch.logspace(-1, 4, 200, dtype=F64)

    def entropy(T):  # plain torch, not kdmath's entropy_t
        log_q = torch.log_softmax(z / T, dim=-1)
        return -(log_q.exp() * log_q).sum(-1)

    curve = torch.stack([entropy(float(T)) for T in temperatures])
    rises = bool((curve[1:] >= curve[:-1] - 1e-12).all())
    gap = (math.log(7) - curve[-1]).abs().max().item()
    return verified_if(
        rises and gap < 1e-6,
        f"on 64 random logit vectors (K = 7) the entropy never falls along 200 temperatures from 0.1 to 10^4, and at "
        f"T = 10^4 its distance to log 7 is {below(gap, 1e-6, otherwise='.1e')} (true, but it is Theorem 1 restated, "
        "not a proof of it)",
    )


def jacobian_temperature_scaling_004() -> Finding:
    """004, after the Jacobian: 'The factor 1/T means gradients are scaled by temperature.'"""
    z = _random_logits((6,), seed=402)

    def jacobian(v, T):
        return torch.autograd.functional.jacobian(lambda u: torch.softmax(u / T, dim=-1), v)

    naive, exact = 0.0, 0.0
    for T in (0.5, 2.0, 4.0):
        J = jacobian(z, T)
        naive = max(naive, ((J - jacobian(z, 1.0) / T).abs().max() / J.abs().max()).item())
        exact = max(exact, (J - jacobian(z / T, 1.0) / T).abs().max().item())
    return verified_if(
        naive < 1e-6,
        f"at T = 0.5, 2, 4 the Jacobian of sigma_T at z is not (1/T) times that of the standard softmax at z (relative "
        f"difference up to {fmt(naive, 2)}); it is (1/T) times the standard Jacobian at z/T (difference "
        f"{below(exact, 1e-12, otherwise='.1e')}): the probabilities change with T too",
        naive=naive,
    )


def t_squared_magnitude_004() -> Finding:
    """004, Theorem 2: 'The T^2 factor ensures gradient magnitudes are preserved.'"""
    from ._common import _autograd_soft_gradient

    z_s, z_t = _random_logits((5,), seed=403), _random_logits((5,), seed=404)
    temperatures = (1.0, 2.0, 4.0, 10.0, 100.0, 1000.0)
    norms = [_autograd_soft_gradient(z_s, z_t, T, scale=T**2).norm().item() for T in temperatures]
    centred = (z_s - z_s.mean()) - (z_t - z_t.mean())
    limit = (centred / 5).norm().item()
    preserved = max(norms) / min(norms) < 1.01
    return verified_if(
        preserved,
        f"the norm of the T^2-scaled soft gradient at T = 1, 2, 4, 10, 100, 1000 is {fmt(norms, 3)}: it changes with T, "
        f"and only tends, as T grows, to the limit (1/K) times the norm of the centred logit difference, {fmt(limit, 3)}",
        norms=norms,
    )


def ce_gradient_004() -> Finding:
    """004, Theorem 2's proof: d CE / d z_{S,i} = sigma_1(z_S)_i - y_i."""
    z = _random_logits((8, 5), seed=405)
    labels = torch.arange(8) % 5
    student = z.clone().requires_grad_(True)
    loss = -torch.log_softmax(student, dim=-1).gather(1, labels[:, None]).sum()
    (grad,) = torch.autograd.grad(loss, student)
    stated = torch.softmax(z, dim=-1) - torch.nn.functional.one_hot(labels, 5).to(F64)
    worst = (grad - stated).abs().max().item()
    return verified_if(worst < 1e-12, f"sigma_1(z) - y matches autograd of the cross-entropy to one-hot labels: largest difference "
                                      f"{below(worst, 1e-12, otherwise='.1e')}")


def sawtooth_width_004() -> Finding:
    """004, after Theorem 5: 'Width grows exponentially with depth.' True of some deep teachers, not of all."""
    relu = torch.relu
    grid = torch.linspace(0.0, 1.0, 2**12 + 1, dtype=F64)  # dyadic: every breakpoint below is a grid point

    def pieces(values):
        slopes = torch.diff(values) / torch.diff(grid)
        return 1 + int((torch.diff(slopes).abs() > 1e-6).sum())

    def tent(x):  # one hidden layer of width 2
        return 2 * relu(x) - 4 * relu(x - 0.5)

    sawtooth_pieces = {}
    for depth in range(1, 7):
        x = grid
        for _ in range(depth):
            x = tent(x)
        sawtooth_pieces[depth] = pieces(x)
    exponential = all(count == 2**depth for depth, count in sawtooth_pieces.items())
    generator = torch.Generator().manual_seed(406)
    shallow_ok = True
    for width in (3, 10, 30):  # a one-hidden-layer ReLU network of width m has at most m + 1 pieces
        w, b, a = (torch.randn(width, generator=generator, dtype=F64) for _ in range(3))
        shallow_ok &= pieces(relu(grid[:, None] * w + b) @ a) <= width + 1
    x = grid
    for _ in range(6):  # a deep width-2 teacher that computes the identity: relu(x) - relu(-x)
        x = relu(x) - relu(-x)
    identity_needs_growth = pieces(x) > 2 or not torch.equal(x, relu(grid) - relu(-grid))
    return verified_if(
        exponential and shallow_ok and identity_needs_growth,
        f"the tent map composed L = 1..6 times (width 2, depth L) has {fmt(list(sawtooth_pieces.values()), 0)} linear pieces, "
        "2^L, and a one-hidden-layer ReLU network of width m has at most m + 1, so it needs width 2^L - 1; but a width-2 "
        "network of depth 6 that computes the identity is matched exactly by one of depth 1 and width 2: the growth is "
        "not a property of every deep teacher",
        pieces=sawtooth_pieces,
    )


def projection_collapse_004() -> Finding:
    """004, projection function: the teacher is projected, phi(h_T) = W h_T, and W is learned with the student."""
    generator = torch.Generator().manual_seed(407)
    d_s, d_t, n = 16, 48, 256
    h_t = torch.randn(d_t, n, generator=generator, dtype=F64)
    collapsed_student, zero_map = torch.zeros(d_s, n, dtype=F64), torch.zeros(d_s, d_t, dtype=F64)
    loss_004 = ((collapsed_student - zero_map @ h_t) ** 2).sum().item()
    # the other direction (FitNets): the zero student pays ||h_T||^2 whatever the map
    other_map = torch.randn(d_t, d_s, generator=generator, dtype=F64)
    loss_fitnet = ((h_t - other_map @ collapsed_student) ** 2).sum().item()
    return verified_if(
        loss_004 > 0,
        f"with the student's features and W_proj trained together, h_S = 0 and W_proj = 0 give the note's loss "
        f"{fmt(loss_004 + 0.0, 1)} for any teacher: a student that has learned nothing is optimal; projecting the student "
        f"instead, ||h_T - W h_S||^2, the zero student pays ||h_T||^2 = {fmt(loss_fitnet, 0)} for any W",
        loss=loss_004,
    )


def progressive_bound_as_written_004() -> Finding:
    """004 Theorem 7 as written: with k intermediate models, L_S <= L_T + k eps_step. Those are k + 1 steps."""
    eps_step, L_T = 0.1, 1.0
    fails = []
    for k in range(0, 5):  # T, TA_1, ..., TA_k, S: k + 2 models, k + 1 steps, each adding eps_step
        losses = L_T + eps_step * torch.arange(k + 2, dtype=F64)
        if losses[-1].item() > L_T + k * eps_step + 1e-12:
            fails.append(k)
    generator = torch.Generator().manual_seed(408)
    repaired = True
    for _ in range(1000):
        k = int(torch.randint(0, 6, (1,), generator=generator))
        steps = torch.randn(k + 1, generator=generator, dtype=F64)
        repaired &= L_T + steps.sum().item() <= L_T + (k + 1) * steps.max().item() + 1e-12
    return verified_if(
        not fails and repaired,
        f"k intermediate models make k + 1 distillation steps: a chain whose every step adds eps_step = 0.1 ends at "
        f"L_T + (k + 1) eps_step, above the bound L_T + k eps_step for k = {fmt(fails, 0)} (at k = 0, direct distillation "
        "would lose nothing); with k + 1 in place of k the bound holds on 1000 random chains, as a telescoping sum",
        fails=fails,
    )


def compression_steps_004() -> Finding:
    """004 Theorem 7's proof: |S| = |T| / r^k, so k = log_r(|T|/|S|)."""
    import sympy as sp

    big, small, r, k = sp.symbols("T_size S_size r k", positive=True)
    solutions = sp.solve(sp.Eq(small, big / r**k), k)
    ok = len(solutions) == 1 and sp.simplify(solutions[0] - sp.log(big / small) / sp.log(r)) == 0
    return verified_if(ok, f"sympy solves |S| = |T| / r^k for k: {solutions[0] if solutions else 'no solution'}, which is "
                           "log_r(|T|/|S|) (arithmetic: it counts steps, and proves nothing about an optimum)")


def self_distillation_can_help_004() -> Finding:
    """004 Theorem 8: 'Self-distillation can improve generalization' (a possibility: one example decides it)."""
    first, second = [], []
    for seed in range(100, 120):
        generator = torch.Generator().manual_seed(seed)
        x = torch.rand(40, 1, generator=generator, dtype=F64) * 6 - 3
        y = torch.sin(2 * x[:, 0]) + 0.3 * torch.randn(40, generator=generator, dtype=F64)
        x_test = torch.linspace(-3, 3, 200, dtype=F64)[:, None]
        gram = torch.exp(-torch.cdist(x, x) ** 2 / (2 * 0.5**2))
        cross = torch.exp(-torch.cdist(x_test, x) ** 2 / (2 * 0.5**2))
        solve = torch.linalg.inv(gram + 0.1 * torch.eye(40, dtype=F64))
        round0 = solve @ y  # kernel ridge fit to the labels
        round1 = solve @ (gram @ round0)  # the same model fitted to round 0's training predictions
        target = torch.sin(2 * x_test[:, 0])
        first.append(((cross @ round0 - target) ** 2).mean().item())
        second.append(((cross @ round1 - target) ** 2).mean().item())
    before, after = sum(first) / 20, sum(second) / 20
    return verified_if(
        after < before,
        f"kernel ridge regression (RBF, ridge 0.1) on 20 noisy samples of sin 2x: one round of self-distillation takes "
        f"the mean test MSE from {fmt(before, 4)} to {fmt(after, 4)}",
        before=before,
        after=after,
    )


def temperature_intuition_004() -> Finding:
    """004 Theorem 9's intuition: high label uncertainty -> higher T. Its own formula says lower."""
    import sympy as sp

    h_p, h_y = sp.symbols("H_p H_y", positive=True)
    t_star = sp.sqrt(h_p / h_y)
    by_teacher, by_labels = sp.diff(t_star, h_p), sp.diff(t_star, h_y)
    contradicts = bool(by_labels.is_negative) and bool(by_teacher.is_positive)

    def plain(expression):
        return str(sp.simplify(expression)).replace("**", "^").replace("*", " ")

    return false_if(
        contradicts,
        f"for T* = sqrt(H(p_T)/H(y)), sympy gives dT*/dH(p_T) = {plain(by_teacher)} > 0 (a confident teacher, lower T: "
        f"agrees) but dT*/dH(y) = {plain(by_labels)} < 0: more uncertain labels give a lower T*, not a higher one",
    )


def hidden_loss_summary_004() -> Finding:
    """004 summary table: hidden loss sum_l ||h_S^(l) - phi(h_T^(l))||^2, the teacher's layer l instead of pi(l)."""
    generator = torch.Generator().manual_seed(409)
    teacher = torch.randn(12, 32, 8, generator=generator, dtype=F64)  # 12 layers, 32 examples, width 8
    mapping = {l: 3 * l for l in range(1, 5)}  # a 4-layer student, pi(l) = 3l as in TinyBERT
    student = torch.stack([teacher[mapping[l] - 1] for l in range(1, 5)])  # it matches its teacher layers exactly
    body = sum(((student[l - 1] - teacher[mapping[l] - 1]) ** 2).sum() for l in mapping).item()
    summary = sum(((student[l - 1] - teacher[l - 1]) ** 2).sum() for l in mapping).item()
    return verified_if(
        abs(summary - body) < 1e-12,
        f"a 4-layer student that reproduces teacher layers pi(l) = 3, 6, 9, 12 of 12 has the section's loss {fmt(body + 0.0, 1)} "
        f"but the summary's {fmt(summary, 0)}: the summary matches student layer l with teacher layer l",
    )
