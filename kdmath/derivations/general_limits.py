r"""The temperature limits of chapters 1, 3 and 4 proved for every number of classes :math:`K`.

The other derivation modules write the logits out as :math:`K` concrete symbols and are checked for
:math:`K = 2, 3, 4`: an identity at :math:`K = 3` is an example, not a proof. Here :math:`K` is a sympy
``Symbol`` (integer, positive), the logits are an ``IndexedBase`` :math:`z_1, \dots, z_K`, and every sum
is a sympy ``Sum`` with upper limit :math:`K`. Means and moments are *defined* as such sums,

.. math::
   \bar z = \frac1K\sum_k z_k,\qquad x_k = z_k - \bar z,\qquad m_2 = \frac1K\sum_k x_k^2,

so no relation among them is assumed. What is proved, with :math:`\varepsilon = 1/T`:

1. :func:`softmax_expansion` — for every :math:`K` and every :math:`i`,

   .. math:: q_i = \frac1K + \frac{\varepsilon}{K}(z_i-\bar z)
                   + \frac{\varepsilon^2}{2K}\big((z_i-\bar z)^2 - m_2\big) + O(\varepsilon^3).

2. :func:`soft_loss_limit` — for every :math:`K`, with :math:`p = \sigma_T(z_t)`, :math:`q = \sigma_T(z_s)`,

   .. math:: T^2\,\mathrm{KL}(p\|q) = \frac1{2K}\sum_i\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big)^2 + O(1/T),

   and at :math:`K = 2` (by substitution) :math:`\frac18\big((z_{s,1}-z_{s,2})-(z_{t,1}-z_{t,2})\big)^2`.

3. :func:`zero_temperature_limit` — for every :math:`K` and every number :math:`m` of tied maxima
   (classes :math:`1..m` after relabelling, logits :math:`M`; the others :math:`M - g_k` with :math:`g_k > 0`),
   :math:`\sigma_T(z)_i \to [i \le m]/m` as :math:`T \to 0^+`.

4. :func:`uniform_limit` — for every :math:`K`, :math:`\sigma_T(z)_i \to 1/K` as :math:`T \to \infty`.

5. :func:`soft_gradient_expansion` — for every :math:`K`, from 1,
   :math:`\frac1T(q_i - p_i) = \frac{\varepsilon^2}{K}\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big) + O(\varepsilon^3)`,
   so :math:`T(q_i - p_i)` tends to the centred gap over :math:`K`.

6. :func:`zero_temperature_soft_term` — for every :math:`K`, with :math:`\bar p` the teacher's
   zero-temperature targets (part 3), :math:`|T\,\mathrm{KL}(p\|q) - (\max_j z_{s,j} - \sum_c \bar p_c z_{s,c})|
   \le T\log K + Kre^{-g/T} \to 0`; and :func:`zero_temperature_gradients`: :math:`T(q_i - p_i) \to 0`,
   :math:`T\cdot\frac1T(q_i - p_i) \to \bar q_i - \bar p_i`. Their inequalities rest on stated rules
   (the squeeze of a sum of positive terms, Gibbs' inequality, the weights' bound), named in the steps.

How. Each step is a :class:`~kdmath.derivations.Step` that sympy decides with :math:`K` (and :math:`m`)
symbolic:

* identities between finite sums: sympy's ``expand`` splits a ``Sum`` by linearity and pulls factors
  that do not depend on the index out of it, ``Sum.doit`` evaluates a sum of a constant
  (:math:`\sum_{k=1}^K c = Kc`); the step then holds when the difference simplifies to 0;
* series in :math:`\varepsilon` for *one generic term* (an index-free symbol :math:`x` standing for any
  :math:`x_i`) and for an abstract normaliser :math:`K + \tfrac{\varepsilon^2}{2}Km_2 + O(\varepsilon^3)`:
  ``sympy.series`` with :math:`K` symbolic;
* limits of one generic term (``sympy.limit``).

sympy cannot expand :math:`\sum_{k=1}^K e^{\varepsilon x_k}` in :math:`\varepsilon` or take the limit of such a
sum when :math:`K` is a symbol. Those moves rest on two rules of analysis, stated in the text of the
step that uses them and never checked by the machine:

* **finite sum of O-terms**: for a fixed finite :math:`K`, a sum of :math:`K` terms, each
  :math:`O(\varepsilon^n)`, is :math:`O(\varepsilon^n)`;
* **limit of a finite sum / product / quotient**: the limit of a finite sum (product, quotient with a
  non-zero limit in the denominator) is the sum (product, quotient) of the limits.

Everything else in each step is decided by sympy. The builders take no :math:`K`, so
``verify_for(builder, K=None)`` checks them once, for every :math:`K`.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import K, T, eps

#: The number of tied maxima in the zero-temperature limit, 1 <= m <= K.
m = sp.Symbol("m", integer=True, positive=True)
#: Summation index (every sum uses it; a nested sum binds its own copy).
k = sp.Symbol("k", integer=True, positive=True)
#: A fixed class index.
i = sp.Symbol("i", integer=True, positive=True)

z = sp.IndexedBase("z", real=True)
z_s = sp.IndexedBase("z_s", real=True)
z_t = sp.IndexedBase("z_t", real=True)
#: Gaps below the maximum, positive off the set of tied maxima.
g = sp.IndexedBase("g", positive=True)

#: Index-free stand-ins for one generic term: a logit, its mean, the second central moment.
z_i = sp.Symbol("z_i", real=True)
zbar = sp.Symbol(r"\bar z", real=True)
m2 = sp.Symbol("m_2", nonnegative=True)

RULE_O = "stated rule, not checked: a sum of K terms, each O(ε^n), is O(ε^n) for every fixed finite K"
RULE_LIM = "stated rule, not checked: the limit of a finite sum, product or quotient (non-zero denominator) is that of the limits"


def sum_k(expr, lower=1, upper=K):
    """:math:`\\sum_{k=lower}^{upper}` expr, unevaluated."""
    return sp.Sum(expr, (k, lower, upper))


def mean(v):
    r""":math:`\frac1K\sum_k v_k` for an ``IndexedBase`` ``v``."""
    return sum_k(v[k]) / K


def centred(v, index):
    """:math:`v_{index} - \\bar v`."""
    return v[index] - mean(v)


def moment2(v):
    r""":math:`\frac1K\sum_k (v_k - \bar v)^2`."""
    return sum_k(centred(v, k) ** 2) / K


def cross_moment(u, v):
    r""":math:`\frac1K\sum_k (u_k - \bar u)(v_k - \bar v)`."""
    return sum_k(centred(u, k) * centred(v, k)) / K


def _lin(expr):
    """sympy's own linear expansion of finite sums (splits a Sum of an Add, pulls index-free factors out)."""
    return sp.expand(expr)


