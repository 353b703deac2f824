"""The claims of source 003: a study unit on knowledge distillation for language models."""

from __future__ import annotations

from .. import checks
from .._claim import TESTED_IN_CH10, Claim
from .._finding import CORRECTED, EMPIRICAL, FALSE, UNVERIFIABLE, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    C("003-softmax-limits-high", "003", "§1.2", r"$T \to \infty$: $p^T(z) \to$ uniform, $1/K$",
      VERIFIED, "prf:ch1-thm-uniform", checks.high_temperature_uniform),
    C("003-softmax-limits-zero", "003", "§1.2", r"$T \to 0$: $p^T(z) \to$ one-hot at the maximum logit",
      CORRECTED, "prf:ch1-thm-argmax", checks.zero_temperature_argmax,
      correction="The limit is uniform over the maximal logits; it is one-hot only when the maximum is unique."),
    C("003-diagonal-jacobian", "003", "§1.2",
      r"$\partial p^T_i/\partial z_i = \frac1T\, p^T_i (1 - p^T_i)$; the $1/T$ scales gradients down",
      VERIFIED, "prf:ch1-thm-jacobian", checks.diagonal_only_jacobian),
    C("003-loss", "003", "§1.3 and §3.1",
      r"$L = (1-\alpha) L_{\mathrm{CE}}(y, p_s) + \alpha T^2 D_{\mathrm{KL}}(p_t^T\Vert p_s^T)$",
      VERIFIED, "eq:kd-loss", checks.alpha_on_soft_term),
    C("003-kl-gradient", "003", "§1.4",
      r"$\partial D_{\mathrm{KL}}/\partial z_{s,i} = \frac1T(p_s^T(i) - p_t^T(i))$, and $T(p_s^T(i) - p_t^T(i))$ with $T^2$",
      VERIFIED, "prf:ch2-thm-gradient", checks.scaled_soft_gradient),
    C("003-expansion", "003", "§1.4",
      r"$p^T(i) \approx \frac1K + \frac{z_i}{TK} - \frac{1}{K^2}\frac{\sum_j z_j}{T} + O(1/T^2)$",
      VERIFIED, "prf:ch3-thm-expansion", checks.first_order_expansion_003),
    C("003-tenfold", "003", "§1.4", r"without $T^2$ the gradient scales as $1/T$: at $T = 10$ the soft gradient is 10 times smaller than the hard one",
      CORRECTED, "ref:ch8-t-squared", checks.tenfold_without_t_squared,
      correction=r"The unscaled soft gradient $\frac1T(q - p)$ falls like $1/T^2$ at high temperature, since $q - p$ itself is $O(1/T)$; $T^2$ compensates exactly that."),
    C("003-high-T-gradient", "003", "§1.4",
      r"$\partial L/\partial z_{s,i} \approx (z_{s,i} - z_{t,i})/K$, independent of $T$",
      CORRECTED, "ref:ch3-sources", checks.high_temperature_gradient_003,
      correction=r"$T(q_i - p_i) \to \frac1K\big((z_{s,i} - \bar z_s) - (z_{t,i} - \bar z_t)\big)$: the logits enter centred."),
    C("003-combined-gradient", "003", "§1.5",
      r"$\partial L/\partial z_{s,i} = (1-\alpha)(p_s(i) - [y = i]) + \alpha T (p_s^T(i) - p_t^T(i))$",
      VERIFIED, "prf:ch2-thm-combined", checks.combined_gradient),
    C("003-medium-T", "003", "§2.2",
      r"$T \approx 2$–$5$ is the sweet spot",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10),
    C("003-llm-T", "003", "pitfall 2",
      r"the optimal $T$ is usually 2–10 for LLM distillation",
      EMPIRICAL, "ref:ch11-temperature",
      note="Tested in chapter 11 by its stated test (kdmath.ledger.stated_tests): a temperature sweep on the book's GPT "
           "teacher and student (lm_token_kd), paired differences over committed replicates, a 95% interval; the outcome "
           "holds for that teacher, student and budget."),
    C("003-high-T-limit", "003", "§2.3",
      r"$T^2 D_{\mathrm{KL}}(p_t^T\Vert p_s^T) \to \frac{1}{2K}\lVert z_t - \bar z_t - z_s + \bar z_s\rVert^2$",
      VERIFIED, "prf:ch3-thm-limit", checks.high_temperature_loss_limit),
    C("003-covariance", "003", "§2.3 and learning objectives",
      "in the high-temperature limit distillation is equivalent to matching the teacher's logit covariance structure",
      FALSE, "ref:ch3-sources", checks.covariance_matching,
      correction="It matches the centred logits example by example; two students with the same logit covariance can have very different losses."),
    C("003-zero-T", "003", "§2.4 and learning objectives",
      r"as $T \to 0$ distillation is training on the teacher's hard predictions (standard supervised training)",
      CORRECTED, "ref:ch4-sources", checks.zero_temperature_reduction,
      correction=r"Without $T^2$ the soft term diverges like $1/T$; with it, it vanishes; $T\cdot\mathrm{KL}$ tends to a perceptron criterion on the teacher's argmax, not to a cross-entropy."),
    C("003-low-T", "003", "§2.1",
      r"at $T \approx 1$ distillation behaves like training with label smoothing",
      EMPIRICAL, "ref:ch15-claims",
      note="Chapter 5 proves the exact identity behind the claim: at $T = 1$ distillation is label smoothing towards the teacher's distribution, not the uniform one. Tested in chapter 15 by its stated test (experiment soft_target_mechanisms) as a prediction about trained students: the student distilled at $T = 1$ is closer, in top-1 agreement and in calibration error, to a student trained with uniform label smoothing of the same average weight on the true class than to one trained on the labels."),
    C("003-bits", "003", "§4.1",
      r"for $C$ classes, the ground truth gives $\log_2 C$ bits of information per example",
      CORRECTED, "ref:ch5-information", checks.example3_bits,
      correction=r"A label carries $H(Y) \le \log_2 C$ bits, equal only for uniform classes (and, given the input, only $H(Y \mid X) \le H(Y)$)."),
    C("003-times-C", "003", "§4.1",
      r"the teacher's full distribution provides up to $C$ times more information than the label",
      UNVERIFIABLE, "ref:ch5-information",
      note=r"'Times more information' compares the label's bits with nothing the note defines. By entropy a soft target holds at most $\log_2 C$ bits too; counted as $C - 1$ real numbers, its bits depend on the precision chosen. No reading the book picks would decide it."),
    C("003-label-smoothing", "003", "§4.2",
      r"hard labels plus soft targets $\approx$ training on $(1-\varepsilon)\,y + \varepsilon\, p_t$",
      VERIFIED, "ref:ch5-label-smoothing", checks.label_smoothing_identity),
    C("003-variance", "003", "§4.3",
      "teacher outputs have lower variance than labels; training on them averages out label noise, a denoising that gives better generalization",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "Through its consequence, better generalization: soft targets overfit less than labels on a small training set. The variance itself is not defined in the note, nor measured."),
    C("003-landscape", "003", "§4.4",
      "the student's loss landscape with soft targets is smoother, with fewer sharp local minima, and keeps the student in basins that generalize",
      UNVERIFIABLE, "ref:ch15-sharpness",
      note="No measure of smoothness or sharpness is named, and nothing is derived. Chapter 15 measures the obvious one, the largest eigenvalue of the Hessian of the labels' cross-entropy, and shows why it cannot decide the claim: that Hessian shrinks as a model's outputs approach the one-hot labels, so a student trained on labels looks flatter by being more confident. A test needs a measure that does not reward confidence."),
    C("003-ex1-T1", "003", "example 1, T = 1", "softmax of (5, 2, 1, 0.5, 0.1): (0.920, 0.046, 0.017, 0.010, 0.007)",
      VERIFIED, "ref:ch5-example-1", checks.example1_T1),
    C("003-ex1-T2", "003", "example 1, T = 2", "(0.645, 0.144, 0.087, 0.068, 0.056)",
      VERIFIED, "ref:ch5-example-1", checks.example1_T2),
    C("003-ex1-T5", "003", "example 1, T = 5", "(0.360, 0.197, 0.162, 0.146, 0.135)",
      VERIFIED, "ref:ch5-example-1", checks.example1_T5),
    C("003-ex1-T20", "003", "example 1, T = 20", "(0.228, 0.200, 0.194, 0.190, 0.188)",
      CORRECTED, "ref:ch5-example-1", checks.example1_T20,
      correction="The softmax at T = 20 is the vector the check prints; the note's row is not a rounding of it."),
    C("003-ex1-sums", "003", "example 1", "sums of the exponentials: 161.2 (T = 1), 18.88 (T = 2), 7.556 (T = 5)",
      CORRECTED, "ref:ch5-example-1", checks.example1_sums,
      correction="161.27 and 7.557: the first is truncated, the last adds rounded terms. The probabilities printed are right."),
    C("003-ex1-T5-maximal", "003", "example 1", "at T = 5 the dark knowledge is maximally revealed",
      UNVERIFIABLE, "ref:ch5-example-1", checks.example1_maximal_at_T5,
      note="The note defines no measure of how much dark knowledge is revealed. Under three natural readings T = 5 is no maximum: the gap between the best and the worst wrong class peaks near T = 2.25, and entropy and wrong-class mass have no maximum at all."),
    C("003-ex1-T20-lost", "003", "example 1", "at T = 20 nearly all class-distinction information is lost",
      FALSE, "ref:ch5-example-1", checks.example1_information_lost_at_T20,
      correction=r"$T \log \sigma_T(z)$ recovers the centred logits exactly at every $T$; high temperatures compress the differences, they do not erase them."),
    C("003-ex1-optimal", "003", "example 1", "for this teacher T = 2–3 provides the best balance",
      UNVERIFIABLE, "ref:ch5-example-1", note="Example 1's teacher is a single logit vector with no data set, and 'the best balance' has no measure, so no experiment can test the claim as stated; chapter 10's temperature sweep tests the general claim (003 §2.2)."),
    C("003-ex2-kl", "003", "example 2", r"$D_{\mathrm{KL}}((0.6, 0.3, 0.1)\Vert(0.5, 0.2, 0.3)) = 0.121$",
      VERIFIED, "ref:ch5-example-2", checks.example2_kl),
    C("003-ex2-scaled", "003", "example 2", r"with $T^2$ scaling at $T = 2$ the gradient is $4(q - p) = (-0.4, -0.4, 0.8)$",
      CORRECTED, "ref:ch2-sources", checks.example2_scaled_gradient,
      correction=r"The $T^2$-scaled gradient is $T(q - p) = (-0.2, -0.2, 0.4)$: the note multiplies by $T^2$ a gradient that never had its $1/T$."),
    C("003-ex3-bits", "003", "example 3", r"a hard label gives '~1.5 bits ($\log_2 3$ for 3 classes?)'",
      CORRECTED, "ref:ch5-example-3", checks.example3_bits,
      correction=r"$\log_2 3 \approx 1.585$ bits, and only for three equally likely classes."),
    C("003-ex3-simplex", "003", "example 3", "the teacher's softmax provides up to C − 1 real numbers per example",
      VERIFIED, "ref:ch5-example-3", checks.simplex_dimension),
    C("003-ex3-gain", "003", "example 3", "72% to 78% is 'the 6% improvement'",
      CORRECTED, "ref:ch5-example-3", checks.example3_percent,
      correction="It is 6 percentage points: an 8.3% relative gain, a 21% cut in the error rate."),
    C("003-ex3-outcome", "003", "example 3",
      "a student distilled with alpha = 0.7, T = 3 on 10K examples beats the same student trained from scratch by 6 points",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "Only the direction: the note's numbers are given for an unnamed task, not measured, so the size of the gain cannot be reproduced."),
    C("003-pp1", "003", "practice problem 1",
      r"$\partial (T^2 D_{\mathrm{KL}})/\partial z_{s,i} = T(p_s^T(i) - p_t^T(i))$",
      VERIFIED, "ref:ch6-problem-1", checks.scaled_soft_gradient),
    C("003-pp1-only-term", "003", "practice problem 1", r"the only term of $T^2\sum_j p_t^T(j)\log(p_t^T(j)/p_s^T(j))$ depending on $z_{s,i}$ is $\log(1/p_s^T(i))$",
      FALSE, "ref:ch6-problem-1", checks.only_term_problem1,
      correction=r"Every $\log p_s^T(j)$ depends on $z_{s,i}$ through the softmax's normaliser; the note's own derivation goes on to use the $j \ne i$ terms, and its result is right."),
    C("003-pp3-gflop", "003", "practice problem 3", "a single forward pass through even a small transformer is about 1 GFLOP",
      UNVERIFIABLE, "ref:ch6-problem-3", note="No model or sequence length is given; chapter 6 computes the cost for one choice (a 12-layer, 256-wide student on 128 tokens)."),
    C("003-pp2-total", "003", "practice problem 2",
      "total gradient (0.13, -0.045, -0.085) at T = 4, alpha = 0.5",
      CORRECTED, "ref:ch6-problem-2", checks.practice_problem2_total,
      correction="The total gradient is the vector the check prints; the note's third component inherits a mis-rounded probability."),
    C("003-pp2-sign", "003", "practice problem 2",
      r"after some confusion: a positive $p_s - p_t$ gives a positive gradient, and descent lowers $p_s$",
      CORRECTED, "ref:ch2-sources", checks.sign_of_update,
      correction=r"A positive $p_s(i) - p_t(i)$ gives a positive gradient, and descent lowers the logit $z_{s,i}$ and the KL; "
                 r"the probability $p_s(i)$ itself can rise, when the other logits fall further (the check's counterexample). "
                 r"In problem 2's numbers it does fall."),
    C("003-car-example", "003", "§1.1", "a teacher's output for a car image: (0.7, 0.2, 0.08, 0.01, 0.01) over car, truck, bus, bicycle, pedestrian",
      VERIFIED, "ref:ch5-example-1", checks.car_example_distribution),
    C("003-llm-loss", "003", "§5.2", "the LLM distillation loss is the per-position loss, averaged over all positions",
      VERIFIED, "ref:ch8-reduction", checks.per_position_average),
    C("003-on-policy", "003", "§5.3", "on-policy distillation: the student generates, the teacher scores, and the student is trained to maximise the teacher-assigned score of its own outputs",
      CORRECTED, "ref:ch8-on-policy", checks.on_policy_objective,
      correction=r"On-policy distillation (GKD, MiniLLM) minimises a divergence, such as the reverse KL $\mathrm{KL}(q\Vert p)$, on the student's own samples; the score $\mathbb E_q[\log p]$ alone is maximised by collapsing onto the teacher's mode."),
    C("003-pitfall-layers", "003", "pitfall 3", "layer-to-layer distillation significantly improves results, especially for deep models",
      EMPIRICAL, "ref:ch14-claims",
      note="Tested in chapter 14 by its stated test (experiment hidden_states_by_depth) on MNIST perceptrons 50 units wide, of 2 and 12 layers: whether matching the teacher's hidden states lowers the deep student's test errors, and by more than the shallow one's. Deep here means deep for MNIST, not the deep language models the note has in mind."),
    C("003-quiz", "003", "quiz, Q1–Q8", "eight multiple-choice questions with their 'correct' answers (e.g. Q5: 'number of classes).')",
      UNVERIFIABLE, "doc:book/claims",
      note="The questions and answers are templates with the topic's name filled in; they state nothing that could be checked."),
    C("003-fitnet", "003", "§3.2 (FitNet)",
      r"$L_{\mathrm{feat}} = \lVert f_{l_t}(x) - W_{\mathrm{proj}} f_{l_s}(x)\rVert^2$, $W_{\mathrm{proj}}$ learned, mapping student to teacher width",
      VERIFIED, "ref:ch7-fitnet", checks.feature_loss_definition),
    C("003-rkd", "003", "§3.3 (RKD)",
      r"$L_{\mathrm{RKD}} = \sum_{i\ne j}(\psi_D(t_i, t_j) - \psi_D(s_i, s_j))^2$ with $\psi_D$ a distance",
      CORRECTED, "ref:ch7-rkd", checks.rkd_unnormalised_distance,
      correction=r"Park et al. divide each distance by the mean distance of the batch and use the Huber loss; without the normaliser the loss punishes a student whose embedding is the teacher's, rescaled."),
    C("003-attention", "003", "§3.4", r"$L_{\mathrm{att}} = \frac1H\sum_h \lVert A_t^h - A_s^h\rVert_F^2$",
      VERIFIED, "ref:ch7-attention", checks.attention_loss_conventions),
    C("003-distilbert-size", "003", "§5.3", "DistilBERT: 40% fewer parameters than BERT",
      VERIFIED, "ref:ch7-hidden-states", checks.distilbert_size),
    C("003-distilbert-retention", "003", "§5.3", "DistilBERT retains 95% of the teacher's performance",
      CORRECTED, "ref:ch7-hidden-states", checks.distilbert_retention,
      correction="Sanh et al. report 97% of BERT-base's GLUE score (77.0 against 79.5)."),
    C("003-pp3-flops", "003", "practice problem 3", "projection: 2 · 768 · 256 = 393,216 FLOPs per example, 3.93e10 (0.04 TFLOP) per epoch of 100K",
      VERIFIED, "ref:ch6-problem-3", checks.projection_flops_problem3),
    C("003-pp3-params", "003", "practice problem 3",
      "widening the student from 256 to 768: 2,097,152 extra attention and 4,194,304 extra FFN parameters per layer, ~75M for 12 layers, 150 MB in fp16",
      VERIFIED, "ref:ch6-problem-3", checks.wider_student_params_problem3),
    C("003-pp3-memory", "003", "practice problem 3", "the projection costs O(1) extra memory",
      CORRECTED, "ref:ch6-problem-3", checks.projection_memory_problem3,
      correction=r"$W_{\mathrm{proj}}$ has $d_s d_t$ parameters (196,608 here): small, but proportional to both widths."),
    C("003-pp4-fractions", "003", "practice problem 4", "top-256 costs 256/50000 = 0.5% of the full softmax; 512 samples 1%",
      VERIFIED, "ref:ch6-problem-4", checks.top_k_cost_fractions),
    C("003-pp4-mass", "003", "practice problem 4", "the teacher's top 256 tokens cover more than 99% of the probability mass for typical distributions",
      EMPIRICAL, "ref:ch13-mass", note="Depends on the teacher, its vocabulary and the text. Tested in chapter 13 on the book's "
      "GPT teacher (vocabulary 2,048, so that 256 tokens are 12.5% of it, against the note's 0.5%) on the validation text, by "
      "its stated test: the median over positions against 0.99, with a bootstrap interval."),
    C("003-pp4-bias", "003", "practice problem 4", "the tail mass outside the top k, 'ignored or aggregated', introduces a small underestimation of the KL",
      CORRECTED, "ref:ch6-problem-4", checks.top_k_bucket_underestimates,
      correction="Aggregated into a catch-all class, the top-k KL can only underestimate (log-sum inequality). Ignored, with the top-k renormalised, it can over- or underestimate."),
    C("003-pp4-importance", "003", "practice problem 4",
      r"$\mathrm{KL} \approx \sum_{i\sim r} \frac{p_t(i)}{r(i)}\log\frac{p_t(i)}{p_s(i)}$ is unbiased; with the teacher as proposal the weights are close to 1, so the variance is low",
      CORRECTED, "ref:ch6-problem-4", checks.importance_weights_problem4,
      correction=r"The average (not the sum) over the $m$ samples is unbiased; with $r = p_t$ the weights are exactly 1, and the variance is $\operatorname{Var}_{p_t}[\log(p_t/p_s)]/m$, which the weights say nothing about."),
    C("003-pp4-normaliser", "003", "practice problem 4", "both methods avoid the full-softmax normalisation",
      FALSE, "ref:ch6-problem-4", checks.sampled_kl_needs_the_normaliser,
      correction=r"$\log p_s(i)$ needs the student's log-normaliser over the whole vocabulary; normalising over the selected tokens only changes the quantity estimated."),
    C("003-pp5-cost", "003", "practice problem 5 (a)", r"distillation costs \$10,000 of teacher inference plus \$1,000 of training: \$11,000",
      VERIFIED, "ref:ch6-problem-5", checks.distillation_cost_problem5),
    C("003-pp5-break-even", "003", "practice problem 5 (b)", r"break-even after \$11,000 / (\$9.50 per 1M) ≈ 1.16B tokens, about 1 day at 1M tokens per query and 1,000 queries a day",
      VERIFIED, "ref:ch6-problem-5", checks.break_even_problem5),
    C("003-pp5-quality", "003", "practice problem 5", r"quality-adjusted break-even = \$11,000 / (\$9.50/1M − value loss per token)",
      CORRECTED, "ref:ch6-problem-5", checks.quality_adjusted_break_even,
      correction="Only when the value loss is below the saving; otherwise distillation never pays for itself (the formula turns negative)."),
    # Found by the coverage map of lines 1-136 (objectives, sections 1-5, pitfalls).
    C("003-dark-knowledge", "003", "§1.1, §2.2, §4.1 and §4.2",
      r"$p_t = \mathrm{softmax}(z_t)$ contains more information than the one-hot label $y$: the relative probabilities of the "
      "incorrect classes encode the teacher's learned similarity structure ('dark knowledge'), a richer training signal",
      UNVERIFIABLE, "ref:ch5-information",
      note=r"The note defines neither the information nor the similarity structure. Counted as entropy, or as real numbers per "
           r"example (up to $C - 1$, 003-ex3-simplex), $p_t$ carries more than a one-hot label; counted as information about the "
           r"true class it carries no more than the label, since the teacher's output is a function of the input: "
           r"$I(p_t; Y) \le H(Y)$. Whether the wrong classes' probabilities follow class similarity depends on a teacher the note "
           "does not name."),
    C("003-temperature-reveals", "003", "§1.2 and pitfall 2",
      r"temperature controls how much dark knowledge is revealed: $T > 1$ reveals the teacher's relative preferences among "
      r"wrong answers, and a low $T$ loses the inter-class similarity information",
      UNVERIFIABLE, "ref:ch5-example-1",
      note=r"How much is 'revealed' has no measure in the note. Read as the entropy, or as the mass on the wrong classes, it rises "
           r"with $T$ (003-softer); read as information about the teacher's preferences, it does not change: "
           r"$p_i/p_j = e^{(z_i - z_j)/T}$ gives the same order, and with $T$ the same logit differences, at every $T > 0$ "
           r"(003-ex1-T20-lost). What $T$ changes is how much the wrong classes weigh in the loss and its gradient."),
    C("003-confident-teacher", "003", "§1.2 and §2.1",
      r"at $T = 1$ the teacher is confident: its incorrect-class probabilities are near zero, and its soft targets close to hard targets",
      EMPIRICAL, "ref:ch15-claims",
      note=r"A property of the trained teacher, not of the temperature: the softmax at $T = 1$ is near one-hot only when the "
           "teacher's logit gaps are large, which depends on its training (label smoothing, for one, keeps them small). The note's "
           r"own car example (§1.1) puts 0.2 on 'truck' at $T = 1$. Tested in chapter 15 by its stated test (experiment "
           "soft_target_mechanisms) on the replicates' MNIST teachers: the median mass on the wrong classes of the test "
           "images, against 1%."),
    C("003-softer", "003", "§1.2",
      r"$T > 1$ gives a 'softer' distribution: it flattens the probability mass, giving more weight to incorrect classes",
      VERIFIED, "prf:ch1-thm-entropy", checks.softer_above_one_003),
    C("003-t-squared-all-T", "003", "§1.4",
      r"the $T^2$ factor makes the gradient scale invariant to temperature, ensuring the soft-target loss remains meaningful at all $T$",
      CORRECTED, "ref:ch8-t-squared", checks.t_squared_scale_003,
      correction=r"With $T^2$ the soft gradient $T(q - p)$ tends to a limit independent of $T$ as $T \to \infty$; at moderate $T$ "
                 r"its size still changes, and as $T \to 0$ it vanishes like $T$."),
    C("003-T1-match", "003", "§1.5",
      r"at $T = 1$ and $\alpha = 1$: $\partial L/\partial z_{s,i} = p_s(i) - p_t(i)$, and the student learns to exactly match "
      "the teacher's output distribution",
      VERIFIED, "prf:ch2-thm-combined", checks.match_at_one_003),
    C("003-same-boundaries", "003", "§2.1", r"at $T \approx 1$ the student learns the same decision boundaries as the teacher",
      EMPIRICAL, "ref:ch15-claims",
      note="A prediction about trained students, measurable as a student's top-1 agreement with its teacher on held-out inputs, "
           "compared across temperatures. Tested in chapter 15 by its stated test (experiment soft_target_mechanisms): distilled at $T = 1$ "
           "against $T = 20$."),
    C("003-logit-agnostic", "003", "§3.1",
      "logit-based distillation: simple and architecture-agnostic, but it ignores intermediate representations",
      VERIFIED, "ref:ch7-projection", checks.logit_loss_sees_only_logits_003),
    C("003-feature-why", "003", "§3.2",
      "intermediate features encode compositional knowledge; a small student may lack the capacity to learn the right "
      "intermediate representations from output supervision alone; feature distillation provides 'hints' about how to "
      "decompose the problem",
      UNVERIFIABLE, "ref:ch7-fitnet",
      note="'Compositional knowledge', 'the right representations' and 'how to decompose the problem' have no measure in the "
           "note, and 'may not' cannot be refuted. The testable consequence, that adding the feature loss improves a small "
           "student over output-only distillation, is pitfall 3 (003-pitfall-layers), tested in chapter 14."),
    C("003-rkd-angle", "003", "§3.3 (RKD)",
      r"$L_{\mathrm{angle}} = \sum_{i\ne j\ne k}(\psi_A(t_i, t_j, t_k) - \psi_A(s_i, s_j, s_k))^2$ with $\psi_A$ the angle "
      "formed by three points",
      VERIFIED, "ref:ch7-rkd", checks.rkd_angle_003),
    C("003-rkd-relative", "003", "§3.3",
      "with relational distillation the student need not reproduce the teacher's exact features, only their relative structure",
      VERIFIED, "ref:ch7-rkd", checks.rkd_relative_structure_003),
    C("003-rkd-forgiving", "003", "§3.3",
      "relation-based distillation is more forgiving of capacity differences, and can transfer knowledge even when the student "
      "cannot fully replicate the teacher's representation",
      EMPIRICAL, "ref:ch14-claims",
      note="A prediction about trained students: that a relational loss helps a student too small to reproduce the teacher's "
           "features more than feature matching does. Tested in chapter 14 by its stated test (experiment beyond_logits): RKD against FitNet "
           "hints for a 4-layer student 20 units wide, from the 1200-1200 teacher."),
    C("003-hidden-state", "003", "§3.5",
      r"hidden-state distillation (TinyBERT, DistilBERT): $L_{\mathrm{hidden}} = \sum_l \lVert h_t^{l_t(l)} - W_l h_s^{l_s(l)}\rVert^2$; "
      "the student is often half the teacher's depth, with every other teacher layer mapped to it",
      CORRECTED, "ref:ch7-hidden-states", checks.hidden_state_layer_maps_003,
      correction=r"TinyBERT matches hidden states layer by layer through a learned $W_h$, its 4-layer student learning from every "
                 "third teacher layer; DistilBERT matches no intermediate layer: it takes one teacher layer in two to initialise "
                 "its 6 layers, and aligns only the final hidden states, with a cosine loss."),
    C("003-distil-recipe", "003", "§5.3",
      "DistilGPT-2 / DistilBERT style: the student has half the teacher's layers, initialised from every other teacher layer, "
      "and is trained with KL + cosine embedding loss + hard-label loss",
      VERIFIED, "ref:ch7-hidden-states", checks.distil_recipe_003),
    C("003-distilgpt2-size", "003", "§5.3 (DistilGPT-2)", "DistilGPT-2 / DistilBERT style: 40% parameter reduction",
      CORRECTED, "ref:ch7-hidden-states", checks.distilgpt2_size_003,
      correction="DistilGPT-2 (6 layers) has 81.9M parameters against GPT-2's 124.4M (12 layers): 34% fewer. The 40% is "
                 "DistilBERT's (003-distilbert-size)."),
    C("003-vocab-size", "003", "§5.1", r"for LLMs, $K = |V| \approx$ 32K–256K tokens",
      VERIFIED, "ref:ch6-problem-4", checks.vocabulary_sizes_003),
    C("003-teacher-flops", "003", "§5.1",
      "running a gigantic teacher on the full training set is expensive: a forward pass only, but still billions of FLOPs per example",
      UNVERIFIABLE, "ref:ch6-problem-3",
      note=r"No teacher size or example length is given. At about $2N$ FLOPs per token for $N$ parameters, 'billions' holds per "
           "token for any teacher above half a billion parameters; per example it can be far more: a 7B-parameter teacher on a "
           "512-token example needs about 7 trillion."),
    C("003-sequence-level", "003", "§5.3",
      "sequence-level distillation (training the student on the teacher's completions as supervised data) is simpler than "
      "step-by-step KL, but requires running the teacher for full generations",
      UNVERIFIABLE, "ref:ch8-on-policy",
      note="'Simpler' has no measure. What holds: it needs only the teacher's generated tokens, not its distributions (a teacher "
           "that returns text will do), and stores one token per position instead of a distribution over the vocabulary; the "
           "generations are sequential, where word-level KL needs one teacher pass over given text. Its targets are the teacher's "
           "tokens, that is hard labels, which pitfall 1 warns against."),
    C("003-on-policy-tradeoff", "003", "§5.3",
      "on-policy distillation is more expensive (it requires student rollouts) but matches the student's actual distribution",
      VERIFIED, "ref:ch8-on-policy", checks.on_policy_prefixes_003),
    C("003-pitfall-hard-labels", "003", "pitfall 1",
      "using the teacher's argmax (hard labels) instead of its distribution is a pitfall: it throws away the dark knowledge, "
      "such as that token A has 40% and token B 35%",
      EMPIRICAL, "ref:ch11-hard-labels",
      note="That the argmax discards the other probabilities is plain: teachers with the same argmax give the student the same "
           "target. That this makes a worse student is a prediction about training language models, tested in chapter 11 by "
           "its stated test (lm_token_kd: the student on the teacher's argmax tokens against the one on its distributions, "
           "paired over committed replicates). "
           "Sequence-level distillation, which §5.3 recommends, trains on hard tokens too, sampled rather than the argmax "
           "(chapter 12)."),
)
