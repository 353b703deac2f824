"""More claims of source 003, from its worked examples, quiz and practice problems (its lines 137 on).

The claims of those parts that were registered first stay in :mod:`.source_003`; this module holds
the ones the coverage map found after.
"""

from __future__ import annotations

from .. import checks
from .._claim import Claim
from .._finding import CORRECTED, EMPIRICAL, FALSE, UNVERIFIABLE, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    C("003-ex1-exponentials", "003", "example 1", r"$e^{z/T}$ for $z = (5, 2, 1, 0.5, 0.1)$: $(148.4, 7.39, 2.72, 1.65, 1.11)$ at $T = 1$, "
      r"$(12.18, 2.718, 1.649, 1.284, 1.051)$ at $T = 2$, $(2.718, 1.492, 1.221, 1.105, 1.020)$ at $T = 5$",
      VERIFIED, "ref:ch5-example-1", checks.example1_exponentials_003),
    C("003-ex1-T1-negligible", "003", "example 1, $T = 1$",
      "The teacher is extremely confident: 92% on class 1, the other classes negligible.",
      UNVERIFIABLE, "ref:ch5-example-1",
      note="The 92% is right (003-ex1-T1), but no threshold for 'negligible' is given. The four wrong classes hold 8.0% of the mass at "
           "T = 1, and their ratios (class 2 is 6.7 times as likely as class 5, $e^{1.9}$) are the dark knowledge the unit distils."),
    C("003-ex1-more-spread", "003", "example 1, $T = 2$", "at $T = 2$ the softmax is more spread than at $T = 1$",
      VERIFIED, "prf:ch1-thm-entropy", checks.example1_more_spread_003),
    C("003-ex1-best-wrong", "003", "example 1, $T = 2$", "class 2 gets 14.4%, revealing that it is the 'best wrong answer'",
      VERIFIED, "ref:ch5-example-1", checks.example1_best_wrong_003),
    C("003-ex1-rank-order", "003", "example 1, $T = 5$", "the rank order of the probabilities is preserved",
      VERIFIED, "ref:ch5-example-1", checks.example1_rank_order_003),
    C("003-ex1-near-uniform", "003", "example 1, $T = 5$ and $T = 20$",
      "at $T = 5$ the softmax is 'almost uniform', its probabilities differing 'only subtly'; at $T = 20$ it is "
      "'very close to uniform' ($1/5 = 0.2$)",
      UNVERIFIABLE, "ref:ch5-example-1",
      note="No measure of closeness to uniform is given. At T = 5 the largest probability is 2.66 times the smallest (0.360 against "
           "0.135) and the total variation distance to uniform is 0.160; at T = 20 they are 1.28 and 0.037. The KL divergence to uniform "
           "falls from 0.075 to 0.0041 nats."),
    C("003-ex2-kl-steps", "003", "example 2",
      r"the terms of the divergence: $0.6\log(0.6/0.5) = 0.6\cdot 0.182 = 0.109$, $0.3\log(0.3/0.2) = 0.3\cdot 0.405 = 0.122$, "
      r"$0.1\log(0.1/0.3) = 0.1\cdot(-1.099) = -0.110$",
      VERIFIED, "ref:ch5-example-2", checks.example2_kl_steps_003),
    C("003-ex2-gradient", "003", "example 2",
      r"at $T = 1$, without $T^2$: $\partial D_{\mathrm{KL}}/\partial z_s = p_s - p_t = (-0.1, -0.1, 0.2)$",
      VERIFIED, "ref:ch5-example-2", checks.example2_gradient_003),
    C("003-ex2-directions", "003", "example 2",
      "to reduce the KL the student should increase cat and dog and decrease bird; the gradient pushes in exactly these directions",
      VERIFIED, "ref:ch5-example-2", checks.example2_directions_003),
    C("003-ex3-extra-knowledge", "003", "example 3",
      "the teacher, trained on more data (say 100K examples), encodes in its soft labels on the student's 10K examples knowledge "
      "from the other 90K; the 6-point gain is the value of that additional knowledge",
      EMPIRICAL, "ref:ch5-example-3",
      note="Not tested. The test: distil the same student on the same examples from two teachers, one trained on those examples only "
           "and one on ten times as many, over several seeds; the claim predicts that only the second beats training from scratch. "
           "Chapter 10's scratch-versus-distillation run uses a teacher trained on more data, as here, but has no same-data teacher, "
           "so it cannot separate the teacher's extra data from the other effects of soft targets."),
    C("003-pp1-steps", "003", "practice problems 1 and 2, the derivations",
      r"$\partial\log p_s^T(j)/\partial z_{s,i} = \frac1T(1 - p_s^T(i))$ for $j = i$ and $-\frac1T p_s^T(i)$ for $j \ne i$; then "
      r"$-T\big[p_t^T(i)(1 - p_s^T(i)) - p_s^T(i)\sum_{j\ne i} p_t^T(j)\big]$ reduces, step by step, to $T(p_s^T(i) - p_t^T(i))$",
      VERIFIED, "ref:ch6-problem-1", checks.problem1_steps_003),
    C("003-pp2-small-logits", "003", "practice problem 2",
      r"taking $p_s$ at $T = 1$ to be $p_s^T$ is only valid if the logits are small",
      CORRECTED, "ref:ch6-problem-2", checks.problem2_small_logits_003,
      correction=r"It is valid when the logits are close to one another, whatever their size: the softmax ignores a common shift. "
                 r"Here $z_s = 4\log p_s^T$ spreads over 3.67, and the two distributions differ by up to 0.37."),
    C("003-pp2-logits", "003", "practice problem 2",
      r"$z_s = 4\log p_s^T + C = (-2.77, -4.82, -6.44) + C$, recovering the logits up to an additive constant",
      VERIFIED, "ref:ch6-problem-2", checks.problem2_logits_003),
    C("003-pp2-sigma1", "003", "practice problem 2",
      r"$p_s = \sigma_1(z_s) = (0.063, 0.008, 0.002)/0.073 = (0.86, 0.11, 0.03)$",
      CORRECTED, "ref:ch6-problem-2", checks.problem2_sigma1_003,
      correction=r"$e^{z_s} = (p_s^T)^4 = (0.0625, 0.0081, 0.0016)$, summing to $0.0722$, so $\sigma_1(z_s) = (0.866, 0.112, 0.022)$: "
                 "the note divides exponentials it has first rounded to three decimals."),
    C("003-pp2-hard", "003", "practice problem 2",
      r"hard part $(1-\alpha)(p_s - e_0) = 0.5\cdot(0.86 - 1, 0.11, 0.03) = (-0.07, 0.055, 0.015)$",
      CORRECTED, "ref:ch6-problem-2", checks.problem2_hard_003,
      correction=r"$(-0.067, 0.056, 0.011)$: the formula is right, the numbers inherit the mis-rounded $\sigma_1(z_s)$."),
    C("003-pp2-soft", "003", "practice problem 2",
      r"soft part $\alpha T(p_s^T - p_t^T) = 2\cdot(0.1, -0.05, -0.05) = (0.2, -0.1, -0.1)$; the update direction "
      r"$(-0.2, 0.1, 0.1)$ lowers class 0 and raises classes 1 and 2, toward the teacher",
      VERIFIED, "ref:ch6-problem-2", checks.problem2_soft_003),
    C("003-pp2-confusion", "003", "practice problem 2, before the note corrects itself",
      r"the soft gradient $+0.2$ pushes class 0 up; a positive gradient increases $z_{s,i}$, making $p_s^T(i)$ larger; "
      r"since $\log(p_t/p_s) < 0$ where $p_s > p_t$, we want to increase $p_s$; a positive derivative 'can't be right for minimizing'",
      FALSE, "ref:ch2-sources", checks.problem2_confusion_003,
      correction="Gradient descent moves against the gradient: the positive class-0 component lowers that logit, its probability "
                 "and the loss, as the note itself concludes a few lines later. The KL falls as the student moves toward the teacher, "
                 "not by raising a probability that already exceeds the teacher's."),
    C("003-pp3-quadratic", "003", "practice problem 3", r"a layer's parameters grow roughly in proportion to $d_s^2$",
      VERIFIED, "ref:ch6-problem-3", checks.problem3_quadratic_003),
    C("003-pp3-wider-flops", "003", "practice problem 3", "a wider student costs proportionally more FLOPs per forward pass",
      CORRECTED, "ref:ch6-problem-3", checks.problem3_wider_flops_003,
      correction=r"In proportion to the weights only for sequences short beside $6d_s$: the weight matrices cost 2 FLOPs per weight and "
                 r"token, but the attention scores cost $4nd$ per token for $n$ tokens and grow only linearly in the width."),
    C("003-pp3-projection-cheaper", "003", "practice problem 3",
      "the projection is clearly the more efficient way to match the teacher's feature width",
      VERIFIED, "ref:ch6-problem-3", checks.problem3_projection_cheaper_003),
    C("003-pp4-deterministic", "003", "practice problem 4", "top-k KL is simpler and deterministic; the sampled estimate is stochastic",
      VERIFIED, "ref:ch6-problem-4", checks.problem4_deterministic_003),
    C("003-pp4-practice", "003", "practice problem 4",
      "in practice both methods work well; top-k is more common in LLM distillation libraries",
      UNVERIFIABLE, "ref:ch6-problem-4",
      note="No library, model or result is named, and 'work well' has no measure; the book trains no language model."),
)