def _sum_step(d: Derivation, text: str, lhs, rhs) -> None:
    """An identity between finite sums with symbolic bounds, decided by sympy after it expands both sides."""
    d.add(text + " [sympy decides it: Sum split by linearity, sum of a constant evaluated]", _lin(lhs), _lin(rhs), shown=(lhs, rhs))


# --------------------------------------------------------------------------------------------------
# 1. Second-order high-temperature expansion of the softmax
# --------------------------------------------------------------------------------------------------


def second_order_softmax(zi=z_i, mean_=zbar, moment=m2, n=K):
    r"""The claimed expansion :math:`\frac1K + \frac{\varepsilon}{K}x + \frac{\varepsilon^2}{2K}(x^2 - m_2) + O(\varepsilon^3)`."""
    x = zi - mean_
    return 1 / n + eps * x / n + eps**2 * (x**2 - moment) / (2 * n) + sp.O(eps**3)


def _softmax_expansion(claim=None) -> Derivation:
    claim = second_order_softmax() if claim is None else claim
    d = Derivation("Second-order high-temperature expansion of the softmax, for every K")
    S = sum_k(sp.exp(eps * z[k]))
    S_centred = sum_k(sp.exp(eps * centred(z, k)))
    d.add(
        r"Shift invariance: dividing numerator and denominator by $e^{\varepsilon\bar z}$, "
        r"$q_i = e^{\varepsilon z_i}/\sum_k e^{\varepsilon z_k} = e^{\varepsilon x_i}/\sum_k e^{\varepsilon x_k}$ with "
        r"$x_k = z_k - \bar z$ [sympy decides it with K symbolic: the factor $e^{-\varepsilon\bar z}$ leaves the Sum].",
        sp.exp(eps * z[i]) / S,
        sp.exp(eps * centred(z, i)) / S_centred,
    )
    x = sp.Symbol("x", real=True)
    d.add(
        r"One generic term: $e^{\varepsilon x} = 1 + \varepsilon x + \frac{\varepsilon^2}{2}x^2 + O(\varepsilon^3)$ "
        r"for every real $x$ [sympy decides the series].",
        sp.exp(eps * x),
        1 + eps * x + eps**2 * x**2 / 2 + sp.O(eps**3),
        "~",
    )
    _sum_step(
        d,
        r"Summing the K polynomial parts: $\sum_k\big(1 + \varepsilon x_k + \frac{\varepsilon^2}{2}x_k^2\big) "
        r"= K + \frac{\varepsilon^2}{2}Km_2$, because $\sum_k x_k = 0$ and $\sum_k x_k^2 = Km_2$ by the definitions of "
        r"$\bar z$ and $m_2$; with the K remainders, $\sum_k e^{\varepsilon x_k} = K + \frac{\varepsilon^2}{2}Km_2 + O(\varepsilon^3)$ "
        f"({RULE_O}).",
        sum_k(1 + eps * centred(z, k) + eps**2 * centred(z, k) ** 2 / 2),
        K + eps**2 * K * moment2(z) / 2,
    )
    normaliser = K + eps**2 * K * m2 / 2 + sp.O(eps**3)
    d.add(
        r"Dividing the generic numerator $e^{\varepsilon(z_i - \bar z)}$ by that normaliser, with $K$, $z_i$, $\bar z$, "
        r"$m_2$ symbols: $q_i = \frac1K + \frac{\varepsilon}{K}(z_i - \bar z) + \frac{\varepsilon^2}{2K}\big((z_i-\bar z)^2 - m_2\big) "
        r"+ O(\varepsilon^3)$ [sympy decides the series for every K].",
        sp.exp(eps * (z_i - zbar)) / normaliser,
        claim,
        "~",
    )
    return d


