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

from .losses import _check_kd_arguments, _kd_loss_and_student_grad


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
    student, teacher, T, alpha = _check_kd_arguments(
        student_logits, teacher_logits, target, T, alpha, reduction, soft_loss, t_squared
    )
    _, grad = _kd_loss_and_student_grad(
        student, teacher, target, T, alpha, soft_loss, t_squared, want_grad=True, want_loss=False
    )
    if reduction == "batchmean":
        positions = student.numel() // student.shape[-1]
        grad.div_(max(positions, 1))
    return grad
