"""The claims of source 001: a web note on knowledge distillation."""

from __future__ import annotations

from .. import checks
from .._claim import Claim
from .._finding import CORRECTED, VERIFIED

C = Claim  # the table reads better with a short name

CLAIMS: tuple[Claim, ...] = (
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
)