def softmax_expansion() -> Derivation:
    r""":math:`q_i = \frac1K + \frac{\varepsilon}{K}(z_i-\bar z) + \frac{\varepsilon^2}{2K}((z_i-\bar z)^2 - m_2) + O(\varepsilon^3)`, every K."""
    return _softmax_expansion()


# --------------------------------------------------------------------------------------------------
# 2. The T^2-scaled KL at high temperature
# --------------------------------------------------------------------------------------------------


def kl_limit_formula(student=z_s, teacher=z_t, n=K, constant=None):
    r"""The claimed limit :math:`\frac1{2K}\sum_k\big((z_{s,k}-\bar z_s)-(z_{t,k}-\bar z_t)\big)^2` (``n`` classes)."""
    constant = 1 / (2 * n) if constant is None else constant
    bar = lambda v: sp.Sum(v[k], (k, 1, n)) / n  # noqa: E731
    return constant * sp.Sum(((student[k] - bar(student)) - (teacher[k] - bar(teacher))) ** 2, (k, 1, n))


def _soft_loss_limit(claim=None) -> Derivation:
    claim = kl_limit_formula() if claim is None else claim
    d = Derivation("High-temperature limit of the T^2-scaled KL, for every K")
    x, y = sp.symbols("x y", real=True)  # generic centred teacher / student logits
    S_t, S_s = sp.symbols("S_t S_s", positive=True)
    m_t, m_s = sp.symbols("m_t m_s", nonnegative=True)
    c = sp.Symbol("c", real=True)
    d.add(
        r"Per class, with $p_i = e^{\varepsilon x_i}/S_t$, $q_i = e^{\varepsilon y_i}/S_s$ (shift invariance, part 1; "
        r"$x, y$ the centred teacher and student logits, $S_t, S_s > 0$ their normalisers): "
        r"$\log(p_i/q_i) = \varepsilon(x_i - y_i) + \log S_s - \log S_t$ [sympy decides it].",
        sp.log((sp.exp(eps * x) / S_t) / (sp.exp(eps * y) / S_s)),
        eps * (x - y) + sp.log(S_s) - sp.log(S_t),
    )
    _sum_step(
        d,
        r"The teacher's probabilities sum to one: $\sum_k e^{\varepsilon x_k}\big/\sum_k e^{\varepsilon x_k} = 1$",
        sum_k(sp.exp(eps * centred(z_t, k)) / sum_k(sp.exp(eps * centred(z_t, k)))),
        1,
    )
    p = sp.IndexedBase("p", real=True)
    a = sp.IndexedBase("a", real=True)
    L = sp.Symbol("L", real=True)
    _sum_step(
        d,
        r"Linearity: $\sum_k p_k(a_k + L) = \sum_k p_k a_k + L\sum_k p_k$, so with the previous step "
        r"$\mathrm{KL}(p\|q) = \varepsilon\sum_k p_k(x_k - y_k) + \log S_s - \log S_t$",
        sum_k(p[k] * (a[k] + L)),
        sum_k(p[k] * a[k]) + L * sum_k(p[k]),
    )
    d.add(
        r"One generic class, with $p_i = \frac1K + \frac{\varepsilon}{K}x_i + O(\varepsilon^2)$ from part 1: "
        r"$\varepsilon p_i(x_i - y_i) = \frac{\varepsilon}{K}(x_i - y_i) + \frac{\varepsilon^2}{K}x_i(x_i - y_i) + O(\varepsilon^3)$ "
        r"[sympy decides the series for every K].",
        eps * (1 / K + eps * x / K + sp.O(eps**2)) * (x - y),
        eps * (x - y) / K + eps**2 * x * (x - y) / K + sp.O(eps**3),
        "~",
    )
    xk, yk = centred(z_t, k), centred(z_s, k)
    _sum_step(
        d,
        r"Summing over the K classes: $\sum_k\big[\frac{\varepsilon}{K}(x_k - y_k) + \frac{\varepsilon^2}{K}x_k(x_k - y_k)\big] "
        r"= \varepsilon^2(m_t - c)$ with $m_t = \frac1K\sum_k x_k^2$, $c = \frac1K\sum_k x_k y_k$, since centred logits sum to 0; "
        f"the K remainders add up to O(ε^3) ({RULE_O})",
        sum_k(eps * (xk - yk) / K + eps**2 * xk * (xk - yk) / K),
        eps**2 * (moment2(z_t) - cross_moment(z_t, z_s)),
    )
    normaliser = lambda mm: K + eps**2 * K * mm / 2 + sp.O(eps**3)  # noqa: E731
    kl = eps**2 * (m_t - c) + sp.O(eps**3) + sp.log(normaliser(m_s)) - sp.log(normaliser(m_t))
    d.add(
        r"With the normalisers of part 1, $S = K + \frac{\varepsilon^2}{2}Km_2 + O(\varepsilon^3)$ (same rule), "
        r"$T^2\,\mathrm{KL} = \mathrm{KL}/\varepsilon^2 = \frac12(m_s - 2c + m_t) + O(\varepsilon)$ "
        r"[sympy decides the series for every K; the log K terms cancel].",
        kl / eps**2,
        (m_s - 2 * c + m_t) / 2 + sp.O(eps),
        "~",
    )
    _sum_step(
        d,
        r"The constant, written back in the logits: $\frac12(m_s - 2c + m_t) = "
        r"\frac1{2K}\sum_k\big((z_{s,k}-\bar z_s) - (z_{t,k}-\bar z_t)\big)^2$, the limit of $T^2\,\mathrm{KL}(p\|q)$ as $T\to\infty$ "
        r"(stated rule, not checked: a function $A + O(\varepsilon)$ tends to $A$ as $\varepsilon \to 0$)",
        (moment2(z_s) - 2 * cross_moment(z_t, z_s) + moment2(z_t)) / 2,
        claim,
    )
    K2 = sp.Rational(1, 8) * ((z_s[1] - z_s[2]) - (z_t[1] - z_t[2])) ** 2
    d.add(
        r"At $K = 2$ (substituting $K = 2$ and evaluating the two-term sums): "
        r"$\frac18\big((z_{s,1}-z_{s,2}) - (z_{t,1}-z_{t,2})\big)^2$ [sympy decides it].",
        claim.subs(K, 2).doit(),
        K2,
    )
    return d


