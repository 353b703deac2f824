"""The claims of source 002: knowledge distillation: why and how."""

from __future__ import annotations

from .. import checks
from .._claim import TESTED_IN_CH10, Claim
from .._finding import CORRECTED, EMPIRICAL, UNVERIFIABLE, VACUOUS, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    C("002-combined-loss", "002", "Step 2, total loss",
      r"$L = \alpha L_{\mathrm{CE}} + (1-\alpha) L_{\mathrm{KD}}$, $L_{\mathrm{KD}} = T^2\,\mathrm{KL}(p_t\Vert p_s)$: $\alpha$ weights the hard term",
      VERIFIED, "ref:ch5-combined-loss", checks.alpha_on_hard_term_002),
    C("002-kl-or-ce", "002", "Step 2, distillation loss",
      r"$L_{\mathrm{KD}}$ may be $T^2\,\mathrm{KL}(p_t\Vert p_s)$ or $T^2\,\mathrm{CE}(p_t, p_s)$",
      VERIFIED, "ref:ch8-kl-vs-ce", checks.kl_or_cross_entropy_002),
    C("002-t2-balance", "002", "Step 2",
      r"the $T^2$ term ensures that the gradient magnitudes are balanced",
      CORRECTED, "ref:ch8-t-squared", checks.t_squared_balances_002,
      correction=r"The $T^2$ factor keeps the soft gradient of order 1 as $T$ grows (it would fall like $1/T^2$); it does not make it equal to the hard gradient, whose size it does not depend on."),
    C("002-goal", "002", "Definition",
      "distillation compresses the teacher's knowledge into the student, making it faster and lighter while retaining high performance",
      UNVERIFIABLE, "ref:ch10-results",
      note="'High performance' has no measure or threshold, and no task, model or size is named. Chapter 10 measures one case: on MNIST, how much of the gap between an 800-800 student trained on labels and its 1200-1200 teacher distillation closes."),
    C("002-compression", "002", "Why use knowledge distillation, reasons 1 and 2",
      "model compression (reduced size and inference time) and deployment efficiency (resource-constrained devices such as mobile and embedded ones)",
      VACUOUS, "ref:ch10-setup", checks.compression_by_construction_002,
      note="True, but of any small network: the size and the inference cost are those of the student's architecture, fixed before training, so a network of the same widths trained on the labels alone is exactly as small and as fast. What distillation adds is the accuracy reached at that size (reason 3, 002-generalization)."),
    C("002-generalization", "002", "Why use knowledge distillation, reason 3",
      "a student can sometimes generalize better than a small model trained directly on the data",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "'Sometimes' asks for one setting in which the distilled student makes fewer test errors than the same network trained on the labels; the setting of 003's example 3 (scratch_vs_distill) is one."),
    C("002-use-both", "002", "How it works, step 3",
      "train the student with both the teacher's soft targets and the data's hard labels, in a combined loss",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "It is better than either term alone if some weight strictly between the two ends beats both ends (alpha_sweep, 300-300 students at $T = 3$)."),
    C("002-T-softens", "002", "Step 1",
      r"$T$ is a scalar $> 1$ used to soften the logits: $\mathrm{Softmax}(z/T)$ is softer than $\mathrm{Softmax}(z)$",
      VERIFIED, "prf:ch1-thm-entropy", checks.temperature_softens_002),
    C("002-kd-measures", "002", "Step 2, distillation loss",
      r"$L_{\mathrm{KD}}$ measures how well the student mimics the teacher",
      VERIFIED, "eq:kl-divergence", checks.kd_loss_measures_mimicry_002),
)
