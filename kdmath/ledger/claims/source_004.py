"""The claims of source 004: mathematical foundations of knowledge distillation."""

from __future__ import annotations

from .. import checks
from .._claim import TESTED_IN_CH10, Claim
from .._finding import CORRECTED, EMPIRICAL, FALSE, UNVERIFIABLE, VACUOUS, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    C("004-limit-zero", "004", "§2, property 1", r"$\lim_{T\to0}\sigma_T(z) = e_{\arg\max_i z_i}$",
      CORRECTED, "prf:ch1-thm-argmax", checks.zero_temperature_argmax,
      correction="Uniform over the maximal logits; one-hot only when the maximum is unique."),
    C("004-limit-infinity", "004", "§2, property 2", r"$\lim_{T\to\infty}\sigma_T(z) = \frac1K\mathbf 1$",
      VERIFIED, "prf:ch1-thm-uniform", checks.high_temperature_uniform),
    C("004-thm1", "004", "Theorem 1 (entropy increase)", r"$H(\sigma_T(z)) \ge H(\sigma_1(z))$ for all $T \ge 1$",
      VERIFIED, "prf:ch1-thm-entropy", checks.entropy_increases),
    C("004-jacobian", "004", "§2, gradient property",
      r"$\partial\sigma_T(z)_i/\partial z_j = \frac1T\sigma_T(z)_i(\delta_{ij} - \sigma_T(z)_j)$",
      VERIFIED, "prf:ch1-thm-jacobian", checks.softmax_jacobian),
    C("004-kd-gradient", "004", "Theorem 2, proof",
      r"$\partial \mathcal L_{KD}/\partial z_{S,i} = \frac1T(\sigma_T(z_S)_i - \sigma_T(z_T)_i)$, and $T(\dots)$ with $T^2$",
      VERIFIED, "prf:ch2-thm-gradient", checks.scaled_soft_gradient),
    C("004-thm2", "004", "Theorem 2 (gradient magnitude preservation)",
      r"$\partial\mathcal L_{KD}/\partial z_S \propto \partial\mathcal L_{CE}/\partial z_S$",
      FALSE, "ref:ch2-sources", checks.gradient_magnitude_preservation,
      correction=r"The soft and hard gradients point in different directions unless the teacher is one-hot at the label; $T^2$ only fixes the order in $T$."),
    C("004-combined-loss", "004", "§4", r"$\mathcal L = \alpha T^2\,\mathrm{KL} + (1-\alpha)\,\mathrm{CE}$: $\alpha$ weights the soft term",
      VERIFIED, "ref:ch8-alpha", checks.alpha_on_soft_term),
    C("004-thm3", "004", "Theorem 3 (dark knowledge)", r"$I(X; p_T \mid Y) \ge 0$",
      VACUOUS, "ref:ch9-thm-3", checks.dark_knowledge_mutual_information,
      note="Conditional mutual information is never negative, for any random variable: a teacher that ignores its input satisfies it too."),
    C("004-thm4", "004", "Theorem 4 (distillation generalization)",
      r"$\epsilon_S \le \epsilon_T + \sqrt{d_{KL}} + O\big(\sqrt{\mathrm{complexity}(S)/n}\big)$",
      FALSE, "ref:ch9-thm-4", checks.distillation_generalization_bound,
      correction="No such bound holds: a student can be arbitrarily close to the teacher in KL and disagree with it on every argmax. Bounds of this kind need a margin condition on the teacher."),
    C("004-thm5", "004", "Theorem 5, attributed to Ba & Caruana (2014)",
      r"a depth-$L$, width-$w$ teacher is $\epsilon$-approximated everywhere by a depth-1 student of width $O(w^L)$",
      UNVERIFIABLE, "ref:ch9-thm-5",
      note="Ba and Caruana's paper is an empirical study of shallow mimic networks and states no such theorem; the note gives no proof, no dependence on epsilon or on the input dimension, and known depth-separation results make a width depending on w and L alone doubtful."),
    C("004-projection", "004", "feature-based distillation, closed form",
      r"$W_{proj}^* = h_S h_T^\top (h_T h_T^\top)^{-1}$",
      CORRECTED, "ref:ch7-projection", checks.least_squares_closed_form,
      correction=r"Only when $h_T h_T^\top$ is invertible, i.e. $h_T$ has full row rank $d_T$, which needs at least $d_T$ examples; otherwise the minimisers form an affine family and $h_S h_T^{+}$ (pseudo-inverse) is the one of least norm."),
    C("004-attention-loss", "004", "attention transfer", r"$\mathcal L_{attn} = \sum_l \lVert A_S^{(l)} - A_T^{(\pi(l))}\rVert_F^2$",
      VERIFIED, "ref:ch7-attention", checks.attention_loss_conventions),
    C("004-rkd", "004", "relation-based distillation",
      r"$\psi_D = \lVert x_i - x_j\rVert/\mu_D$, $\psi_A = \cos\angle x_j x_i x_k$, compared with the Huber loss $l_\delta$",
      VERIFIED, "ref:ch7-rkd", checks.rkd_potentials_004),
    C("004-thm6", "004", "Theorem 6 (attention transfer)", r"$\mathrm{MI}(A_S; X) \approx \mathrm{MI}(A_T; X)$ after successful attention distillation",
      FALSE, "ref:ch9-thm-6", checks.attention_mutual_information,
      correction="A small attention loss does not make the mutual informations close: information can sit in differences far below the loss's resolution. The statement has no quantified form that holds."),
    C("004-thm7-optimal", "004", "Theorem 7", r"the optimal number of steps is $k^* = O(\log(|T|/|S|))$",
      FALSE, "ref:ch9-thm-7", checks.progressive_optimal_steps,
      correction=r"The 'proof' only counts the steps of a fixed ratio $r$ needed to shrink $|T|$ to $|S|$; the theorem's own bound is smallest at $k = 0$. Whether assistants help (Mirzadeh et al., 2020) is an empirical question."),
    C("004-thm8", "004", "Theorem 8 (self-distillation)",
      r"$\mathbb E[\mathcal L_{test}(M_{k+1})] \le \mathbb E[\mathcal L_{test}(M_k)]$ under mild conditions",
      FALSE, "ref:ch9-thm-8", checks.self_distillation_monotone,
      correction="Self-distillation regularises more with every round (Mobahi et al., 2020): the first rounds can help, later ones underfit; improvement is not monotone."),
    C("004-thm9", "004", "Theorem 9 (optimal temperature)", r"$T^* \approx \sqrt{H(p_T)/H(y)}$",
      FALSE, "ref:ch9-thm-9", checks.optimal_temperature_formula,
      correction="Undefined for one-hot labels (H(y) = 0), and circular (p_T depends on T); the best temperature is found by validation."),
    C("004-T-table", "004", "empirical guidelines table",
      "T = 2–4 for a confident teacher, 4–8 for an uncertain one, 8–20 for noisy labels",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "MNIST with a well-trained teacher is the 'confident teacher' row; the other rows are not tested."),

    # --- added with the coverage map of note 004 (kdmath/ledger/coverage/source_004.py) ---
    C("004-rigorous", "004", "overview",
      "This module provides rigorous mathematical foundations and proofs.",
      FALSE, "doc:notebooks/09_theorems", checks.rigorous_proofs_004,
      correction="Six of its nine theorems are false (2, 4, 6, the optimum of 7, 8, 9), one is vacuous (3), one cites a "
                 "proof that does not exist (5), and the one true theorem (1) has a proof that restates it; chapter 9 "
                 "checks each."),
    C("004-thm1-proof", "004", "Theorem 1, proof",
      r"As $T$ increases, $\sigma_T(z)$ becomes more uniform, and entropy increases toward $\log K$",
      VERIFIED, "prf:ch1-thm-entropy", checks.entropy_toward_log_k_004,
      note="True, but it restates Theorem 1 instead of proving it; chapter 1 proves it from the derivative of the entropy in T."),
    C("004-jacobian-scaling", "004", "§2, after the gradient property",
      r"The factor $1/T$ means gradients are scaled by temperature.",
      CORRECTED, "prf:ch1-thm-jacobian", checks.jacobian_temperature_scaling_004,
      correction=r"The Jacobian at $z$ is $\frac1T$ times the standard softmax's Jacobian at $z/T$, not at $z$: the "
                 r"probabilities change with $T$ too, so the soft gradient $\frac1T(q - p)$ is of order $1/T^2$ at high "
                 r"temperature, not $1/T$ (chapter 2)."),
    C("004-t2-magnitude", "004", "Theorem 2",
      r"The $T^2$ factor ensures gradient magnitudes are preserved",
      CORRECTED, "prf:ch2-thm-order", checks.t_squared_magnitude_004,
      correction=r"Only to leading order as $T \to \infty$: $T(\sigma_T(z_S) - \sigma_T(z_T))$ tends to "
                 r"$\frac1K\big((z_S - \bar z_S) - (z_T - \bar z_T)\big)$, so the scaled gradient is of order 1 instead "
                 r"of $1/T^2$; at moderate temperatures its size still changes with $T$."),
    C("004-ce-gradient", "004", "Theorem 2, proof",
      r"$\partial \mathcal L_{CE}/\partial z_{S,i} = \sigma_1(z_S)_i - y_i$",
      VERIFIED, "prf:ch2-thm-combined", checks.ce_gradient_004),
    C("004-dark-knowledge", "004", "Theorem 3, statement in words and proof sketch",
      r"Soft labels carry information about the input beyond the label, $I(X; p_T \mid Y) > 0$ (which classes are "
      "similar, confidence levels, input-dependent information), which hard labels lose",
      EMPIRICAL, "ref:ch15-claims",
      note=r"A property of a trained teacher, not of the displayed $I(X; p_T \mid Y) \ge 0$, which holds for any "
           "teacher (004-thm3): the strict inequality holds exactly when the teacher's soft outputs vary among inputs "
           "of one class. Tested in chapter 15 by its stated test (experiment soft_target_mechanisms) without measuring the teacher against "
           "itself: a student trained on the labels alone ranks first among its wrong classes the teacher's most likely "
           "wrong class for that image more often than the teacher's most frequent wrong class for the image's label."),
    C("004-thm5-width", "004", "Theorem 5, note",
      "Width grows exponentially with depth, so practical distillation uses deeper students.",
      CORRECTED, "ref:ch9-thm-5", checks.sawtooth_width_004,
      correction=r"An upper bound $O(w^L)$ shows no growth. What holds is a lower bound for some teachers: the tent map "
                 r"composed $L$ times (width 2, depth $L$) has $2^L$ linear pieces, so a one-hidden-layer ReLU network "
                 r"needs width $2^L - 1$ to match it (Telgarsky, 2016); other deep teachers, such as one that computes a "
                 "linear function, are matched by a shallow network of the same width."),
    C("004-projection-direction", "004", "feature-based distillation, projection function",
      r"When $d_S \neq d_T$, use a learned projection of the teacher, $\phi(h_T) = W_{proj} h_T$, "
      r"$W_{proj} \in \mathbb R^{d_S \times d_T}$, in $\mathcal L_{hidden}$",
      CORRECTED, "ref:ch7-projection", checks.projection_collapse_004,
      correction=r"Project the student into the teacher's space, $\lVert h_T - W h_S\rVert^2$ (FitNets, TinyBERT): with "
                 r"the teacher projected and both $W_{proj}$ and the student trained, $h_S = 0$, $W_{proj} = 0$ makes the "
                 "loss exactly zero."),
    C("004-ta-advice", "004", "progressive distillation",
      "For a large teacher-student gap, use intermediate teaching assistants",
      EMPIRICAL, "ref:ch15-claims",
      note="Mirzadeh et al. (2020) report gains from teaching assistants on CIFAR and ImageNet. Tested in chapter 15 "
           "by its stated test (experiment ta_chain) on MNIST: a 30-30 student distilled from the 1200-1200 teacher directly, against "
           "through assistants of 300-300 and 100-100, every network trained on the same images for the same epochs."),
    C("004-thm7-as-written", "004", "Theorem 7 (progressive distillation), as written",
      r"With $k$ intermediate models, $\mathcal L_S^* \le \mathcal L_T^* + k\,\epsilon_{step}$, "
      r"$\epsilon_{step}$ the per-step distillation error",
      CORRECTED, "ref:ch9-thm-7", checks.progressive_bound_as_written_004,
      correction=r"$k$ intermediate models make $k + 1$ steps ($T \to TA_1 \to \dots \to TA_k \to S$), so the bound is "
                 r"$\mathcal L_S^* \le \mathcal L_T^* + (k+1)\,\epsilon_{step}$; as written it fails whenever every step "
                 r"loses $\epsilon_{step}$ (at $k = 0$ it says direct distillation loses nothing). Repaired, it is a "
                 "telescoping sum that holds for any chain of models, and so says nothing about distillation; read with "
                 "$k$ the number of steps, as the note's proof does, the statement as written is that same identity."),
    C("004-thm7-steps", "004", "Theorem 7, proof",
      r"If each step has compression ratio $r$, after $k$ steps $|S| = |T|/r^k$, so $k = \log_r(|T|/|S|)$",
      VERIFIED, "ref:ch9-thm-7", checks.compression_steps_004,
      note=r"Arithmetic that counts steps; it proves no optimum (004-thm7-optimal). Here $k$ counts steps, that is "
           r"$k - 1$ intermediate models, while the theorem's bound counts $k$ intermediate models."),
    C("004-thm8-can", "004", "Theorem 8, in words",
      "Self-distillation can improve generalization",
      VERIFIED, "ref:ch9-thm-8", checks.self_distillation_can_help_004,
      note="A possibility, which one example decides; the monotone improvement of the theorem's display is false (004-thm8)."),
    C("004-thm8-ensemble", "004", "Theorem 8, explanation",
      r"Each generation acts as an implicit ensemble: $M_{k+1} \approx \mathbb E_{init}[M_k]$",
      UNVERIFIABLE, "ref:ch9-thm-8",
      note=r"No measure for $\approx$ between models and no distribution of initialisations is given, and nothing is "
           r"derived: a student trained on one teacher $M_k$ never sees other initialisations of it. Self-distillation "
           "also helps where no initialisation is random (kernel ridge regression, Mobahi et al., 2020), by "
           "regularisation rather than ensembling; Allen-Zhu and Li (2020) give a data model in which it does act "
           "like an ensemble."),
    C("004-thm9-intuition", "004", "Theorem 9, intuition",
      r"High teacher confidence $\to$ lower $T$; high label uncertainty $\to$ higher $T$",
      FALSE, "ref:ch9-thm-9", checks.temperature_intuition_004,
      correction=r"The theorem's own formula $T^* \approx \sqrt{H(p_T)/H(y)}$ falls as $H(y)$ grows: only the first "
                 "bullet agrees with it. The bullets, like the table of temperatures, are recommendations that only "
                 "experiment can decide (004-T-table), and the formula is no rule (004-thm9)."),
    C("004-summary-hidden", "004", "summary table, hidden loss",
      r"$\sum_l \lVert h_S^{(l)} - \phi(h_T^{(l)})\rVert_F^2$",
      CORRECTED, "ref:ch7-hidden-states", checks.hidden_loss_summary_004,
      correction=r"$\sum_{l \in \mathcal M} \lVert h_S^{(l)} - \phi(h_T^{(\pi(l))})\rVert_F^2$, as in the note's section "
                 r"on hidden-state matching: the teacher's layer is $\pi(l)$, not $l$."),
)