def soft_loss_limit() -> Derivation:
    r""":math:`T^2\mathrm{KL}(p\|q) \to \frac1{2K}\sum_i((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t))^2` as :math:`T\to\infty`, every K."""
    return _soft_loss_limit()


# --------------------------------------------------------------------------------------------------
# 3. Zero temperature with m tied maxima
# --------------------------------------------------------------------------------------------------


def _zero_temperature_limit(tied=None) -> Derivation:
    tied = 1 / m if tied is None else tied
    M = sp.Symbol("M", real=True)
    r = sp.Symbol("r", nonnegative=True)
    gi = sp.Symbol("g_i", positive=True)
    d = Derivation("Zero-temperature limit of the softmax with m tied maxima, for every K")
    # Relabel the classes so the m tied maxima come first: a permutation of the logits permutes the softmax.
    S = sum_k(sp.exp(M / T), 1, m) + sum_k(sp.exp((M - g[k]) / T), m + 1, K)
    R = sum_k(sp.exp(-g[k] / T), m + 1, K)
    _sum_step(
        d,
        r"Relabel the classes so that the $m$ tied maxima are $1..m$ (logits $M$) and the others have logits $M - g_k$, "
        r"$g_k > 0$. The normaliser is $\sum_k e^{z_k/T} = e^{M/T}(m + R)$ with $R = \sum_{k=m+1}^K e^{-g_k/T}$ "
        r"(stated rule, not checked: relabelling the classes permutes the softmax; sympy evaluates the sum of $m$ equal terms as $m$ times the term)",
        S,
        sp.exp(M / T) * (m + R),
    )
    _sum_step(
        d,
        r"So $q_i = 1/(m + R)$ for a tied maximum $i \le m$",
        sp.exp(M / T) / S,
        1 / (m + R),
    )
    _sum_step(
        d,
        r"and $q_i = e^{-g_i/T}/(m + R)$ for $i > m$",
        sp.exp((M - g[i]) / T) / S,
        sp.exp(-g[i] / T) / (m + R),
    )
    d.add(
        r"One generic gap: $e^{-g/T} \to 0$ as $T \to 0^+$ for every $g > 0$ [sympy decides the limit].",
        sp.Limit(sp.exp(-gi / T), T, 0, "+"),
        0,
    )
    d.add(
        r"Hence $R \to 0$: the sum over $k = m+1..K$ of the limits, each 0, is 0 "
        f"[sympy evaluates the limits and the sum with K and m symbolic; swapping limit and sum: {RULE_LIM}].",
        sum_k(sp.Limit(sp.exp(-g[k] / T), T, 0, "+"), m + 1, K),
        0,
    )
    d.add(
        r"A tied maximum: $q_i = 1/(m + R) \to 1/m$, as $1/(m + r)$ is continuous at $r = 0$ for $m \ge 1$ "
        f"[sympy decides the limit in r; {RULE_LIM}].",
        sp.Limit(1 / (m + r), r, 0),
        tied,
    )
    d.add(
        r"Any other class: $q_i = e^{-g_i/T}\cdot\frac{1}{m + R} \to 0\cdot\frac1m = 0$ "
        f"[sympy decides both limits; {RULE_LIM}].",
        sp.Limit(sp.exp(-gi / T), T, 0, "+") * sp.Limit(1 / (m + r), r, 0),
        0,
    )
    _sum_step(
        d,
        r"The limit $[i \le m]/m$ is a distribution: $\sum_{k=1}^m \frac1m + \sum_{k=m+1}^K 0 = 1$",
        sum_k(tied, 1, m) + sum_k(0, m + 1, K),
        1,
    )
    return d


