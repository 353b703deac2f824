"""The claims of source 001: a web note on knowledge distillation."""

from __future__ import annotations

from .. import checks
from .._claim import Claim
from .._finding import CORRECTED, UNVERIFIABLE, VERIFIED

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
    C("001-r1-popular", "001", "opening paragraph",
      "Distillation is even more popular now with the rise of R1.",
      UNVERIFIABLE, "doc:book/claims",
      note="No measure of popularity and no period are given; it is a remark about the field, not about the method, and the book studies the method."),
    C("001-specialist-activations", "001", "second paragraph",
      "Unlike a mixture of experts, a distilled specialist only includes the activations related to its field.",
      UNVERIFIABLE, "doc:book/claims",
      note="No measure says which activations are 'related' to a field, and no model is named. Nothing in the loss of eq. (2) selects activations: it constrains only the student's outputs, and every unit of a dense student is computed for every input."),
    C("001-unused-parameters", "001", "second paragraph",
      "Conceptually, most of the parameters within a neural network are unused.",
      UNVERIFIABLE, "doc:book/claims",
      note="No network is named and 'unused' is not defined (never updated? prunable without loss? unimportant for a given input?); the linked note it relies on is not among the sources."),
    C("001-T-one", "001", "after eq. (1)",
      r"the temperature $T$ of eq. (1) is often set to 1",
      VERIFIED, "eq:temperature-softmax", checks.temperature_one_is_softmax_001),
    C("001-eq4-from-eq3", "001", "footnote, between eq. (3) and eq. (4)",
      "eq. (4) is eq. (3) simplified for logits that are zero-mean per transfer case",
      CORRECTED, "ref:ch3-sources", checks.eq4_from_eq3_001,
      correction=r"For zero-mean logits eq. (3) as printed simplifies to about $\frac{1}{2NT^2}(z_i - v_i)$, since each denominator $N + \sum_j e^{z_j/T}$ is about $2N$; eq. (4) follows from eq. (3) once its denominators are $N + \sum_j z_j/T$, which are then exactly $N$."),
)
