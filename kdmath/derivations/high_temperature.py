r"""Chapter 3: the high-temperature expansion, in the small parameter :math:`\varepsilon = 1/T`.

* :math:`q_i = \frac1K + \frac{\varepsilon}{K}(z_i - \bar z) + O(\varepsilon^2)`;
* Hinton et al.'s form :math:`(1+\varepsilon z_i)/(K + \varepsilon\sum_j z_j)` agrees to that order;
* :math:`\frac1T(q_i-p_i) = \frac{\varepsilon^2}{K}\big((z_{s,i}-\bar z_s)-(z_{t,i}-\bar z_t)\big) + O(\varepsilon^3)`,
  which for zero-mean logits is :math:`\frac{1}{KT^2}(z_{s,i}-z_{t,i})`;
* :math:`T^2\,\mathrm{KL}(p\|q) \to \frac1{2K}\lVert(z_s-\bar z_s)-(z_t-\bar z_t)\rVert^2`.
"""

from __future__ import annotations

import sympy as sp

from ._core import Derivation
from ._symbols import eps, log_softmax, logits, mean, softmax, student_logits, teacher_logits


def softmax_expansion(K: int = 3) -> Derivation:
    z = logits("z", K)
    q = softmax(z, 1 / eps)
    zbar = mean(z)
    d = Derivation(f"First-order expansion of the temperature softmax (K = {K})")
    d.add(
        r"Expanding $e^{\varepsilon z_j} = 1 + \varepsilon z_j + O(\varepsilon^2)$ in numerator and denominator: "
        r"$q_i = \frac1K + \frac{\varepsilon}{K}(z_i - \bar z) + O(\varepsilon^2)$ for every $i$.",
        sp.Matrix(q),
        sp.Matrix([sp.Rational(1, K) + eps * (z[i] - zbar) / K + sp.O(eps**2) for i in range(K)]),
        "~",
    )
    hinton = (1 + eps * z[0]) / (K + eps * sum(z))
    d.add(
        r"The form in Hinton et al.'s eq. (3), $(1 + z_i/T)/(K + \sum_j z_j/T)$, has the same first-order expansion.",
        hinton,
        sp.Rational(1, K) + eps * (z[0] - zbar) / K + sp.O(eps**2),
        "~",
    )
    return d


def gradient_expansion(K: int = 3) -> Derivation:
    zs, zt = student_logits(K), teacher_logits(K)
    q, p = softmax(zs, 1 / eps), softmax(zt, 1 / eps)
    d = Derivation(f"High-temperature gradient of the soft term (K = {K})")
    d.add(
        r"$\frac1T(q_i - p_i) = \frac{1}{K T^2}\big((z_{s,i} - \bar z_s) - (z_{t,i} - \bar z_t)\big) + O(T^{-3})$ "
        r"for every $i$, written in $\varepsilon = 1/T$.",
        sp.Matrix([eps * (q[i] - p[i]) for i in range(K)]),
        sp.Matrix([eps**2 * ((zs[i] - mean(zs)) - (zt[i] - mean(zt))) / K + sp.O(eps**3) for i in range(K)]),
        "~",
    )
    # Zero-mean logits: eliminate the last logit of each model.
    zero_mean = {zs[-1]: -sum(zs[:-1]), zt[-1]: -sum(zt[:-1])}
    d.add(
        r"If both models' logits have zero mean, the centring drops out: "
        r"$\frac1T(q_1 - p_1) = \frac{1}{KT^2}(z_{s,1} - z_{t,1}) + O(T^{-3})$.",
        (eps * (q[0] - p[0])).subs(zero_mean),
        eps**2 * (zs[0] - zt[0]) / K + sp.O(eps**3),
        "~",
    )
    return d


def soft_loss_limit(K: int = 3) -> Derivation:
    zs, zt = student_logits(K), teacher_logits(K)
    log_q, log_p = log_softmax(zs, 1 / eps), log_softmax(zt, 1 / eps)
    kl = sum(sp.exp(lpi) * (lpi - lqi) for lpi, lqi in zip(log_p, log_q))
    gap = sum(((zs[i] - mean(zs)) - (zt[i] - mean(zt))) ** 2 for i in range(K)) / (2 * K)
    d = Derivation(f"High-temperature limit of the T^2-scaled KL (K = {K})")
    d.add(
        r"$\mathrm{KL}(p\|q) = \frac{\varepsilon^2}{2K}\sum_i\big((z_{s,i} - \bar z_s) - (z_{t,i} - \bar z_t)\big)^2 + O(\varepsilon^3)$, "
        r"so $T^2\,\mathrm{KL}(p\|q)$ tends to that sum of squares over $2K$: distillation at high $T$ matches centred logits.",
        kl,
        eps**2 * gap + sp.O(eps**3),
        "~",
        shown=(sp.Symbol(r"\mathrm{KL}(p\|q)"), eps**2 * gap + sp.O(eps**3)),
    )
    return d