def zero_temperature_limit() -> Derivation:
    r""":math:`\sigma_T(z)_i \to [i \in A]/|A|` as :math:`T \to 0^+`, for every K and every number of tied maxima."""
    return _zero_temperature_limit()


# --------------------------------------------------------------------------------------------------
# 4. The uniform limit at infinite temperature
# --------------------------------------------------------------------------------------------------


def _uniform_limit(limit=None) -> Derivation:
    limit = 1 / K if limit is None else limit
    x = sp.Symbol("x", real=True)
    d = Derivation("Infinite-temperature limit of the softmax, for every K")
    d.add(
        r"With $\varepsilon = 1/T$, one generic term: $e^{\varepsilon x} \to 1$ as $\varepsilon \to 0^+$ for every real $x$ "
        r"[sympy decides the limit].",
        sp.Limit(sp.exp(eps * x), eps, 0, "+"),
        1,
    )
    d.add(
        r"The normaliser: $\sum_{k=1}^K e^{\varepsilon z_k} \to \sum_{k=1}^K 1 = K$ "
        f"[sympy evaluates the limits and the sum of a constant with K symbolic; swapping limit and sum: {RULE_LIM}].",
        sum_k(sp.Limit(sp.exp(eps * z[k]), eps, 0, "+")),
        K,
    )
    d.add(
        r"The quotient: $q_i = e^{\varepsilon z_i}\big/\sum_k e^{\varepsilon z_k} \to 1/K$, the limit of the numerator over "
        f"that of the denominator, which is $K \\ge 1$, not 0 [sympy decides the limit of each; {RULE_LIM}].",
        sp.Limit(sp.exp(eps * z[i]), eps, 0, "+") / sum_k(sp.Limit(sp.exp(eps * z[k]), eps, 0, "+")),
        limit,
    )
    return d


