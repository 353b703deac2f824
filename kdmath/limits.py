r"""Closed forms of the distillation soft term at very high and very low temperature.

High temperature (chapter 3): to first order in :math:`1/T`,

.. math::

    q_i \approx \frac1K\Big(1 + \frac{z_{s,i} - \bar z_s}{T}\Big), \qquad
    \frac1T(q_i - p_i) \approx \frac{1}{K T^2}\big((z_{s,i}-\bar z_s) - (z_{t,i}-\bar z_t)\big),

and :math:`T^2\,\mathrm{KL}(p\|q) \to \frac{1}{2K}\lVert (z_s-\bar z_s) - (z_t - \bar z_t)\rVert^2`.

Zero temperature (chapter 4): with :math:`A` the set of the teacher's tied maxima,
:math:`T\,\mathrm{KL}(p\|q) \to \max_j z_{s,j} - \frac1{|A|}\sum_{c\in A} z_{s,c}`, the
zero-margin (perceptron) loss on the teacher's argmax labels.
"""

from __future__ import annotations

import torch

from ._checks import check_temperature
from .losses import _check_pair


def _centred(z: torch.Tensor) -> torch.Tensor:
    return z - z.mean(-1, keepdim=True)


def first_order_softmax_t(logits: torch.Tensor, T: float) -> torch.Tensor:
    r"""Return :math:`\frac1K(1 + (z_i - \bar z)/T)`, the first-order expansion of :math:`\sigma_T(z)` in :math:`1/T`."""
    student, _ = _check_pair(logits, logits)
    T = check_temperature(T)
    K = student.shape[-1]
    return (1.0 + _centred(student) / T) / K


def hinton_first_order_softmax_t(logits: torch.Tensor, T: float) -> torch.Tensor:
    r"""Return :math:`(1 + z_i/T) / (K + \sum_j z_j/T)`, the form of Hinton et al.'s eq. (3); same first order."""
    student, _ = _check_pair(logits, logits)
    T = check_temperature(T)
    K = student.shape[-1]
    return (1.0 + student / T) / (K + student.sum(-1, keepdim=True) / T)


def high_temperature_soft_grad(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, T: float
) -> torch.Tensor:
    r"""Return :math:`\frac{1}{KT^2}((z_s-\bar z_s)-(z_t-\bar z_t))`, the high-T approximation of :math:`\frac1T(q-p)`."""
    student, teacher = _check_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    K = student.shape[-1]
    return (_centred(student) - _centred(teacher)) / (K * T * T)


def high_temperature_soft_loss_limit(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    r"""Return :math:`\lim_{T\to\infty} T^2\mathrm{KL}(p\|q) = \frac{1}{2K}\lVert(z_s-\bar z_s)-(z_t-\bar z_t)\rVert^2` per position."""
    student, teacher = _check_pair(student_logits, teacher_logits)
    K = student.shape[-1]
    return ((_centred(student) - _centred(teacher)) ** 2).sum(-1) / (2 * K)


def zero_temperature_targets(teacher_logits: torch.Tensor) -> torch.Tensor:
    r"""Return :math:`\lim_{T\to 0^+}\sigma_T(z_t)`: uniform over the tied maxima of the teacher's logits, 0 elsewhere."""
    _, teacher = _check_pair(teacher_logits, teacher_logits)
    is_max = (teacher == teacher.amax(-1, keepdim=True)).to(teacher.dtype)
    return is_max / is_max.sum(-1, keepdim=True)


def zero_temperature_soft_loss_limit(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    r"""Return :math:`\lim_{T\to0^+} T\,\mathrm{KL}(p\|q) = \max_j z_{s,j} - \sum_c \bar p_c z_{s,c}` per position.

    :math:`\bar p` is :func:`zero_temperature_targets` of the teacher. The result is
    zero exactly when every teacher maximum is also a student maximum.
    """
    student, teacher = _check_pair(student_logits, teacher_logits)
    targets = zero_temperature_targets(teacher)
    return student.amax(-1) - (targets * student).sum(-1)
