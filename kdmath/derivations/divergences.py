r"""Facts about the divergences of :mod:`kdmath.divergences`, proved for every number of classes :math:`K`.

:math:`K` is a sympy ``Symbol``; the teacher's and the student's distributions are softmaxes of
``IndexedBase`` logits, :math:`p_k = e^{z_{t,k}}/\sum_j e^{z_{t,j}}` and
:math:`q_k = e^{z_{s,k}}/\sum_j e^{z_{s,j}}`,
so that :math:`\sum_k p_k = \sum_k q_k = 1` is something sympy *computes*, not an assumption. The
generalised Jensen-Shannon divergence is a sum of one term per class,

.. math::

    \mathrm{JSD}_\beta(p\|q) = \sum_k c(\beta; p_k, q_k),\qquad
    c(\beta; p, q) = \beta p\log\frac{p}{\beta p + (1-\beta)q}
                     + (1-\beta) q\log\frac{q}{\beta p + (1-\beta)q}.

What is proved:

1. :func:`jsd_small_beta` -- :math:`\frac{d}{d\beta}\mathrm{JSD}_\beta\big|_{\beta=0} = \mathrm{KL}(p\|q)`,
   **not 0**, and

   .. math:: \mathrm{JSD}_\beta(p\|q) = \beta\,\mathrm{KL}(p\|q) - \frac{\beta^2}{2}\chi^2(p\|q) + O(\beta^3),
             \qquad \chi^2(p\|q) = \sum_k \frac{(p_k - q_k)^2}{q_k},

   so :math:`\mathrm{JSD}_\beta/\beta \to \mathrm{KL}(p\|q)` (the forward KL, the sum over :math:`k` of
   :math:`p_k\log(p_k/q_k)`) as :math:`\beta \to 0`; by the symmetry
   :math:`\mathrm{JSD}_\beta(p\|q) = \mathrm{JSD}_{1-\beta}(q\|p)`,
   :math:`\mathrm{JSD}_\beta/(1-\beta) \to \mathrm{KL}(q\|p)`
   as :math:`\beta \to 1`. Checked again, with no stated rule, on a symbolic two-point distribution.

2. :func:`jsd_half_bound` -- :math:`\mathrm{JSD}_{1/2}(p\|q) \le \log 2` for every :math:`K`, and the bound is
   approached as the two distributions' mass separates (a two-point limit).

3. :func:`kl_second_order` -- with :math:`q = p + \varepsilon d`, :math:`\sum_k d_k = 0`, forward and
   reverse KL agree to second order,

   .. math:: \mathrm{KL}(p\|q) = \mathrm{KL}(q\|p) + O(\varepsilon^3)
             = \frac{\varepsilon^2}2\sum_k \frac{d_k^2}{p_k} + O(\varepsilon^3),

   and part at third order:

   .. math:: \mathrm{KL}(p\|q) - \mathrm{KL}(q\|p) = -\frac{\varepsilon^3}{6}\sum_k\frac{d_k^3}{p_k^2}
             + O(\varepsilon^4).
   Checked again, with no stated rule, on a symbolic two-point distribution.

How: as in :mod:`kdmath.derivations.general_limits`, series and limits are taken of *one generic class*
(sympy cannot expand a ``Sum`` with a symbolic upper limit in a series), identities between finite sums
are decided by sympy with :math:`K` symbolic, and the step from the generic class to the sum rests on
the stated rules ``RULE_O`` and ``RULE_LIM`` of that module (a sum of :math:`K` terms each
:math:`O(\beta^n)` is :math:`O(\beta^n)`; the limit of a finite sum is the sum of the limits).

:func:`jsd_small_beta_claim`, :func:`jsd_two_point_series` and :func:`kl_second_order_claim` return the
sympy expressions themselves, for a chapter to print.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import K, eps
from .general_limits import RULE_LIM, RULE_O, _sum_step, k, sum_k

#: The weight of the teacher's KL in the generalised JSD (here not 1/T as in ``_symbols``).
beta = sp.Symbol("beta", positive=True)

z_s = sp.IndexedBase("z_s", real=True)
z_t = sp.IndexedBase("z_t", real=True)
#: Generic positive per-class quantities (a distribution's entries, a term of a sum).
p_ = sp.IndexedBase("p", positive=True)
q_ = sp.IndexedBase("q", positive=True)
a_ = sp.IndexedBase("a", real=True)
b_ = sp.IndexedBase("b", real=True)
e_ = sp.IndexedBase("e", real=True)

#: Index-free stand-ins for one class: the teacher's and the student's probability.
p, q = sp.symbols("p q", positive=True)

RULE_NONNEG = "stated rule, not checked: a sum of K non-negative terms is non-negative"
RULE_A_O = "stated rule, not checked: a function A + O(β) tends to A as β → 0"


def softmax_k(z, index=k):
    r""":math:`e^{z_{index}}/\sum_j e^{z_j}` with the sum over all K classes (a distribution for every K)."""
    # The normaliser's sum binds the same index k as the outer sums: sympy then sees the two sums as
    # the same expression and cancels them (with a different dummy index it does not).
    return sp.exp(z[index]) / sum_k(sp.exp(z[k]))


def jsd_term(weight, teacher, student):
    r"""One class's term :math:`c(\beta; p, q)` of :math:`\mathrm{JSD}_\beta` (see the module docstring)."""
    m = weight * teacher + (1 - weight) * student
    return weight * teacher * sp.log(teacher / m) + (1 - weight) * student * sp.log(student / m)


