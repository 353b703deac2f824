"""Symbols shared by the derivations, named as on the book's notation page."""

from __future__ import annotations

import sympy as sp

T = sp.Symbol("T", positive=True)
#: 1/T, the small parameter of the high-temperature expansions.
eps = sp.Symbol("varepsilon", positive=True)
#: 1/T, the large parameter of the zero-temperature limits.
beta = sp.Symbol("beta", positive=True)
alpha = sp.Symbol("alpha", nonnegative=True)
#: The number of classes as a symbol: a derivation over it holds for every K (the general modules).
K = sp.Symbol("K", integer=True, positive=True)


def logits(name: str, K: int) -> tuple[sp.Symbol, ...]:
    """K real symbols ``name_1 .. name_K`` (e.g. ``logits('z_{s', 3)`` -> z_{s,1}, ...)."""
    if not isinstance(K, int) or K < 2:
        raise ValueError(f"K must be an int >= 2, got {K!r}")
    if name.endswith("{s") or name.endswith("{t"):
        return tuple(sp.Symbol(f"{name},{i}}}", real=True) for i in range(1, K + 1))
    return tuple(sp.Symbol(f"{name}_{i}", real=True) for i in range(1, K + 1))


def student_logits(K: int):
    return logits("z_{s", K)


def teacher_logits(K: int):
    return logits("z_{t", K)


def softmax(z, temperature) -> list[sp.Expr]:
    r"""The temperature softmax :math:`e^{z_i/T}/\sum_j e^{z_j/T}` as a list of expressions."""
    partition = sum(sp.exp(zj / temperature) for zj in z)
    return [sp.exp(zi / temperature) / partition for zi in z]


def log_softmax(z, temperature) -> list[sp.Expr]:
    r""":math:`z_i/T - \log\sum_j e^{z_j/T}`, the form whose series and limits sympy handles quickly."""
    log_partition = sp.log(sum(sp.exp(zj / temperature) for zj in z))
    return [zi / temperature - log_partition for zi in z]


def mean(z) -> sp.Expr:
    return sp.Add(*z) / len(z)


def kronecker(i: int, j: int) -> int:
    return 1 if i == j else 0