def uniform_limit() -> Derivation:
    r""":math:`\sigma_T(z)_i \to 1/K` as :math:`T \to \infty`, for every K."""
    return _uniform_limit()


# --------------------------------------------------------------------------------------------------
# 5. The soft-target gradient at high temperature
# --------------------------------------------------------------------------------------------------


def centred_gradient_limit(student=z_s, teacher=z_t, index=i, n=K):
    r"""The claimed limit :math:`\frac1K\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big)` of :math:`T(q_i - p_i)`."""
    return ((student[index] - mean(student)) - (teacher[index] - mean(teacher))) / n


def _soft_gradient_expansion(claim=None, scale=None) -> Derivation:
    claim = centred_gradient_limit() if claim is None else claim
    scale = 1 / eps if scale is None else scale  # T, the factor that the T^2 on the loss leaves on the gradient
    d = Derivation("High-temperature expansion of the soft-target gradient, for every K")
    m_s, m_t = sp.symbols("m_s m_t", nonnegative=True)
    q_i = second_order_softmax(z_s[i], mean(z_s), m_s)
    p_i = second_order_softmax(z_t[i], mean(z_t), m_t)
    leading = claim * eps**2
    d.add(
        r"The gradient of the soft term is $\frac1T(q_i - p_i)$ (chapter 2). With $q_i$ and $p_i$ expanded to second order "
        r"(the softmax expansion, proved for every K in chapter 3; $m_s, m_t$ the second moments of the centred logits): "
        r"$\frac1T(q_i - p_i) = \frac{\varepsilon^2}{K}\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big) + O(\varepsilon^3)$, "
        r"so the unscaled gradient is of order $1/T^2$ [sympy decides the series for every K; the means are Sums].",
        eps * (q_i - p_i),
        leading + sp.O(eps**3),
        "~",
    )
    d.add(
        r"Scaled by $T^2$ (the loss $T^2\,\mathrm{KL}$): $T(q_i - p_i) = \frac1K\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big) "
        r"+ O(\varepsilon)$, of order 1 [sympy decides the series for every K].",
        scale * (q_i - p_i),
        claim + sp.O(eps),
        "~",
    )
    _sum_step(
        d,
        r"The limit as $T \to \infty$ is that constant, whose components sum to 0 like those of $q - p$ "
        r"(stated rule, not checked: a function $A + O(\varepsilon)$ tends to $A$ as $\varepsilon \to 0$); summing over $i$",
        sp.Sum(claim.subs(i, k), (k, 1, K)),
        0,
    )
    return d


def soft_gradient_expansion() -> Derivation:
    r""":math:`T(q_i - p_i) = \frac1K((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)) + O(1/T)`, every K."""
    return _soft_gradient_expansion()


# --------------------------------------------------------------------------------------------------
# 6. The soft term and its gradients at zero temperature
# --------------------------------------------------------------------------------------------------

RULE_SQUEEZE = (r"stated rule, not checked: a sum of K positive terms lies between its largest term and K times it; "
                r"and Gibbs' inequality, $0 \le H(p) \le \log K$")
RULE_WEIGHTS = (r"stated rule, not checked: $p_k - \bar p_k \le 0$ on the tied maxima and $\ge 0$ off them, the differences "
                r"sum to 0, and every $M_s - z_{s,k}$ lies in $[0, r]$, so the sum is at most $r\sum_{k\notin A}p_k$ in size; "
                r"and $e^{-g_k/T} \le e^{-g/T}$ for $g$ the smallest gap")


