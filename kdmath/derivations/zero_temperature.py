r"""Chapter 4: the soft term as :math:`T \to 0^+`, in the large parameter :math:`\beta = 1/T`.

The teacher's logits are :math:`(0, -u, -2u)`, a unique maximum at class 1 with gaps
:math:`u>0`, so :math:`p \to e_1`. Two students:

* one that disagrees, logits :math:`(0, d, -b)` with :math:`d, b > 0` (it prefers class 2 by a
  margin :math:`d`): :math:`T\,\mathrm{KL} \to d`, so the unscaled KL diverges like :math:`d/T`
  and :math:`T^2\,\mathrm{KL} \to 0`;
* one that agrees, logits :math:`(0, -1/2, -3)` against a teacher :math:`(0, -1, -2)`: the KL
  vanishes, faster than any power of T.

So without the :math:`T^2` factor the soft term becomes the zero-margin (perceptron)
loss :math:`\max_j z_{s,j} - z_{s,c}` on the teacher's argmax labels (times :math:`1/T`);
with it, the soft term vanishes and the loss reduces to :math:`(1-\alpha)` times the
ordinary cross-entropy on the true labels.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import beta, log_softmax


def _kl(teacher, student):
    log_p, log_q = log_softmax(teacher, 1 / beta), log_softmax(student, 1 / beta)
    return sum(sp.exp(lpi) * (lpi - lqi) for lpi, lqi in zip(log_p, log_q))


def soft_term_limits() -> Derivation:
    u, d_gap, b = sp.symbols("u d b", positive=True)
    teacher = (0, -u, -2 * u)
    disagreeing = (0, d_gap, -b)
    agreeing = (0, -sp.Rational(1, 2), -3)
    p = [sp.exp(lp) for lp in log_softmax(teacher, 1 / beta)]
    q = [sp.exp(lq) for lq in log_softmax(disagreeing, 1 / beta)]
    kl_dis = _kl(teacher, disagreeing)
    kl_agree = _kl((0, -1, -2), agreeing)
    T_ = 1 / beta
    KL = sp.Symbol(r"\mathrm{KL}(p\|q)")

    def lim(expr):
        return sp.Limit(expr, beta, sp.oo)

    d = Derivation("Zero-temperature limits of the soft term")
    d.add(
        r"The teacher's soft targets tend to its argmax one-hot: $p \to e_1$ as $T \to 0^+$ ($\beta = 1/T \to \infty$).",
        sp.Matrix([sp.Limit(pi, beta, sp.oo) for pi in p]),
        sp.Matrix([1, 0, 0]),
    )
    d.add(
        r"Student disagreeing by a margin $d$: $T\,\mathrm{KL}(p\|q) \to d = \max_j z_{s,j} - z_{s,1}$.",
        sp.Limit(T_ * kl_dis, beta, sp.oo),
        d_gap,
        shown=(lim(KL / beta), d_gap),
    )
    d.add(
        r"So the unscaled soft term diverges like $d/T$.",
        sp.Limit(kl_dis, beta, sp.oo),
        sp.oo,
        shown=(lim(KL), sp.oo),
    )
    d.add(
        r"And the $T^2$-scaled soft term vanishes (like $T d$).",
        sp.Limit(T_**2 * kl_dis, beta, sp.oo),
        0,
        shown=(lim(KL / beta**2), 0),
    )
    d.add(
        r"The unscaled gradient $\frac1T(q - p)$, multiplied by $T$, tends to $e_2 - e_1$: the perceptron update "
        r"toward the teacher's label and away from the student's.",
        sp.Matrix([sp.Limit(qi - pi, beta, sp.oo) for qi, pi in zip(q, p)]),
        sp.Matrix([-1, 1, 0]),
    )
    d.add(
        r"The $T^2$-scaled gradient $T(q - p)$ tends to zero.",
        sp.Matrix([sp.Limit(T_ * (qi - pi), beta, sp.oo) for qi, pi in zip(q, p)]),
        sp.zeros(3, 1),
    )
    d.add(
        r"A student agreeing with the teacher, $z_s = (0, -\tfrac12, -3)$ against $z_t = (0, -1, -2)$: the KL tends to zero...",
        sp.Limit(kl_agree, beta, sp.oo),
        0,
        shown=(lim(KL), 0),
    )
    d.add(
        r"...faster than any power of $T$; even $\mathrm{KL}/T^3 \to 0$.",
        sp.Limit(kl_agree * beta**3, beta, sp.oo),
        0,
        shown=(lim(KL * beta**3), 0),
    )
    return d
