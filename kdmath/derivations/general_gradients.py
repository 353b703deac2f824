r"""The chapter 1 and 2 gradients, derived for a symbolic number of classes :math:`K`.

:mod:`~kdmath.derivations.temperature` and :mod:`~kdmath.derivations.soft_gradient` write the
logits as ``K`` concrete symbols, so ``verify_for`` checks them for ``K = 2, 3, 4``: examples, not
proofs. Here ``K`` is a sympy ``Symbol`` (integer, positive), the logits are an ``IndexedBase``
:math:`z_k`, and every sum is ``Sum(..., (k, 1, K))``. What is proved, for every :math:`K`:

* :func:`jacobian`: :math:`\partial q_i/\partial z_j = \frac1T q_i(\delta_{ij} - q_j)` for
  :math:`q = \sigma_T(z)`, :math:`\partial\log q_i/\partial z_j = \frac1T(\delta_{ij}-q_j)`, the
  Jacobian is symmetric (with the stated rule that :math:`\delta_{ij} = 0` for :math:`i \ne j`), and its columns and rows sum to zero;
* :func:`soft_target_gradient`: :math:`\partial/\partial z_{s,j}` of
  :math:`-\sum_i p_i\log q_i` and of :math:`\sum_i p_i\log(p_i/q_i)` are both
  :math:`\frac1T(q_j - p_j)`; :func:`combined_gradient`: the gradient of
  :math:`(1-\alpha)\,\mathrm{CE}(y,\sigma_1(z_s)) + \alpha T^2\,\mathrm{KL}(p\|q)` is
  :math:`(1-\alpha)(\sigma_1(z_s)_j - \delta_{jy}) + \alpha T(q_j - p_j)` (the convention of
  :func:`~kdmath.derivations.soft_gradient.combined_gradient`);
* :func:`entropy_derivative`: :math:`\frac{dH}{dT} = \frac1{T^3}\sum_i q_i(z_i-\bar z_q)^2 \ge 0`
  with :math:`\bar z_q = \sum_i q_i z_i`.

How. Every step is an identity (or inequality) that sympy decides with ``K`` symbolic; none is taken
on trust. sympy differentiates a ``Sum`` over ``z[k]`` with respect to ``z[j]`` term by term (the
derivative of a finite sum is the sum of the derivatives), producing ``KroneckerDelta(j, k)``, and
evaluates :math:`\sum_{k=1}^K f(k)\delta_{jk}` to ``Piecewise((f(j), j <= K), (0, True))``. Two
conventions, applied by :class:`GeneralStep` and named in each step's text, turn that into a decision:

* *index range*: a free index such as ``j`` names one of the classes, ``1 <= j <= K``. sympy cannot
  hold ``j <= K`` as an assumption, so the step is checked with ``K = j + m`` for a new integer
  ``m >= 0``; every ``K >= j`` has this form, so this is the claim for every ``K``, not an example;
* *renaming a summation index*: :math:`\sum_i f(i) = \sum_k f(k)`. Before comparing, each ``Sum``'s
  bound index is renamed to a canonical one (by nesting depth), so that sympy's sum simplifier
  (which pulls factors that do not depend on the index out of a sum, i.e. linearity of the sum)
  can see that :math:`\sum_i e^{z_i/T}` and the normaliser :math:`\sum_k e^{z_k/T}` are one sum.

The entropy derivative is proved through the moments :math:`S = \sum_k e^{z_k/T}`,
:math:`M_1 = \sum_k z_k e^{z_k/T}`, :math:`M_2 = \sum_k z_k^2 e^{z_k/T}`: sympy checks the two
derivative rules :math:`dS/dT = -M_1/T^2` and :math:`dM_1/dT = -M_2/T^2` on the sums themselves,
then the chain rule with :math:`S, M_1` as undetermined functions of :math:`T` into which those rules
are substituted, then the rewriting of the moments as :math:`q`-weighted sums. (Differentiating the
entropy's sums directly also verifies, but takes sympy over ten seconds.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import sympy as sp

from ._core import Derivation, Step, is_zero
from ._symbols import K, T, alpha

i, j, k, y = sp.symbols("i j k y", integer=True, positive=True)
#: student logits z_{s,k} (written z_k in the chapter 1 derivations) and teacher logits z_{t,k}
z = sp.IndexedBase("z", real=True)
u = sp.IndexedBase("z_t", real=True)
#: the gap K - j (or K - i) in the "index range" convention
_gap = sp.Symbol("m", integer=True, nonnegative=True)


def _depth(s: sp.Sum) -> int:
    return 1 + max([0] + [_depth(t) for t in s.function.atoms(sp.Sum)])


def canonical_indices(expr: sp.Basic) -> sp.Basic:
    """``expr`` with every ``Sum``'s bound index renamed by nesting depth (``_k1`` innermost).

    Renaming a bound index does not change a sum's value; after it, equal sums are equal objects.
    """
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    args = [canonical_indices(a) for a in expr.args]
    if isinstance(expr, sp.Sum) and len(expr.limits) == 1:
        body = args[0]
        (index, low, high), = expr.limits
        new = sp.Symbol(f"_k{1 + max([0] + [_depth(t) for t in body.atoms(sp.Sum)])}", integer=True, positive=True)
        return sp.Sum(body.xreplace({index: new}), (new, low, high))
    return expr.func(*args)


@dataclass(frozen=True)
class GeneralStep(Step):
    """A :class:`Step` over a symbolic number of classes ``K``.

    ``within``: a free index that ranges over ``1..K``; the step is checked with ``K = within + m``,
    ``m`` a new integer ``>= 0`` (every ``K >= within`` has that form). Bound summation indices are
    renamed canonically before sympy compares the two sides. A step sympy cannot decide (including
    one on which sympy's sum simplifier raises) counts as failed.
    """

    within: Optional[sp.Symbol] = None

    def _prepare(self, expr: sp.Basic, expand: bool = True) -> sp.Basic:
        expr = sp.sympify(expr).doit()
        if self.within is not None:
            expr = expr.subs(K, self.within + _gap).doit()
        return canonical_indices(sp.expand(expr) if expand else expr)

    def holds(self) -> bool:
        try:
            if self.relation == "=":
                difference = self._prepare(self.lhs - self.rhs)
                if difference == 0:
                    return True
                if _refuted(difference):
                    return False
                simplified = sp.simplify(difference)
                return simplified == 0 or is_zero(canonical_indices(simplified))
            if self.relation == ">=":
                difference = self._prepare(self.lhs - self.rhs, expand=False)
                return bool(difference.is_nonnegative or sp.simplify(difference).is_nonnegative)
        except (StopIteration, RuntimeError, RecursionError, AttributeError):
            # sympy's sum simplifier fails on some shapes; undecided counts as failed
            return False
        return super().holds()


def _refuted(difference: sp.Basic) -> bool:
    """True when ``difference`` is clearly non-zero at one numerical point (a counterexample).

    Only ever used to reject a step quickly: a step is accepted only when sympy proves it.
    """
    import random

    rng = random.Random(0)
    point = {}
    for index, symbol in enumerate(sorted(difference.free_symbols - {K}, key=str)):
        if symbol.is_integer:
            point[symbol] = 1 + index % 2  # small indices, some equal, some not
        elif symbol.is_positive:
            point[symbol] = sp.Rational(rng.randint(3, 9), 4)
        elif symbol.is_nonnegative:
            point[symbol] = sp.Rational(rng.randint(1, 3), 7)
    try:
        value = difference.subs(point).subs(K, 4).doit()
        value = value.subs({e: sp.Rational(rng.randint(-8, 8), 3) for e in value.atoms(sp.Indexed)})
        number = complex(sp.N(value, 30))
    except (TypeError, ValueError, ZeroDivisionError):
        return False
    return abs(number) > 1e-12


def _add(d: Derivation, text: str, lhs, rhs, relation: str = "=", within=None, shown=None) -> Derivation:
    d.steps.append(GeneralStep(text, sp.sympify(lhs), sp.sympify(rhs), relation, shown, within))
    return d


def normaliser(logits=z, temperature=T) -> sp.Sum:
    r""":math:`S = \sum_{k=1}^K e^{z_k/T}`."""
    return sp.Sum(sp.exp(logits[k] / temperature), (k, 1, K))


def softmax(index, logits=z, temperature=T) -> sp.Expr:
    r""":math:`\sigma_T(z)_{index} = e^{z_{index}/T}/\sum_k e^{z_k/T}` over symbolic ``K``."""
    return sp.exp(logits[index] / temperature) / normaliser(logits, temperature)


def log_softmax(index, logits=z, temperature=T) -> sp.Expr:
    r""":math:`z_{index}/T - \log\sum_k e^{z_k/T}`."""
    return logits[index] / temperature - sp.log(normaliser(logits, temperature))


_RANGE = "index range: checked with $K = j + m$, $m \\ge 0$ an integer, i.e. for every $K \\ge j$"
_SUMS = "sympy decides it, renaming summation indices and pulling constant factors out of sums (linearity)"


def jacobian(J=None) -> Derivation:
    r"""The Jacobian of :math:`\sigma_T` for every K, and its zero row and column sums.

    ``J``: the closed form to check, a function of ``(i, j)`` (default
    :math:`\frac1T q_i(\delta_{ij}-q_j)`); the tests pass wrong ones, which must fail.
    """
    q = softmax
    closed = J or (lambda a, b: q(a) * (sp.KroneckerDelta(a, b) - q(b)) / T)
    d = Derivation("Jacobian of the temperature softmax, for every K")
    _add(
        d,
        r"Differentiating $q_i = e^{z_i/T}/S$, $S = \sum_{k=1}^K e^{z_k/T}$, sympy differentiates $S$ term by term "
        r"($\partial S/\partial z_j = \sum_k \delta_{jk} e^{z_k/T}/T = e^{z_j/T}/T$) and finds "
        rf"$\partial q_i/\partial z_j = \frac1T q_i(\delta_{{ij}} - q_j)$. Checked by sympy ({_RANGE}).",
        sp.Derivative(q(i), z[j]),
        closed(i, j),
        within=j,
    )
    _add(
        d,
        r"The log-probabilities: $\partial \log q_i/\partial z_j = (\delta_{ij} - q_j)/T$. "
        rf"Checked by sympy ({_RANGE}).",
        sp.Derivative(log_softmax(i), z[j]),
        closed(i, j) / q(i),
        within=j,
    )
    _add(
        d,
        r"Symmetry, part 1: $J_{ij} - J_{ji} = \frac1T(q_i - q_j)\delta_{ij}$. Checked by sympy.",
        closed(i, j) - closed(j, i),
        (q(i) - q(j)) * sp.KroneckerDelta(i, j) / T,
    )
    _add(
        d,
        r"Symmetry, part 2: $\delta_{ij} = 0$ unless $i = j$ (stated rule: definition of $\delta$), and at $i = j$ "
        r"the factor $q_i - q_j$ vanishes (checked by sympy), so $J = J^\top = \frac1T(\operatorname{diag}(q) - qq^\top)$.",
        (q(i) - q(j)).subs(j, i),
        0,
    )
    _add(
        d,
        r"Each column sums to zero, $\sum_{i=1}^K \partial q_i/\partial z_j = 0$: the sum over $i$ of the "
        rf"$\delta_{{ij}}$ term is $q_j$, the rest is $-q_j\sum_i q_i = -q_j$. {_SUMS}; {_RANGE}.",
        sp.Sum(closed(i, j), (i, 1, K)),
        0,
        within=j,
    )
    _add(
        d,
        r"Each row sums to zero, $\sum_{j=1}^K \partial q_i/\partial z_j = 0$ (shifting every logit by the same "
        rf"constant leaves $q$ unchanged). {_SUMS}; index range: checked with $K = i + m$, $m \ge 0$.",
        sp.Sum(closed(i, j), (j, 1, K)),
        0,
        within=i,
    )
    return d


def soft_target_gradient(gradient=None) -> Derivation:
    r""":math:`\partial C/\partial z_{s,j} = \frac1T(q_j - p_j)` for the CE and KL forms, for every K.

    ``gradient``: the closed form to check, a function of ``j`` (default :math:`(q_j - p_j)/T`).
    """
    q = lambda a: softmax(a, z)
    p = lambda a: softmax(a, u)
    closed = gradient or (lambda b: (q(b) - p(b)) / T)
    C_ce = -sp.Sum(p(i) * log_softmax(i, z), (i, 1, K))
    C_kl = sp.Sum(p(i) * (log_softmax(i, u) - log_softmax(i, z)), (i, 1, K))
    d = Derivation("Gradient of the soft-target loss, for every K")
    _add(
        d,
        r"Cross-entropy form, $C_{\mathrm{CE}} = -\sum_{i=1}^K p_i \log q_i$ with $\log q_i = z_{s,i}/T - \log S$: "
        r"$\partial C_{\mathrm{CE}}/\partial z_{s,j} = -\frac1T\sum_i p_i(\delta_{ij} - q_j) = \frac1T(q_j - p_j)$, "
        rf"using $\sum_i p_i = 1$. {_SUMS}; {_RANGE}.",
        sp.Derivative(C_ce, z[j]),
        closed(j),
        within=j,
    )
    _add(
        d,
        r"KL form, $C_{\mathrm{KL}} = \sum_{i=1}^K p_i(\log p_i - \log q_i)$: the same gradient, since the "
        rf"teacher's terms do not depend on $z_s$. {_SUMS}; {_RANGE}.",
        sp.Derivative(C_kl, z[j]),
        closed(j),
        within=j,
    )
    return d


def combined_gradient(gradient=None) -> Derivation:
    r"""Gradient of :math:`L = (1-\alpha)\mathrm{CE}(y,\sigma_1(z_s)) + \alpha T^2\mathrm{KL}(p\|q)`, every K.

    ``y`` is a symbolic label. ``gradient``: the closed form to check, a function of ``j``
    (default :math:`(1-\alpha)(\sigma_1(z_s)_j - \delta_{jy}) + \alpha T(q_j - p_j)`).
    """
    q = lambda a: softmax(a, z)
    p = lambda a: softmax(a, u)
    q1 = lambda a: softmax(a, z, 1)
    closed = gradient or (lambda b: (1 - alpha) * (q1(b) - sp.KroneckerDelta(b, y)) + alpha * T * (q(b) - p(b)))
    hard = -log_softmax(y, z, 1)
    soft = sp.Sum(p(i) * (log_softmax(i, u) - log_softmax(i, z)), (i, 1, K))
    loss = (1 - alpha) * hard + alpha * T**2 * soft
    d = Derivation("Gradient of the combined distillation loss, for every K")
    _add(
        d,
        r"With $L = (1-\alpha)\,(-\log\sigma_1(z_s)_y) + \alpha T^2 \sum_i p_i\log(p_i/q_i)$: "
        r"$\partial L/\partial z_{s,j} = (1-\alpha)(\sigma_1(z_s)_j - \delta_{jy}) + \alpha T (q_j - p_j)$; the "
        rf"$T^2$ factor times the soft gradient $\frac1T(q_j-p_j)$ gives $T(q_j-p_j)$. {_SUMS}; {_RANGE}.",
        sp.Derivative(loss, z[j]),
        closed(j),
        within=j,
    )
    return d


def entropy_derivative(derivative=None) -> Derivation:
    r""":math:`\frac{dH}{dT} = \frac1{T^3}\sum_i q_i(z_i-\bar z_q)^2 \ge 0` for every K.

    ``derivative``: the closed form of :math:`dH/dT` to check, a function of ``(M2/S, M1/S)``, the
    :math:`q`-weighted second and first moments (default :math:`(m_2 - m_1^2)/T^3`).
    """
    q = softmax
    S = normaliser()
    M1 = sp.Sum(z[k] * sp.exp(z[k] / T), (k, 1, K))
    M2 = sp.Sum(z[k] ** 2 * sp.exp(z[k] / T), (k, 1, K))
    mean_q = sp.Sum(q(i) * z[i], (i, 1, K))
    second_q = sp.Sum(q(i) * z[i] ** 2, (i, 1, K))
    closed = derivative or (lambda m2, m1: (m2 - m1**2) / T**3)
    H = -sp.Sum(q(i) * log_softmax(i), (i, 1, K))
    Sf, M1f, M2f = (sp.Function(name)(T) for name in ("S", "M_1", "M_2"))
    rules = {sp.Derivative(Sf, T): -M1f / T**2, sp.Derivative(M1f, T): -M2f / T**2}
    chain = sp.diff(sp.log(Sf) - M1f / (T * Sf), T).subs(rules)

    d = Derivation("Entropy of the temperature softmax is non-decreasing in T, for every K")
    _add(
        d,
        r"With $\log q_i = z_i/T - \log S$ and $\sum_i q_i = 1$: $H = -\sum_i q_i\log q_i = \log S - \frac1T\bar z_q$, "
        rf"$\bar z_q = \sum_i q_i z_i$. {_SUMS}.",
        H,
        sp.log(S) - mean_q / T,
    )
    _add(
        d,
        r"And $\bar z_q = M_1/S$ with $M_1 = \sum_k z_k e^{z_k/T}$ (pull $1/S$ out of the sum), so $H = \log S - M_1/(TS)$. "
        rf"{_SUMS}.",
        mean_q,
        M1 / S,
    )
    _add(
        d,
        r"Derivative rule for $S$, checked by sympy on the sum itself (term by term): $dS/dT = -M_1/T^2$.",
        sp.Derivative(S, T),
        -M1 / T**2,
    )
    _add(
        d,
        r"Derivative rule for $M_1$, checked the same way: $dM_1/dT = -M_2/T^2$ with $M_2 = \sum_k z_k^2 e^{z_k/T}$.",
        sp.Derivative(M1, T),
        -M2 / T**2,
    )
    _add(
        d,
        r"Chain rule, with $S(T), M_1(T)$ undetermined functions whose derivatives are replaced by the two rules "
        r"above: $\frac{d}{dT}\big(\log S - \frac{M_1}{TS}\big) = \frac1{T^3}\big(\frac{M_2}{S} - \frac{M_1^2}{S^2}\big)$. "
        r"Checked by sympy.",
        chain,
        closed(M2f / Sf, M1f / Sf),
    )
    _add(
        d,
        rf"The second moment: $M_2/S = \sum_i q_i z_i^2$. {_SUMS}.",
        M2 / S,
        second_q,
    )
    _add(
        d,
        r"The bracket is the variance of the logits under $q$: "
        r"$\sum_i q_i z_i^2 - \bar z_q^2 = \sum_i q_i (z_i - \bar z_q)^2$ (expand the square, use $\sum_i q_i = 1$). "
        rf"{_SUMS}.",
        second_q - mean_q**2,
        sp.Sum(q(i) * (z[i] - mean_q) ** 2, (i, 1, K)),
    )
    w = sp.IndexedBase("w", positive=True)
    c = sp.Symbol("c", real=True)
    _add(
        d,
        r"A sum of $K$ terms $w_k(z_k - c)^2$ with positive weights is never negative, whatever $K$ and the centre $c$: "
        r"sympy decides the sign from the assumptions ($w_k > 0$, $z_k, c$ real). With $w = q$, $c = \bar z_q$: $dH/dT \ge 0$.",
        sp.Sum(w[k] * (z[k] - c) ** 2, (k, 1, K)),
        0,
        ">=",
    )
    return d
