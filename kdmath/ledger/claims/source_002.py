"""The claims of source 002: knowledge distillation: why and how."""

from __future__ import annotations

from .. import checks
from .._claim import Claim
from .._finding import CORRECTED, VERIFIED

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
)