def kl_sum(first, second):
    r""":math:`\sum_k a_k\log(a_k/b_k)` for ``IndexedBase``-like callables ``first(k)``, ``second(k)``."""
    return sum_k(first(k) * sp.log(first(k) / second(k)))


def jsd_small_beta_claim():
    r""":math:`\beta\,\mathrm{KL}(p\|q) - \frac{\beta^2}{2}\chi^2(p\|q) + O(\beta^3)`, with the K-sums."""
    P, Q = (lambda i: softmax_k(z_t, i)), (lambda i: softmax_k(z_s, i))
    chi2 = sum_k((P(k) - Q(k)) ** 2 / Q(k))
    return beta * kl_sum(P, Q) - beta**2 * chi2 / 2 + sp.O(beta**3)


def jsd_two_point_series(n: int = 3):
    r"""The series in :math:`\beta`, to :math:`O(\beta^n)`, of :math:`\mathrm{JSD}_\beta` for two classes.

    :math:`p = (a, 1-a)`, :math:`q = (b, 1-b)`; each coefficient simplified, for printing.
    """
    a, b = sp.symbols("a b", positive=True)
    exact = jsd_term(beta, a, b) + jsd_term(beta, 1 - a, 1 - b)
    series = sp.series(exact, beta, 0, n).removeO()
    coefficients = [sp.expand_log(series.coeff(beta, i), force=True) for i in range(1, n)]
    terms = [sp.factor(sp.simplify(c)) * beta**i for i, c in enumerate(coefficients, start=1)]
    return sp.Add(*terms) + sp.O(beta**n)


