r"""Closed-form gradients of the distillation loss with respect to the student logits.

Chapter 2 derives, for either form of the soft term,

.. math::

    \frac{\partial}{\partial z_{s,i}} \mathrm{KL}(p\|q) = \frac1T (q_i - p_i),

so the gradient of :func:`kdmath.kd_loss` for one position is

.. math::

    \frac{\partial L}{\partial z_{s,i}} = (1-\alpha)\big(\sigma_1(z_s)_i - [i = y]\big)
        + \alpha\, T\,(q_i - p_i)

(with :math:`\alpha (q_i - p_i)/T` as the soft part when ``t_squared=False``),
divided by the number of positions under ``reduction="batchmean"``.
"""

from __future__ import annotations

from typing import Optional

import torch

from ._checks import REDUCTIONS, SOFT_LOSSES, check_choice, check_target, check_temperature, check_weight
from .losses import _check_pair
from .softmax import _log_softmax_t


def kd_grad(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: Optional[torch.Tensor] = None,
    *,
    T: float,
    alpha: float,
    reduction: str = "batchmean",
    soft_loss: str = "kl",
    t_squared: bool = True,
) -> torch.Tensor:
    """Return d kd_loss / d student_logits in closed form; same arguments as :func:`kdmath.kd_loss`.

    The result has the shape of ``student_logits``. ``reduction="none"`` returns the
    gradient of the *sum* of the per-position losses (each position's gradient,
    unscaled); ``soft_loss`` does not change the gradient and is accepted only so
    that the two functions share a signature.
    """
    student, teacher = _check_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    alpha = check_weight(alpha)
    check_choice(reduction, "reduction", REDUCTIONS)
    check_choice(soft_loss, "soft_loss", SOFT_LOSSES)
    if not isinstance(t_squared, bool):
        raise TypeError(f"t_squared must be a bool, got {type(t_squared).__name__}")
    if target is None:
        if alpha != 1.0:
            raise ValueError(f"alpha must be 1 when target is None (soft term only), got {alpha}")
    else:
        check_target(target, student_logits)

    q = _log_softmax_t(student, T).exp()
    p = _log_softmax_t(teacher, T).exp()
    soft_factor = alpha * (T if t_squared else 1.0 / T)
    grad = soft_factor * (q - p)
    if target is not None and alpha != 1.0:
        q1 = _log_softmax_t(student, 1.0).exp()
        one_hot = torch.nn.functional.one_hot(target.long(), student.shape[-1]).to(q1.dtype)
        grad = grad + (1.0 - alpha) * (q1 - one_hot)
    if reduction == "batchmean":
        positions = student.numel() // student.shape[-1]
        grad = grad / max(positions, 1)
    return grad
