r"""Chapter 2: the gradient of the soft-target term with respect to the student logits.

With :math:`p = \sigma_T(z_t)` and :math:`q = \sigma_T(z_s)`:

* :math:`C_{\mathrm{CE}} = -\sum_i p_i \log q_i` and :math:`C_{\mathrm{KL}} = \sum_i p_i\log(p_i/q_i)`
  differ by the teacher's entropy :math:`H(p)`, which does not depend on :math:`z_s`;
* both have :math:`\partial C/\partial z_{s,i} = \frac1T(q_i - p_i)`;
* with the :math:`T^2` factor the gradient is :math:`T(q_i - p_i)`;
* at fixed logits, :math:`\frac1T(q_i-p_i) = \Theta(1/T^2)` while :math:`T(q_i-p_i) = \Theta(1)`.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import T, alpha, kronecker, log_softmax, mean, softmax, student_logits, teacher_logits


def soft_target_gradient(K: int = 3) -> Derivation:
    zs, zt = student_logits(K), teacher_logits(K)
    q, p = softmax(zs, T), softmax(zt, T)
    log_q, log_p = log_softmax(zs, T), log_softmax(zt, T)
    ps = sp.symbols(f"p_1:{K + 1}", positive=True)
    qs = sp.symbols(f"q_1:{K + 1}", positive=True)
    C_ce = -sum(pi * lqi for pi, lqi in zip(p, log_q))
    C_kl = sum(pi * (lpi - lqi) for pi, lpi, lqi in zip(p, log_p, log_q))
    H_p = -sum(pi * lpi for pi, lpi in zip(p, log_p))
    grad_shown = sp.Matrix(K, 1, lambda i, _: (qs[i] - ps[i]) / T)
    closed = sp.Matrix(K, 1, lambda i, _: (q[i] - p[i]) / T)

    d = Derivation(f"Gradient of the soft-target loss (K = {K})")
    d.add(
        r"The two forms of the soft term differ by the teacher's entropy: $C_{\mathrm{CE}} - C_{\mathrm{KL}} = H(p)$.",
        C_ce - C_kl,
        H_p,
        shown=(sp.Symbol(r"C_{\mathrm{CE}} - C_{\mathrm{KL}}"), -sum(pi * sp.log(pi) for pi in ps)),
    )
    d.add(
        r"Cross-entropy form: $\partial C_{\mathrm{CE}}/\partial z_{s,i} = \frac1T(q_i - p_i)$ for every $i$.",
        sp.Matrix(K, 1, lambda i, _: sp.diff(C_ce, zs[i])),
        closed,
        shown=(sp.Matrix(K, 1, lambda i, _: sp.Symbol(rf"\frac{{\partial C_{{\mathrm{{CE}}}}}}{{\partial z_{{s,{i + 1}}}}}")), grad_shown),
    )
    d.add(
        r"KL form: the same gradient, since $H(p)$ does not depend on $z_s$.",
        sp.Matrix(K, 1, lambda i, _: sp.diff(C_kl, zs[i])),
        closed,
        shown=(sp.Matrix(K, 1, lambda i, _: sp.Symbol(rf"\frac{{\partial C_{{\mathrm{{KL}}}}}}{{\partial z_{{s,{i + 1}}}}}")), grad_shown),
    )
    d.add(
        r"With the $T^2$ factor: $\partial (T^2 C_{\mathrm{KL}})/\partial z_{s,i} = T(q_i - p_i)$.",
        sp.Matrix(K, 1, lambda i, _: sp.diff(T**2 * C_kl, zs[i])),
        sp.Matrix(K, 1, lambda i, _: T * (q[i] - p[i])),
        shown=(
            sp.Matrix(K, 1, lambda i, _: sp.Symbol(rf"\frac{{\partial (T^2 C_{{\mathrm{{KL}}}})}}{{\partial z_{{s,{i + 1}}}}}")),
            sp.Matrix(K, 1, lambda i, _: T * (qs[i] - ps[i])),
        ),
    )
    centred_gap = [((zs[i] - mean(zs)) - (zt[i] - mean(zt))) / K for i in range(K)]
    d.add(
        r"Order in $T$ of the unscaled gradient: $T^2\cdot\frac1T(q_i - p_i)$ has a finite, generally non-zero limit, "
        r"$\frac1K\big((z_{s,i} - \bar z_s) - (z_{t,i} - \bar z_t)\big)$, so $\frac1T(q_i-p_i) = \Theta(1/T^2)$.",
        sp.Matrix(K, 1, lambda i, _: sp.Limit(T**2 * (q[i] - p[i]) / T, T, sp.oo)),
        sp.Matrix(K, 1, lambda i, _: centred_gap[i]),
        shown=(
            sp.Matrix(K, 1, lambda i, _: sp.Limit(
                sp.Mul(T**2, sp.Mul(1 / T, qs[i] - ps[i], evaluate=False), evaluate=False), T, sp.oo, "-")),
            sp.Matrix(K, 1, lambda i, _: centred_gap[i]),
        ),
    )
    d.add(
        r"Hence the $T^2$-scaled gradient $T(q_i - p_i)$ tends to the same finite limit: it is $\Theta(1)$ in $T$.",
        sp.Matrix(K, 1, lambda i, _: sp.Limit(T * (q[i] - p[i]), T, sp.oo)),
        sp.Matrix(K, 1, lambda i, _: centred_gap[i]),
        shown=(
            sp.Matrix(K, 1, lambda i, _: sp.Limit(T * (qs[i] - ps[i]), T, sp.oo, "-")),
            sp.Matrix(K, 1, lambda i, _: centred_gap[i]),
        ),
    )
    return d


def combined_gradient(K: int = 3, label: int = 0) -> Derivation:
    r"""Gradient of :math:`L = (1-\alpha)\mathrm{CE}(y,\sigma_1(z_s)) + \alpha T^2 \mathrm{KL}(p\|q)`."""
    zs, zt = student_logits(K), teacher_logits(K)
    q, p = softmax(zs, T), softmax(zt, T)
    q1 = softmax(zs, 1)
    log_q, log_p = log_softmax(zs, T), log_softmax(zt, T)
    hard = -log_softmax(zs, 1)[label]
    soft = sum(pi * (lpi - lqi) for pi, lpi, lqi in zip(p, log_p, log_q))
    loss = (1 - alpha) * hard + alpha * T**2 * soft
    d = Derivation(f"Gradient of the combined distillation loss (K = {K}, y = {label + 1})")
    d.add(
        r"$\partial L/\partial z_{s,i} = (1-\alpha)\big(\sigma_1(z_s)_i - [i = y]\big) + \alpha T (q_i - p_i)$.",
        sp.Matrix(K, 1, lambda i, _: sp.diff(loss, zs[i])),
        sp.Matrix(K, 1, lambda i, _: (1 - alpha) * (q1[i] - kronecker(i, label)) + alpha * T * (q[i] - p[i])),
        shown=(
            sp.Matrix(K, 1, lambda i, _: sp.Symbol(rf"\frac{{\partial L}}{{\partial z_{{s,{i + 1}}}}}")),
            sp.Matrix(K, 1, lambda i, _: (1 - alpha) * (sp.Symbol(rf"\sigma_1(z_s)_{{{i + 1}}}") - kronecker(i, label))
                      + alpha * T * (sp.Symbol(f"q_{i + 1}") - sp.Symbol(f"p_{i + 1}"))),
        ),
    )
    return d