def _jsd_small_beta(leading=None, second=None) -> Derivation:
    """``leading``, ``second``: other claimed coefficients of β and β² per class (to test wrong claims)."""
    leading = p * sp.log(p / q) - p + q if leading is None else leading
    second = -((p - q) ** 2) / (2 * q) if second is None else second
    d = Derivation("Small-beta expansion of the generalised JSD, for every K")
    J = sum_k(jsd_term(beta, p_[k], q_[k]))
    derivative_at_0 = sp.Subs(sp.Derivative(J, beta), beta, 0)
    d.add(
        r"The derivative at $\beta = 0$ of the K-term sum, for any positive $p_k, q_k$: "
        r"$\frac{d}{d\beta}\mathrm{JSD}_\beta\big|_0 = \sum_k\big(p_k\log\frac{p_k}{q_k} - p_k + q_k\big)$ "
        r"[sympy decides it with K symbolic, differentiating the finite sum term by term].",
        derivative_at_0,
        sum_k(leading.subs({p: p_[k], q: q_[k]})),
    )
    P, Q = (lambda i: softmax_k(z_t, i)), (lambda i: softmax_k(z_s, i))
    _sum_step(
        d,
        r"When $p$ and $q$ are distributions (softmaxes of the logits), $\sum_k(a_k - p_k + q_k) = \sum_k a_k$, so the "
        r"derivative at 0 is $\mathrm{KL}(p\|q) = \sum_k p_k\log(p_k/q_k)$: positive unless $p = q$, not 0",
        sum_k(a_[k] - P(k) + Q(k)),
        sum_k(a_[k]),
    )
    d.add(
        r"One generic class: $c(\beta; p, q) = \beta\big(p\log\frac pq - p + q\big) - \frac{\beta^2}{2}\frac{(p-q)^2}{q} "
        r"+ \frac{\beta^3}{6}\frac{(p-q)^3}{q^2} + O(\beta^4)$ [sympy decides the series].",
        jsd_term(beta, p, q),
        beta * leading + beta**2 * second + beta**3 * (p - q) ** 3 / (6 * q**2) + sp.O(beta**4),
        "~",
    )
    _sum_step(
        d,
        r"Summing over the K classes, the $-p_k + q_k$ cancel: "
        r"$\mathrm{JSD}_\beta = \beta\,\mathrm{KL}(p\|q) - \frac{\beta^2}{2}\chi^2(p\|q) + O(\beta^3)$ with "
        r"$\chi^2(p\|q) = \sum_k (p_k - q_k)^2/q_k$ " + f"({RULE_O})",
        sum_k(beta * (a_[k] - P(k) + Q(k)) + beta**2 * b_[k]),
        beta * sum_k(a_[k]) + beta**2 * sum_k(b_[k]),
    )
    d.add(
        r"So $\mathrm{JSD}_\beta$ vanishes at $\beta = 0$ and only $\mathrm{JSD}_\beta/\beta$ tends to a divergence, the forward "
        r"KL: for one class $c(\beta; p, q)/\beta \to p\log\frac pq - p + q$ [sympy decides the limit; "
        f"{RULE_LIM}; the sum of the limits is KL(p||q) by step 2].",
        sp.Limit(jsd_term(beta, p, q) / beta, beta, 0, "+"),
        leading,
    )
    d.add(
        r"Symmetry, class by class: $c(\beta; p, q) = c(1-\beta; q, p)$, so $\mathrm{JSD}_\beta(p\|q) = \mathrm{JSD}_{1-\beta}(q\|p)$ "
        r"and, by the steps above, $\mathrm{JSD}_\beta/(1-\beta) \to \mathrm{KL}(q\|p)$ as $\beta \to 1$: the reverse KL "
        r"[sympy decides the identity].",
        jsd_term(beta, p, q),
        jsd_term(1 - beta, q, p),
    )
    a, b = sp.symbols("a b", positive=True)
    two_point = jsd_term(beta, a, b) + jsd_term(beta, 1 - a, 1 - b)
    lead2 = leading.subs({p: a, q: b}) + leading.subs({p: 1 - a, q: 1 - b})
    second2 = second.subs({p: a, q: b}) + second.subs({p: 1 - a, q: 1 - b})
    d.add(
        r"Check with no stated rule, two classes, $p = (a, 1-a)$, $q = (b, 1-b)$: "
        r"$\mathrm{JSD}_\beta = \beta\big(a\log\frac ab + (1-a)\log\frac{1-a}{1-b}\big) - \frac{\beta^2}{2}\big(\frac{(a-b)^2}{b} "
        r"+ \frac{(a-b)^2}{1-b}\big) + O(\beta^3)$ [sympy decides the series of the whole sum].",
        two_point,
        beta * lead2 + beta**2 * second2 + sp.O(beta**3),
        "~",
    )
    return d