def perceptron_limit(student=z_s, pbar=None):
    r"""The claimed limit :math:`\max_j z_{s,j} - \sum_c \bar p_c z_{s,c}` of :math:`T\,\mathrm{KL}(p\|q)` (``M_s`` for the max)."""
    pbar = sp.IndexedBase(r"\bar p", nonnegative=True) if pbar is None else pbar
    M_s = sp.Symbol("M_s", real=True)
    return M_s - sum_k(pbar[k] * student[k])


def _zero_temperature_soft_term(limit=None, bound=None) -> Derivation:
    M_s, ell = sp.symbols("M_s ell_s", real=True)
    S_s, a = sp.symbols("S_s a", positive=True)  # the student's normaliser; a = T log K
    r, R = sp.symbols("r R", nonnegative=True)
    t_in, s_in, t_out, s_out = sp.symbols("t s t' s'", nonnegative=True)
    n = sp.Symbol("n", integer=True, nonnegative=True)
    g_min = sp.Symbol("g", positive=True)
    zi = sp.Symbol("z_{s,i}", real=True)
    p = sp.IndexedBase("p", nonnegative=True)
    pbar = sp.IndexedBase(r"\bar p", nonnegative=True)
    limit = perceptron_limit(z_s, pbar) if limit is None else limit
    bound = T * sp.log(K) + K * r * sp.exp(-g_min / T) if bound is None else bound
    d = Derivation("Zero-temperature limit of the soft term T KL(p||q), with its bound, for every K")
    d.add(
        r"One class: with $q_i = e^{z_{s,i}/T}/S_s$ and $\ell_s = T\log S_s$, $-T\log q_i = \ell_s - z_{s,i}$ "
        r"[sympy decides it].",
        -T * sp.log(sp.exp(zi / T) / S_s),
        T * sp.log(S_s) - zi,
    )
    _sum_step(
        d,
        r"Weighted by $p_k$ and summed, with $M_s = \max_j z_{s,j}$: "
        r"$T\,\mathrm{KL}(p\|q) = T\sum_k p_k\log p_k + (\ell_s - M_s)\sum_k p_k + \sum_k p_k(M_s - z_{s,k})$, "
        r"that is $-TH(p) + (\ell_s - M_s) + \sum_k p_k(M_s - z_{s,k})$ since $\sum_k p_k = 1$",
        sum_k(p[k] * T * sp.log(p[k])) + sum_k(p[k] * (ell - z_s[k])),
        T * sum_k(p[k] * sp.log(p[k])) + (ell - M_s) * sum_k(p[k]) + sum_k(p[k] * (M_s - z_s[k])),
    )
    d.add(
        r"The student's log-normaliser: $e^{M_s/T} \le S_s \le Ke^{M_s/T}$, so $M_s \le \ell_s \le M_s + T\log K$ "
        f"[sympy decides $T\\log(Ke^{{M_s/T}}) = M_s + T\\log K$; {RULE_SQUEEZE}].",
        T * sp.log(K * sp.exp(M_s / T)),
        M_s + T * sp.log(K),
    )
    d.add(
        r"The first two terms: with $-TH(p) = -a s$ and $\ell_s - M_s = a t$, $s, t \in [0, 1]$, $a = T\log K$, "
        r"their sum is at most $a$: $a - (at - as) = a(t' + s) \ge 0$ with $t' = 1 - t$ [sympy decides the sign].",
        a * (t_out + s_in),
        0,
        ">=",
    )
    d.add(
        r"and at least $-a$: $a + (at - as) = a(t + s') \ge 0$ with $s' = 1 - s$ [sympy decides the sign].",
        a * (t_in + s_out),
        0,
        ">=",
    )
    _sum_step(
        d,
        r"The last term against its limit: $\sum_k p_k(M_s - z_{s,k}) - \sum_k\bar p_k(M_s - z_{s,k}) = "
        r"\sum_k(p_k - \bar p_k)(M_s - z_{s,k})$, at most $r\sum_{k\notin A}p_k$ in size, with $r = \max_j z_{s,j} - \min_j z_{s,j}$ "
        f"({RULE_WEIGHTS})",
        sum_k(p[k] * (M_s - z_s[k])) - sum_k(pbar[k] * (M_s - z_s[k])),
        sum_k((p[k] - pbar[k]) * (M_s - z_s[k])),
    )
    d.add(
        r"With the teacher's classes relabelled as in part 3 ($m = 1 + n$ tied maxima, $R = \sum_{k>m}e^{-g_k/T}$), "
        r"$\sum_{k\notin A}p_k = R/(m + R) \le R \le Ke^{-g/T}$: the first inequality, $R - R/(1 + n + R) \ge 0$ "
        f"[sympy decides the sign; the last inequality: {RULE_WEIGHTS}].",
        R - R / (1 + n + R),
        0,
        ">=",
    )
    _sum_step(
        d,
        r"The limit, since $\sum_k\bar p_k = 1$: $\sum_k\bar p_k(M_s - z_{s,k}) = M_s - \sum_c\bar p_c z_{s,c}$, "
        r"the perceptron loss on the teacher's zero-temperature targets",
        sum_k(pbar[k] * (M_s - z_s[k])),
        M_s * sum_k(pbar[k]) - sum_k(pbar[k] * z_s[k]),
    )
    d.add(
        r"Adding up: $\big|T\,\mathrm{KL}(p\|q) - (M_s - \sum_c\bar p_c z_{s,c})\big| \le T\log K + Kre^{-g/T}$, and that "
        r"bound tends to 0 as $T \to 0^+$ for every $K$, $r$ and $g > 0$ [sympy decides the limit with K symbolic; "
        r"the triangle inequality is a stated rule, not checked].",
        sp.Limit(bound, T, 0, "+"),
        0,
    )
    d.add(
        r"So $T\,\mathrm{KL}(p\|q) \to M_s - \sum_c\bar p_c z_{s,c}$ when $\sum_c \bar p_c = 1$ [sympy decides the "
        r"identity of the limit with the claim].",
        M_s * sum_k(pbar[k]) - sum_k(pbar[k] * z_s[k]),
        limit + M_s * (sum_k(pbar[k]) - 1),
    )
    return d


