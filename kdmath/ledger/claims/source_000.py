"""The claims of source 000: the soft-target gradient and its high-temperature limit."""

from __future__ import annotations

from .. import checks
from .._claim import Claim
from .._finding import CORRECTED, UNVERIFIABLE, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
    C("000-gradient", "000", "first display",
      r"$\partial C/\partial z_i = \frac1T (q_i - p_i)$ for the cross-entropy to soft targets at temperature $T$",
      VERIFIED, "prf:ch2-thm-gradient", checks.soft_gradient),
    C("000-taylor-exponential", "000", "Taylor step",
      r"$e^{z_i/T} \approx 1 + z_i/T$ and $e^{v_i/T} \approx 1 + v_i/T$ for small $z_i/T$, $v_i/T$",
      VERIFIED, "ref:ch3-sources", checks.taylor_exponential_000),
    C("000-expansion", "000", "Taylor step, for large $T$",
      r"$p_i \approx \frac1n + \frac1T\big(v_i - \frac1n\sum_j v_j\big)$",
      CORRECTED, "ref:ch3-sources", checks.expansion_missing_1_over_K,
      correction=r"$p_i \approx \frac1n + \frac{1}{nT}\big(v_i - \bar v\big)$: the first-order term has a factor $1/n$ the note drops."),
    C("000-difference", "000", "the step before the final display",
      r"$q_i - p_i \approx \frac1T\big((z_i - \frac1n\sum_j z_j) - (v_i - \frac1n\sum_j v_j)\big)$",
      CORRECTED, "ref:ch3-sources", checks.difference_missing_1_over_K,
      correction=r"$q_i - p_i \approx \frac{1}{nT}\big((z_i - \bar z) - (v_i - \bar v)\big)$: it inherits the $1/n$ the expansion drops."),
    C("000-gradient-limit", "000", "final display",
      r"$\partial C/\partial z_i \approx \frac{1}{T^2}\big(z_i - v_i - \frac1n \sum_j (z_j - v_j)\big)$",
      CORRECTED, "ref:ch3-sources", checks.gradient_limit_000,
      correction=r"$\partial C/\partial z_i \approx \frac{1}{nT^2}\big(z_i - v_i - \frac1n\sum_j (z_j - v_j)\big)$: the note's value is $n$ times too large."),
    C("000-smoother", "000", "closing sentence",
      "For high $T$ the training process is smoother, which helps the student learn.",
      UNVERIFIABLE, "doc:notebooks/03_high_temperature",
      note="No measure of smoothness is defined, and the note derives nothing about it; what the expansion does show is that the soft gradient becomes linear in the logits (chapter 3)."),
)