def jsd_small_beta() -> Derivation:
    r""":math:`\mathrm{JSD}_\beta = \beta\,\mathrm{KL}(p\|q) - \frac{\beta^2}2\chi^2(p\|q) + O(\beta^3)`."""
    return _jsd_small_beta()


def _jsd_half_bound(bound=None) -> Derivation:
    bound = sp.log(2) if bound is None else bound
    half = sp.Rational(1, 2)
    w, s = sp.symbols("w s", positive=True)
    d = Derivation("The Jensen-Shannon divergence is at most log 2, for every K")
    d.add(
        r"One class at $\beta = \frac12$: $c(\frac12; p, q) = \frac{p+q}{2}\log 2 - \frac12\big(p\log(1 + \frac qp) "
        r"+ q\log(1 + \frac pq)\big)$ [sympy decides it].",
        jsd_term(half, p, q),
        (p + q) / 2 * sp.log(2) - (p * sp.log(1 + q / p) + q * sp.log(1 + p / q)) / 2,
    )
    P, Q = (lambda i: softmax_k(z_t, i)), (lambda i: softmax_k(z_s, i))
    _sum_step(
        d,
        r"The first parts sum to $\log 2$ because $p$ and $q$ are distributions: $\sum_k\frac{p_k + q_k}{2}\log 2 = \log 2$",
        sum_k((P(k) + Q(k)) / 2 * sp.log(2)),
        bound,
    )
    d.add(
        r"Each of the other parts is $w\log(1 + s)$ with $w > 0$ and $s > 0$ ($w = p_k$, $s = q_k/p_k$ or the reverse), "
        r"which is $\ge 0$ [sympy decides the sign]; so $\mathrm{JSD}_{1/2}(p\|q) \le \log 2$ "
        f"({RULE_NONNEG}).",
        w * sp.log(1 + s),
        0,
        ">=",
    )
    delta = sp.Symbol("delta", positive=True)
    d.add(
        r"The bound is the supremum: with two classes, $p = (1-\delta, \delta)$ and $q = (\delta, 1-\delta)$, "
        r"$\mathrm{JSD}_{1/2} \to \log 2$ as $\delta \to 0^+$ [sympy decides the limit].",
        sp.Limit(jsd_term(half, 1 - delta, delta) + jsd_term(half, delta, 1 - delta), delta, 0, "+"),
        bound,
    )
    return d


def jsd_half_bound() -> Derivation:
    r""":math:`\mathrm{JSD}_{1/2}(p\|q) \le \log 2` for every K, approached as the supports separate."""
    return _jsd_half_bound()


def kl_second_order_claim(d=None, p_i=None):
    r"""One class's shared second-order term :math:`\frac{\varepsilon^2}{2}\frac{d_i^2}{p_i}`."""
    d = sp.Symbol("d", real=True) if d is None else d
    p_i = p if p_i is None else p_i
    return eps**2 * d**2 / (2 * p_i)


