r"""Chapter 1: the temperature softmax :math:`q = \sigma_T(z)`.

Derived and checked here, for a given number of classes ``K``:

* the Jacobian :math:`\partial q_i/\partial z_j = \frac1T q_i(\delta_{ij}-q_j)`,
* :math:`q \to \frac1K\mathbf 1` as :math:`T\to\infty`,
* :math:`q \to` the argmax one-hot (uniform over tied maxima) as :math:`T\to0^+`,
* :math:`\frac{dH}{dT} = \frac{1}{T^3}\operatorname{Var}_q(z) \ge 0`.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import T, kronecker, logits, softmax


def jacobian(K: int = 3) -> Derivation:
    r"""The Jacobian of :math:`\sigma_T` and two consequences (rows of a distribution, shift invariance)."""
    z = logits("z", K)
    q = softmax(z, T)
    qs = sp.symbols(f"q_1:{K + 1}", positive=True)
    J = sp.Matrix(K, K, lambda i, j: sp.diff(q[i], z[j]))
    d = Derivation(f"Jacobian of the temperature softmax (K = {K})")
    d.add(
        r"Differentiating $q_i = e^{z_i/T}/\sum_k e^{z_k/T}$ by the quotient rule gives, for every $i, j$, "
        r"$\partial q_i/\partial z_j = \frac1T q_i(\delta_{ij} - q_j)$.",
        J,
        sp.Matrix(K, K, lambda i, j: q[i] * (kronecker(i, j) - q[j]) / T),
        shown=(
            sp.Matrix(K, K, lambda i, j: sp.Symbol(rf"\frac{{\partial q_{i + 1}}}{{\partial z_{j + 1}}}")),
            sp.Matrix(K, K, lambda i, j: qs[i] * (kronecker(i, j) - qs[j]) / T),
        ),
    )
    d.add(
        r"The log-probabilities have the simpler gradient $\partial \log q_i/\partial z_j = (\delta_{ij} - q_j)/T$.",
        sp.Matrix(K, K, lambda i, j: sp.diff(sp.log(q[i]), z[j])),
        sp.Matrix(K, K, lambda i, j: (kronecker(i, j) - q[j]) / T),
        shown=(
            sp.Matrix(K, K, lambda i, j: sp.Symbol(rf"\frac{{\partial \log q_{i + 1}}}{{\partial z_{j + 1}}}")),
            sp.Matrix(K, K, lambda i, j: (kronecker(i, j) - qs[j]) / T),
        ),
    )
    d.add(
        r"Each column of the Jacobian sums to zero: the probabilities stay normalised, $\sum_i \partial q_i/\partial z_j = 0$.",
        sp.ones(1, K) * J,
        sp.zeros(1, K),
        shown=(sp.Symbol(r"{\mathbf{1}^\top J}"), sp.zeros(1, K)),
    )
    d.add(
        r"Each row sums to zero too: adding the same constant to every logit leaves $q$ unchanged, $J\mathbf 1 = 0$.",
        J * sp.ones(K, 1),
        sp.zeros(K, 1),
        shown=(sp.Symbol(r"J \mathbf{1}"), sp.zeros(K, 1)),
    )
    d.add(
        r"The Jacobian is symmetric: $J = \frac1T(\operatorname{diag}(q) - q q^\top)$.",
        J - J.T,
        sp.zeros(K, K),
        shown=(sp.Symbol(r"J - J^\top"), sp.zeros(K, K)),
    )
    return d


def high_temperature_limit(K: int = 3) -> Derivation:
    r""":math:`\lim_{T\to\infty}\sigma_T(z)_i = 1/K` for arbitrary real logits."""
    z = logits("z", K)
    q = softmax(z, T)
    d = Derivation(f"High-temperature limit of the softmax (K = {K})")
    d.add(
        r"As $T\to\infty$ every exponent $z_j/T\to 0$, so every $q_i\to 1/K$.",
        sp.Matrix([sp.Limit(qi, T, sp.oo) for qi in q]),
        sp.Matrix([sp.Rational(1, K)] * K),
    )
    return d


def zero_temperature_limit(K: int = 3) -> Derivation:
    r""":math:`\lim_{T\to0^+}\sigma_T(z)`: the argmax one-hot, or uniform over tied maxima.

    First the softmax is rewritten in terms of logit differences, which removes the
    common level of the logits; then the logits are written as a maximum minus
    positive gaps, so the limits hold for every value of the gaps.
    """
    z = logits("z", K)
    q = softmax(z, T)
    by_differences = [1 / sum(sp.exp((zj - zi) / T) for zj in z) for zi in z]
    g1, g2 = sp.symbols("g_1 g_2", positive=True)
    d = Derivation("Zero-temperature limit of the softmax")
    d.add(
        r"Dividing numerator and denominator by $e^{z_i/T}$: $q_i = 1\big/\sum_j e^{(z_j - z_i)/T}$. "
        r"As $T\to0^+$, a term with $z_j > z_i$ blows up, one with $z_j < z_i$ vanishes, and one with $z_j = z_i$ stays 1.",
        sp.Matrix(q),
        sp.Matrix(by_differences),
    )
    unique = [e.subs({z[0]: 0, z[1]: -g1, z[2]: -g1 - g2}) for e in by_differences[:3]] if K == 3 else None
    if unique is None:
        raise ValueError("zero_temperature_limit is written out for K = 3")
    d.add(
        r"A unique maximum: logits $(m, m - g_1, m - g_1 - g_2)$ with gaps $g_1, g_2 > 0$ and any $m$; "
        r"$q \to e_1$ as $T \to 0^+$.",
        sp.Matrix([sp.Limit(qi, T, 0, "+") for qi in unique]),
        sp.Matrix([1, 0, 0]),
    )
    tied = [e.subs({z[0]: 0, z[1]: 0, z[2]: -g1}) for e in by_differences]
    d.add(
        r"Two tied maxima: logits $(m, m, m - g_1)$; $q \to (\tfrac12, \tfrac12, 0)$, uniform over the ties.",
        sp.Matrix([sp.Limit(qi, T, 0, "+") for qi in tied]),
        sp.Matrix([sp.Rational(1, 2), sp.Rational(1, 2), 0]),
    )
    return d


def entropy_monotonicity(K: int = 3) -> Derivation:
    r""":math:`\frac{dH}{dT} = \frac{1}{T^3}\big(\sum_i q_i z_i^2 - (\sum_i q_i z_i)^2\big) = \frac{1}{T^3}\sum_i q_i (z_i - \bar z_q)^2 \ge 0`."""
    z = logits("z", K)
    q = softmax(z, T)
    H = -sum(qi * sp.log(qi) for qi in q)
    log_partition = sp.log(sum(sp.exp(zi / T) for zi in z))
    mean_q = sum(qi * zi for qi, zi in zip(q, z))
    second_moment = sum(qi * zi**2 for qi, zi in zip(q, z))
    variance = sum(qi * (zi - mean_q) ** 2 for qi, zi in zip(q, z))

    # The sign step uses free positive weights w_i and a free centre m: non-negativity
    # must not depend on any relation among them.
    w = sp.symbols(f"w_1:{K + 1}", positive=True)
    m = sp.Symbol("m", real=True)

    d = Derivation(f"Entropy of the temperature softmax is non-decreasing in T (K = {K})")
    d.add(
        r"Since $\log q_i = z_i/T - \log Z$ with $Z = \sum_j e^{z_j/T}$, the entropy is "
        r"$H = \log Z - \frac1T\sum_i q_i z_i$.",
        H,
        log_partition - mean_q / T,
        shown=(sp.Symbol("H"), sp.Symbol(r"{\log Z}") - sp.Symbol(r"{\sum_i q_i z_i}") / T),
    )
    d.add(
        r"Differentiating in $T$: $\frac{dH}{dT} = \frac{1}{T^3}\Big(\sum_i q_i z_i^2 - \big(\sum_i q_i z_i\big)^2\Big)$.",
        sp.Derivative(H, T),
        (second_moment - mean_q**2) / T**3,
        shown=(sp.Symbol(r"{\frac{dH}{dT}}"), sp.Symbol(r"{\frac{1}{T^3}\Big(\sum_i q_i z_i^2 - \big(\sum_i q_i z_i\big)^2\Big)}")),
    )
    d.add(
        r"Because $\sum_i q_i = 1$, the bracket is the variance of the logits under $q$: "
        r"$\sum_i q_i (z_i - \bar z_q)^2$ with $\bar z_q = \sum_i q_i z_i$.",
        second_moment - mean_q**2,
        variance,
        shown=(sp.Symbol(r"{\sum_i q_i z_i^2 - \big(\sum_i q_i z_i\big)^2}"), sp.Symbol(r"{\sum_i q_i (z_i - \bar z_q)^2}")),
    )
    d.add(
        r"A weighted sum of squares with positive weights is never negative, whatever the centre $m$: "
        r"$\sum_i w_i (z_i - m)^2 \ge 0$. Hence $dH/dT \ge 0$, with equality only when all logits are equal.",
        sum(wi * (zi - m) ** 2 for wi, zi in zip(w, z)),
        0,
        ">=",
    )
    d.add(
        r"At the ends: $H \to \log K$ as $T \to \infty$.",
        sp.Limit(H, T, sp.oo),
        sp.log(K),
        shown=(sp.Limit(sp.Symbol("H"), T, sp.oo), sp.log(K)),
    )
    return d