def zero_temperature_soft_term() -> Derivation:
    r""":math:`T\,\mathrm{KL}(p\|q) \to \max_j z_{s,j} - \sum_c\bar p_c z_{s,c}` as :math:`T \to 0^+`, with its bound, every K."""
    return _zero_temperature_soft_term()


def _zero_temperature_gradients(scaled_limit=None, unscaled_limit=None) -> Derivation:
    scaled_limit = 0 if scaled_limit is None else scaled_limit
    qbar, pbar = sp.Symbol(r"\bar q_i", nonnegative=True), sp.Symbol(r"\bar p_i", nonnegative=True)
    x = sp.Symbol("x", real=True)
    unscaled_limit = qbar - pbar if unscaled_limit is None else unscaled_limit
    d = Derivation("Zero-temperature limits of the soft term's gradients, for every K")
    d.add(
        r"By part 3, for every K, $q_i \to \bar q_i$ and $p_i \to \bar p_i$ as $T \to 0^+$ (the zero-temperature targets "
        r"of the student and the teacher). The $T^2$-scaled gradient $T(q_i - p_i)$ tends to $0\cdot(\bar q_i - \bar p_i) = 0$ "
        f"[sympy decides the limit of $T$; {RULE_LIM}].",
        sp.Limit(T, T, 0, "+") * (qbar - pbar),
        scaled_limit,
    )
    d.add(
        r"The unscaled gradient $\frac1T(q_i - p_i)$, multiplied by $T$, is $q_i - p_i$ [sympy decides it] ...",
        T * (x / T),
        x,
    )
    d.add(
        r"... which tends to $\bar q_i - \bar p_i$, the perceptron update on the teacher's argmax "
        f"[{RULE_LIM}; sympy checks the difference of the limits].",
        qbar - pbar,
        unscaled_limit,
    )
    qb, pb = sp.IndexedBase(r"\bar q", nonnegative=True), sp.IndexedBase(r"\bar p", nonnegative=True)
    _sum_step(
        d,
        r"Over the K classes the update $\bar q - \bar p$ sums to $\sum_k\bar q_k - \sum_k\bar p_k = 1 - 1 = 0$: it moves "
        r"no probability in total",
        sum_k(qb[k] - pb[k]),
        sum_k(qb[k]) - sum_k(pb[k]),
    )
    return d


def zero_temperature_gradients() -> Derivation:
    r""":math:`T(q_i - p_i) \to 0` and :math:`T\cdot\frac1T(q_i - p_i) \to \bar q_i - \bar p_i` as :math:`T \to 0^+`, every K."""
    return _zero_temperature_gradients()
