"""Independent float64 reference implementations in NumPy, for comparison with kdmath.

Written from the definitions, not from kdmath's code: the log-softmax uses
``logaddexp.reduce`` rather than a shift by the maximum.
"""

from __future__ import annotations

import numpy as np


def log_softmax_t(z: np.ndarray, T: float) -> np.ndarray:
    x = np.asarray(z, dtype=np.float64) / np.float64(T)
    return x - np.logaddexp.reduce(x, axis=-1, keepdims=True)


def softmax_t(z: np.ndarray, T: float) -> np.ndarray:
    return np.exp(log_softmax_t(z, T))


def kd_loss_per_position(zs, zt, target, T, alpha, soft_loss="kl", t_squared=True):
    log_q = log_softmax_t(zs, T)
    log_p = log_softmax_t(zt, T)
    p = np.exp(log_p)
    cross_entropy = -(p * log_q).sum(-1)
    soft = cross_entropy + (p * log_p).sum(-1) if soft_loss == "kl" else cross_entropy
    loss = alpha * (T * T if t_squared else 1.0) * soft
    if target is not None:
        log_q1 = log_softmax_t(zs, 1.0)
        hard = -np.take_along_axis(log_q1, np.asarray(target)[..., None], axis=-1)[..., 0]
        loss = loss + (1 - alpha) * hard
    return loss
