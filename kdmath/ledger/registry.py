"""The registry: every formula, number and theorem of the five source notes, with its verdict.

A :class:`Claim` records where a source states something, the statement as the source gives it,
the verdict, the correct statement where it differs, the check that decides it, and the place in
the book that treats it (``where``: ``"ref:<label>"``, ``"prf:<label>"`` or ``"doc:<path>"``).
Claims that code cannot decide carry the reason (``note``) instead: for an empirical claim, the
experiment that tests it (:mod:`kdmath.ledger.empirical` reads its outcome off the committed results).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from . import checks
from ._finding import DECIDED, EMPIRICAL, UNVERIFIABLE, VACUOUS, VERDICTS, VERIFIED, CORRECTED, FALSE

@dataclass(frozen=True)
class Source:
    """One source note: its id (the prefix of its claims' ids), its file, and what a reader is told about it.

    The files are not shipped with the book; ``title`` and ``summary`` are the only description of them
    the book gives (on the ledger page and the sources page), so they are written here, once.
    """

    id: str
    file: str
    title: str
    summary: str


SOURCES: dict[str, Source] = {
    source.id: source
    for source in (
        Source("000", "000_26121bf45b6a6dba.txt", "The soft-target gradient and its high-temperature limit",
               "A one-page derivation, in the style of Hinton et al. (2015), of the gradient of the cross-entropy "
               "to a teacher's soft targets at temperature T, followed by a first-order Taylor expansion for large T "
               "that ends in a gradient proportional to the difference of the logits. The derivation appears twice, "
               "word for word."),
        Source("001", "001_bd2c23c8fa3487d6.txt", "A web note on knowledge distillation",
               "A short entry of a personal research notebook, following Hinton et al. (2015): the temperature "
               "softmax (its equation 1), the soft-target gradient (equation 2) and, in a footnote, two "
               "high-temperature approximations of it (equations 3 and 4)."),
        Source("002", "002_4fb16db29d5d5501.txt", "Knowledge distillation: why and how",
               "An introductory explainer: what distillation is and why it is used (compression, cheaper "
               "deployment, sometimes better generalisation), the three steps of the recipe, and the loss that "
               "mixes the cross-entropy to the labels with a T²-scaled KL divergence, or cross-entropy, to the "
               "teacher's softened outputs."),
        Source("003", "003_8d5a19f0dde13e96.txt", "A study unit on knowledge distillation for language models",
               "A long unit of a course on the mathematics of large language models: the distillation loss and its "
               "T² factor, the high- and zero-temperature limits, logit-, feature-, relation- and attention-based "
               "variants, why distillation works, distillation of LLMs (top-k and sampled KL, on-policy), three "
               "worked examples, five practice problems with solutions and an eight-question quiz."),
        Source("004", "004_b6906b5fa23cc9b6.txt", "Mathematical foundations of knowledge distillation",
               "A module that promises rigorous foundations and proofs: temperature scaling and its limits, the KL "
               "loss and the T² argument, nine numbered theorems (entropy, gradients, dark knowledge, "
               "generalisation, compression, attention, progressive and self-distillation, optimal temperature), "
               "feature- and relation-based distillation, and a table of temperatures to use."),
    )
}

# The claims' texts (place, statement, correction, note) are MyST Markdown: a formula stands between
# dollars, and a literal dollar (a price) is written \$. The ledger page typesets them; the checks below
# keep prose from being typeset as a formula, and the site test compares what the browser typesets with
# math_spans.
_DOLLAR = re.compile(r"(?<!\\)\$")
_COMMAND = re.compile(r"\\(?:text|mathrm|operatorname|mathbf|mathbb|mathcal)\{[^}]*\}|\\[A-Za-z]+")


def math_spans(text: str) -> list[str]:
    """The formulas of a claim's text: what stands between unescaped dollars (``\\$`` is a literal dollar)."""
    parts = _DOLLAR.split(text)
    if len(parts) % 2 == 0:
        raise ValueError(f"an odd number of unescaped dollars (write a literal dollar as \\$): {text!r}")
    return parts[1::2]


def not_a_formula(span: str) -> str | None:
    """Why the text between two dollars reads as prose or prices rather than a formula; ``None`` when it does not."""
    bare = _COMMAND.sub(" ", span)
    if re.search(r"(?<![\\A-Za-z_^])[A-Za-z]{2,}\s+[A-Za-z]{2,}\b", bare):
        return "it holds two words in a row"
    if re.search(r"\d,\d{3}\b", span):
        return "it holds a number with a thousands comma (a price?)"
    depth = 0
    for char in span.replace(r"\{", "").replace(r"\}", ""):
        depth += (char in "([{") - (char in ")]}")
        if depth < 0:
            break
    if depth:
        return "its brackets do not balance"
    return None


TESTED_IN_CH10 = ("Tested by an MNIST experiment (chapter 10); the ledger shows the outcome on the longest committed run, "
                  "by the rule stated in kdmath.ledger.empirical. ")


@dataclass(frozen=True)
class Claim:
    id: str
    source: str
    place: str
    statement: str
    verdict: str
    where: str
    check: Callable | None = None
    correction: str | None = None
    note: str | None = None

    def __post_init__(self):
        for field in ("place", "statement", "correction", "note"):
            for span in math_spans(getattr(self, field) or ""):
                reason = not_a_formula(span)
                if reason:
                    raise ValueError(f"claim {self.id}: the {field}'s ${span}$ is typeset as a formula, but {reason}; "
                                     f"write a literal dollar as \\$")
        if self.source not in SOURCES:
            raise ValueError(f"claim {self.id}: source must be one of {tuple(SOURCES)}, got {self.source!r}")
        if self.verdict not in VERDICTS:
            raise ValueError(f"claim {self.id}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        if self.verdict in DECIDED and self.check is None:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs a check")
        if self.verdict in (CORRECTED, FALSE) and not self.correction:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs the correct statement")
        if self.verdict in (VACUOUS, EMPIRICAL, UNVERIFIABLE) and not self.note:
            raise ValueError(f"claim {self.id}: a {self.verdict!r} verdict needs a note (the reason or the experiment)")
        kind, _, target = self.where.partition(":")
        if kind not in ("ref", "prf", "doc", "eq") or not target:
            raise ValueError(f"claim {self.id}: where must be 'ref:', 'prf:', 'doc:' or 'eq:' and a target, got {self.where!r}")

    @property
    def check_name(self) -> str | None:
        return None if self.check is None else f"kdmath.ledger.checks.{self.check.__name__}"


C = Claim  # the table below reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    # ---------------------------------------------------------------- 000
    C("000-gradient", "000", "first display",
      r"$\partial C/\partial z_i = \frac1T (q_i - p_i)$ for the cross-entropy to soft targets at temperature $T$",
      VERIFIED, "prf:ch2-thm-gradient", checks.soft_gradient),
    C("000-expansion", "000", "Taylor step, for large $T$",
      r"$p_i \approx \frac1n + \frac1T\big(v_i - \frac1n\sum_j v_j\big)$",
      CORRECTED, "ref:ch3-sources", checks.expansion_missing_1_over_K,
      correction=r"$p_i \approx \frac1n + \frac{1}{nT}\big(v_i - \bar v\big)$: the first-order term has a factor $1/n$ the note drops."),
    C("000-gradient-limit", "000", "final display",
      r"$\partial C/\partial z_i \approx \frac{1}{T^2}\big(z_i - v_i - \frac1n \sum_j (z_j - v_j)\big)$",
      CORRECTED, "ref:ch3-sources", checks.gradient_limit_000,
      correction=r"$\partial C/\partial z_i \approx \frac{1}{nT^2}\big(z_i - v_i - \frac1n\sum_j (z_j - v_j)\big)$: the note's value is $n$ times too large."),
    C("000-smoother", "000", "closing sentence",
      "For high $T$ the training process is smoother, which helps the student learn.",
      UNVERIFIABLE, "doc:notebooks/03_high_temperature",
      note="No measure of smoothness is defined, and the note derives nothing about it; what the expansion does show is that the soft gradient becomes linear in the logits (chapter 3)."),
    # ---------------------------------------------------------------- 001
    C("001-eq1", "001", "eq. (1)", r"$q_i = \exp(z_i/T) / \sum_j \exp(z_j/T)$",
      VERIFIED, "eq:temperature-softmax", checks.temperature_softmax_definition),
    C("001-eq2", "001", "eq. (2)", r"$\partial C/\partial z_i = \frac1T(q_i - p_i)$",
      VERIFIED, "prf:ch2-thm-gradient", checks.soft_gradient),
    C("001-eq3", "001", "eq. (3), footnote",
      r"$\partial C/\partial z_i \approx \frac1T\Big(\frac{1 + z_i/T}{N + \sum_j e^{z_j/T}} - \frac{1 + v_i/T}{N + \sum_j e^{v_j/T}}\Big)$",
      CORRECTED, "ref:ch3-sources", checks.eq3_denominator_001,
      correction=r"The denominators are $N + \sum_j z_j/T$ (Hinton et al.'s form); with $e^{z_j/T}$ they are about $2N$ and the approximation is about half the gradient."),
    C("001-eq4", "001", "eq. (4), footnote",
      r"with zero-mean logits, $\partial C/\partial z_i \approx \frac{1}{NT^2}(z_i - v_i)$",
      VERIFIED, "ref:ch3-sources", checks.eq4_zero_mean_001),
    # ---------------------------------------------------------------- 002
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
    # ---------------------------------------------------------------- 003
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
      VERIFIED, "eq:kd-loss", checks.alpha_on_hard_term_002),
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
    C("003-medium-T", "003", "§2.2 and pitfall 2",
      r"$T \approx 2$–$5$ is the sweet spot; $T$ = 2–10 is usually optimal for LLM distillation",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "Only the first half: the LLM half needs a language model, which the book does not train."),
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
      EMPIRICAL, "ref:ch5-label-smoothing",
      note="Not tested by experiment: chapter 5 shows the exact identity behind the claim, and why it is not label smoothing (the teacher's targets depend on the input). No experiment of the book trains with label smoothing."),
    C("003-bits", "003", "§4.1",
      r"a hard label gives $\log_2 C$ bits; the teacher's distribution gives up to $C$ times more information",
      CORRECTED, "ref:ch5-information", checks.example3_bits,
      correction=r"A label carries $H(Y) \le \log_2 C$ bits (equal only for uniform classes); a soft target is a point of the $(C-1)$-simplex, and 'C times more information' is not a defined quantity."),
    C("003-label-smoothing", "003", "§4.2",
      r"hard labels plus soft targets $\approx$ training on $(1-\varepsilon)\,y + \varepsilon\, p_t$",
      VERIFIED, "ref:ch5-label-smoothing", checks.label_smoothing_identity),
    C("003-variance", "003", "§4.3 and §4.4",
      "teacher outputs have lower variance than labels; soft targets give a smoother loss landscape with fewer sharp minima",
      EMPIRICAL, "ref:ch10-claims",
      note=TESTED_IN_CH10 + "Only through its consequence, that soft targets overfit less than labels on a small training set; the variance and the loss landscape are not measured."),
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
      FALSE, "ref:ch5-example-1", checks.example1_maximal_at_T5,
      correction="Measured as the gap between the best and the worst wrong class it peaks near T = 2.25; entropy and wrong-class mass have no maximum at all."),
    C("003-ex1-T20-lost", "003", "example 1", "at T = 20 nearly all class-distinction information is lost",
      FALSE, "ref:ch5-example-1", checks.example1_information_lost_at_T20,
      correction=r"$T \log \sigma_T(z)$ recovers the centred logits exactly at every $T$; high temperatures compress the differences, they do not erase them."),
    C("003-ex1-optimal", "003", "example 1", "for this teacher T = 2–3 provides the best balance",
      EMPIRICAL, "ref:ch5-example-1", note="Example 1's teacher is a single logit vector with no data set, so no training can test the claim as stated; chapter 10's temperature sweep tests the general claim (003 §2.2)."),
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
      VERIFIED, "ref:ch2-sources", checks.sign_of_update),
    C("003-car-example", "003", "§1.1", "a teacher's output for a car image: (0.7, 0.2, 0.08, 0.01, 0.01) over car, truck, bus, bicycle, pedestrian",
      VERIFIED, "ref:ch5-example-1", checks.car_example_distribution),
    C("003-llm-loss", "003", "§5.2", "the LLM distillation loss is the per-position loss, averaged over all positions",
      VERIFIED, "ref:ch8-reduction", checks.per_position_average),
    C("003-on-policy", "003", "§5.3", "on-policy distillation: the student generates, the teacher scores, and the student is trained to maximise the teacher-assigned score of its own outputs",
      CORRECTED, "ref:ch8-on-policy", checks.on_policy_objective,
      correction=r"On-policy distillation (GKD, MiniLLM) minimises a divergence, such as the reverse KL $\mathrm{KL}(q\Vert p)$, on the student's own samples; the score $\mathbb E_q[\log p]$ alone is maximised by collapsing onto the teacher's mode."),
    C("003-pitfall-layers", "003", "pitfall 3", "layer-to-layer distillation significantly improves results, especially for deep models",
      EMPIRICAL, "ref:ch7-hidden-states", note="Not tested: the book's experiments are two-layer MNIST perceptrons, not the deep models the claim is about."),
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
      EMPIRICAL, "ref:ch6-problem-4", note="Depends on the teacher and the text; chapter 6 shows synthetic distributions only. Not yet tested on a real language model."),
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
    # ---------------------------------------------------------------- 004
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
      VERIFIED, "ref:ch8-alpha", checks.alpha_on_hard_term_002),
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
    C("004-thm7-bound", "004", "Theorem 7 (progressive distillation)", r"$\mathcal L_S^* \le \mathcal L_T^* + k\,\epsilon_{step}$",
      VACUOUS, "ref:ch9-thm-7", checks.progressive_bound_vacuous,
      note=r"With $\epsilon_{step}$ the per-step increase in loss, the bound is a telescoping sum: it holds for any chain of models."),
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
)


def by_id() -> dict[str, Claim]:
    """The registry as a mapping from claim id to claim."""
    return {claim.id: claim for claim in CLAIMS}