def _kl_second_order(forward_second=None, reverse_second=None) -> Derivation:
    dd = sp.Symbol("d", real=True)
    forward_second = kl_second_order_claim(dd) if forward_second is None else forward_second
    reverse_second = kl_second_order_claim(dd) if reverse_second is None else reverse_second
    q_eps = p + eps * dd
    d = Derivation("Forward and reverse KL agree to second order near p, for every K")
    d.add(
        r"One generic class of $\mathrm{KL}(p\|q)$ with $q = p + \varepsilon d$: "
        r"$p\log\frac{p}{p + \varepsilon d} = -\varepsilon d + \frac{\varepsilon^2 d^2}{2p} - \frac{\varepsilon^3 d^3}{3p^2} "
        r"+ O(\varepsilon^4)$ [sympy decides the series].",
        p * sp.log(p / q_eps),
        -eps * dd + forward_second - eps**3 * dd**3 / (3 * p**2) + sp.O(eps**4),
        "~",
    )
    d.add(
        r"One generic class of $\mathrm{KL}(q\|p)$: $(p + \varepsilon d)\log\frac{p + \varepsilon d}{p} = \varepsilon d "
        r"+ \frac{\varepsilon^2 d^2}{2p} - \frac{\varepsilon^3 d^3}{6p^2} + O(\varepsilon^4)$ [sympy decides the series].",
        q_eps * sp.log(q_eps / p),
        eps * dd + reverse_second - eps**3 * dd**3 / (6 * p**2) + sp.O(eps**4),
        "~",
    )
    centred_d = e_[k] - sum_k(e_[k]) / K  # any direction that keeps q a distribution: sum_k d_k = 0
    _sum_step(
        d,
        r"Summed over the K classes with $\sum_k d_k = 0$ (so that $q$ is a distribution; $d_k = e_k - \bar e$), the first-"
        r"order terms vanish in both: $\mathrm{KL}(p\|q) = \mathrm{KL}(q\|p) + O(\varepsilon^3) = \frac{\varepsilon^2}{2}\sum_k "
        r"\frac{d_k^2}{p_k} + O(\varepsilon^3)$ " + f"({RULE_O})",
        sum_k(-eps * centred_d + eps**2 * a_[k]) - sum_k(eps * centred_d + eps**2 * a_[k]),
        0,
    )
    _sum_step(
        d,
        r"The third-order terms do not cancel: $\mathrm{KL}(p\|q) - \mathrm{KL}(q\|p) = \sum_k\big(-\frac13 + \frac16\big)"
        r"\varepsilon^3\frac{d_k^3}{p_k^2} + O(\varepsilon^4) = -\frac{\varepsilon^3}{6}\sum_k\frac{d_k^3}{p_k^2} + O(\varepsilon^4)$ "
        f"({RULE_O})",
        sum_k(-eps**3 * b_[k] / 3) - sum_k(-eps**3 * b_[k] / 6),
        -eps**3 * sum_k(b_[k]) / 6,
    )
    a = sp.Symbol("a", positive=True)
    forward2 = a * sp.log(a / (a + eps)) + (1 - a) * sp.log((1 - a) / (1 - a - eps))
    reverse2 = (a + eps) * sp.log((a + eps) / a) + (1 - a - eps) * sp.log((1 - a - eps) / (1 - a))
    shared = forward_second.subs({dd: 1, p: a}) + forward_second.subs({dd: -1, p: 1 - a})
    d.add(
        r"Check with no stated rule, two classes, $p = (a, 1-a)$, $d = (1, -1)$: "
        r"$\mathrm{KL}(p\|q) = \frac{\varepsilon^2}{2}\big(\frac1a + \frac1{1-a}\big) + O(\varepsilon^3)$ [sympy decides the series].",
        forward2,
        shared + sp.O(eps**3),
        "~",
    )
    shared_reverse = reverse_second.subs({dd: 1, p: a}) + reverse_second.subs({dd: -1, p: 1 - a})
    d.add(
        r"and $\mathrm{KL}(q\|p) = \frac{\varepsilon^2}{2}\big(\frac1a + \frac1{1-a}\big) + O(\varepsilon^3)$, the same "
        r"[sympy decides the series].",
        reverse2,
        shared_reverse + sp.O(eps**3),
        "~",
    )
    return d


def kl_second_order() -> Derivation:
    r""":math:`\mathrm{KL}(p\|p+\varepsilon d)` and :math:`\mathrm{KL}(p+\varepsilon d\|p)` are both
    :math:`\frac{\varepsilon^2}2\sum_k d_k^2/p_k + O(\varepsilon^3)`, every K."""
    return _kl_second_order()


__all__ = [
    "beta",
    "jsd_half_bound",
    "jsd_small_beta",
    "jsd_small_beta_claim",
    "jsd_term",
    "jsd_two_point_series",
    "kl_second_order",
    "kl_second_order_claim",
    "softmax_k",
]
