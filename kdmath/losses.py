r"""Distillation losses.

The book's convention (notation page): with teacher soft targets
:math:`p = \sigma_T(z_t)` and student soft predictions :math:`q = \sigma_T(z_s)`,

.. math::

    L = (1-\alpha)\,\mathrm{CE}\big(y, \sigma_1(z_s)\big)
        + \alpha\, T^2\, \mathrm{KL}(p \,\|\, q),

so ``alpha`` weights the **soft** term. Source note 002 and several libraries let
``alpha`` weight the hard term instead; with those, pass ``1 - alpha`` here.

Every loss is a sum over the class axis (the last one) for each position; the
``reduction`` then acts on the remaining leading axes:

* ``"batchmean"``: the mean over all positions (over examples for ``(N, K)``
  logits; over every token of every sequence for ``(B, L, K)`` logits),
* ``"sum"``: the sum over all positions,
* ``"none"``: the per-position losses, of shape ``logits.shape[:-1]``.

(``torch.nn.functional.kl_div(..., reduction="mean")`` divides by the number of
*elements*, i.e. also by ``K``; no reduction here does that.)
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from ._checks import (
    REDUCTIONS,
    SOFT_LOSSES,
    check_choice,
    check_finite_pair,
    check_logits,
    check_same_shape,
    check_target,
    check_temperature,
    check_weight,
    working_dtype,
)
from .softmax import _log_softmax_t


def _reduce(per_position: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return per_position
    if reduction == "sum":
        return per_position.sum()
    return per_position.mean() if per_position.numel() else per_position.sum()


def _check_pair(student_logits, teacher_logits, check_finite=True):
    check_logits(student_logits, "student_logits", check_finite=False)
    check_logits(teacher_logits, "teacher_logits", check_finite=False)
    check_same_shape(student_logits, teacher_logits)
    if check_finite:
        check_finite_pair(student_logits, "student_logits", teacher_logits, "teacher_logits")
    student = working_dtype(student_logits)
    return student, working_dtype(teacher_logits).to(student.dtype)


def _soft_terms(student, teacher, T):
    """Per-position KL(p || q) and cross-entropy -sum p log q, both at temperature T."""
    return _soft_terms_from_logs(_log_softmax_t(student, T), _log_softmax_t(teacher, T))


def _soft_terms_from_logs(log_q, log_p):
    p = log_p.exp()
    cross_entropy = -(p * log_q).sum(-1)
    # Summing p_i (log p_i - log q_i) term by term, rather than adding -H(p) to the
    # cross-entropy, avoids cancelling two O(1) numbers when q is close to p. log_p is always
    # finite, so a p_i that underflows to 0 contributes 0, not 0 * inf.
    kl = (p * (log_p - log_q)).sum(-1)
    return kl, cross_entropy


def kl_divergence(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    T: float = 1.0,
    reduction: str = "batchmean",
) -> torch.Tensor:
    r"""Return :math:`\mathrm{KL}(p\,\|\,q) = \sum_i p_i \log(p_i/q_i)` with :math:`p=\sigma_T(z_t)`, :math:`q=\sigma_T(z_s)`.

    Note the argument order: the student comes first, as in :func:`kd_loss`, but the
    divergence is measured *from the teacher* (the teacher's distribution is the
    first argument of KL).

    Accuracy is absolute, about the machine epsilon of the dtype: a divergence far below
    that (an agreeing student at tiny ``T``) comes out as rounding noise of either sign,
    because the log-probabilities of the top class round to exactly 0.
    """
    student, teacher = _check_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    check_choice(reduction, "reduction", REDUCTIONS)
    kl, _ = _soft_terms(student, teacher, T)
    return _reduce(kl, reduction)


def soft_cross_entropy(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    T: float = 1.0,
    reduction: str = "batchmean",
) -> torch.Tensor:
    r"""Return :math:`-\sum_i p_i \log q_i`, the cross-entropy form of the soft term.

    It equals :func:`kl_divergence` plus the teacher's entropy :math:`H(p)`, which
    does not depend on the student, so both forms have the same gradient.
    """
    student, teacher = _check_pair(student_logits, teacher_logits)
    T = check_temperature(T)
    check_choice(reduction, "reduction", REDUCTIONS)
    _, cross_entropy = _soft_terms(student, teacher, T)
    return _reduce(cross_entropy, reduction)


def hard_cross_entropy(
    student_logits: torch.Tensor, target: torch.Tensor, *, reduction: str = "batchmean"
) -> torch.Tensor:
    r"""Return :math:`\mathrm{CE}(y, \sigma_1(z_s)) = -\log \sigma_1(z_s)_y`, the usual label loss at T = 1."""
    check_logits(student_logits, "student_logits")
    check_target(target, student_logits)
    check_choice(reduction, "reduction", REDUCTIONS)
    log_q1 = _log_softmax_t(working_dtype(student_logits), 1.0)
    per_position = -log_q1.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    return _reduce(per_position, reduction)


def kd_loss(
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
    r"""Return the distillation loss :math:`(1-\alpha)\,\mathrm{CE}(y,\sigma_1(z_s)) + \alpha\,T^2\,\mathrm{KL}(p\|q)`.

    Parameters
    ----------
    student_logits, teacher_logits:
        Floating tensors of the same shape ``(..., K)``. Pass the teacher's logits
        detached unless you mean to train the teacher too.
    target:
        Integer class indices of shape ``(...)``, or ``None`` for the soft term
        alone, in which case ``alpha`` must be 1.
    T:
        Temperature, finite and > 0.
    alpha:
        Weight of the soft term, in [0, 1].
    reduction:
        ``"batchmean"`` (default), ``"sum"`` or ``"none"``; see the module docstring.
    soft_loss:
        ``"kl"`` for :math:`\mathrm{KL}(p\|q)` or ``"cross_entropy"`` for
        :math:`-\sum p_i\log q_i` (larger by :math:`H(p)`, same gradient).
    t_squared:
        Multiply the soft term by :math:`T^2` (default, as in Hinton et al.) so that
        its gradient does not vanish as ``T`` grows.
    """
    student, teacher, T, alpha = _check_kd_arguments(
        student_logits, teacher_logits, target, T, alpha, reduction, soft_loss, t_squared
    )
    if torch.is_grad_enabled() and (student_logits.requires_grad or teacher_logits.requires_grad):
        return _KDLoss.apply(student_logits, teacher_logits, target, T, alpha, reduction, soft_loss, t_squared)
    return _reduce(_kd_per_position(student, teacher, target, T, alpha, soft_loss, t_squared), reduction)


class _KDLoss(torch.autograd.Function):
    """kd_loss with its backward pass in closed form (chapter 2), instead of autograd through the graph.

    Student gradient: ``alpha*s/T*(q - p) + (1-alpha)*(softmax(z_s) - e_y)`` with ``s = T**2``
    (or 1); teacher gradient: ``alpha*s/T * p * (log p - log q - KL)`` for the KL form and
    ``alpha*s/T * p * (-log q - CE)`` for the cross-entropy form. Both are tested against
    autograd of the plain expression. Not twice differentiable.

    The forward pass computes the student's gradient (per position, before the reduction's
    divisor) while ``q`` and ``p`` are at hand, and saves only it; the backward pass scales it by
    the upstream gradient. So the backward pass is one multiplication, and the distributions are
    freed when the forward pass ends. The teacher's pieces are saved only when the teacher needs a
    gradient.
    """

    @staticmethod
    def forward(ctx, student_logits, teacher_logits, target, T, alpha, reduction, soft_loss, t_squared):
        student = working_dtype(student_logits)
        teacher = working_dtype(teacher_logits).to(student.dtype)
        student_grad = teacher_pieces = None
        if ctx.needs_input_grad[1]:
            per_position, (log_q, log_p, soft, log_q1, soft_weight, hard_weight, p) = _kd_forward(
                student, teacher, target, T, alpha, soft_loss, t_squared, keep_p=True
            )
            if ctx.needs_input_grad[0]:
                q1 = None if not hard_weight else log_q1.exp()
                student_grad = _student_grad(log_q.exp(), p, q1, target, soft_weight / T, hard_weight)
            teacher_pieces = (log_q, log_p, soft)
        else:
            per_position, student_grad = _kd_loss_and_student_grad(
                student, teacher, target, T, alpha, soft_loss, t_squared, want_grad=True
            )
            soft_weight = alpha * (T * T if t_squared else 1.0)
        ctx.save_for_backward(student_grad, *(teacher_pieces or ()))
        ctx.settings = (T, soft_weight, reduction, soft_loss, student_logits.dtype, teacher_logits.dtype)
        return _reduce(per_position, reduction)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        T, soft_weight, reduction, soft_loss, student_dtype, teacher_dtype = ctx.settings
        student_grad, *teacher_pieces = ctx.saved_tensors
        shape = student_grad.shape if student_grad is not None else teacher_pieces[0].shape
        positions = max(math.prod(shape[:-1]), 1)
        if reduction == "none":
            upstream = grad_output.unsqueeze(-1)
        elif reduction == "sum":
            upstream = grad_output
        else:
            upstream = grad_output / positions
        if student_grad is not None:
            # not in place: a graph kept with retain_graph=True may run this backward pass again
            student_grad = (student_grad * upstream).to(student_dtype)
        teacher_grad = None
        if teacher_pieces:
            log_q, log_p, soft = teacher_pieces
            centred = (log_p - log_q) if soft_loss == "kl" else -log_q
            teacher_grad = log_p.exp() * (centred - soft.unsqueeze(-1)) * (soft_weight / T)
            teacher_grad = (teacher_grad * upstream).to(teacher_dtype)
        return student_grad, teacher_grad, None, None, None, None, None, None


def _check_kd_arguments(student_logits, teacher_logits, target, T, alpha, reduction, soft_loss, t_squared):
    """The checks shared by kd_loss and kd_grad; returns the working tensors and the scalars.

    On a CPU, when the computation will be :func:`_kd_loss_and_student_grad` (the teacher needs no
    gradient), the logits' finiteness is checked there, by the extremes its shift computes anyway.
    """
    shift_checks = isinstance(student_logits, torch.Tensor) and student_logits.device.type == "cpu" and not (
        torch.is_grad_enabled() and getattr(teacher_logits, "requires_grad", False)
    )
    student, teacher = _check_pair(student_logits, teacher_logits, check_finite=not shift_checks)
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
    return student, teacher, T, alpha


def _kd_forward(student, teacher, target, T, alpha, soft_loss, t_squared, keep_p=False):
    """The unchecked per-position loss, and the pieces its closed-form gradient needs (with ``p`` if ``keep_p``)."""
    log_q = _log_softmax_t(student, T)
    log_p = _log_softmax_t(teacher, T)
    p = log_p.exp()
    if soft_loss == "kl":
        # term by term, p_i (log p_i - log q_i): see _soft_terms_from_logs
        soft = torch.sub(log_p, log_q).mul_(p).sum(-1)
    else:
        soft = -(p * log_q).sum(-1)
    soft_weight = alpha * (T * T if t_squared else 1.0)
    loss = soft_weight * soft
    hard_weight = 1.0 - alpha if target is not None else 0.0
    log_q1 = None
    if hard_weight:
        log_q1 = log_q if T == 1.0 else _log_softmax_t(student, 1.0)
        loss = loss - hard_weight * log_q1.gather(-1, target.long().unsqueeze(-1)).squeeze(-1)
    pieces = (log_q, log_p, soft, log_q1, soft_weight, hard_weight)
    return loss, (*pieces, p) if keep_p else pieces


def _kd_per_position(student, teacher, target, T, alpha, soft_loss="kl", t_squared=True):
    """The unchecked per-position loss, for callers (the trainer) that validated once."""
    return _kd_loss_and_student_grad(student, teacher, target, T, alpha, soft_loss, t_squared, want_grad=False)[0]


def _student_grad(q, p, q1, target, soft_factor, hard_weight):
    """``soft_factor * (q - p) + hard_weight * (q1 - e_y)`` per position, computed in place on ``q``.

    The closed form of chapter 2, shared by :func:`kdmath.kd_grad` and kd_loss's backward pass.
    """
    if q1 is q:  # one distribution for both terms (T = 1): (soft_factor + hard_weight) q - soft_factor p
        grad = q.mul_(soft_factor + hard_weight).sub_(p, alpha=soft_factor)
    else:
        grad = q.sub_(p).mul_(soft_factor)
        if hard_weight:
            grad.add_(q1, alpha=hard_weight)
    if hard_weight:
        index = target.long().unsqueeze(-1)
        grad.scatter_add_(-1, index, torch.full(index.shape, -hard_weight, dtype=grad.dtype, device=grad.device))
    return grad


# How far below the shift an exponent may reach while exp stays a normal number, with room to spare:
# about 61 in float32 and 496 in float64.
_LOG2_E, _LN_2 = 1.0 / math.log(2.0), math.log(2.0)
_EXPONENT_ROOM = {dtype: 0.7 * -math.log(torch.finfo(dtype).tiny) for dtype in (torch.float32, torch.float64)}


def _shifted(logits: torch.Tensor, T: float, name: str) -> torch.Tensor:
    """``logits`` minus a shift after which every ``shifted / T`` lies in [-room, 0], with 0 reached per position.

    The exact shift is each position's largest logit. On a CPU the reduction along a short last axis
    costs more than the exponentials themselves (benchmarks/run.py, 4096 x 10 to 64 classes), so there
    one shift serves every position when the spread of the whole tensor permits: the largest logit
    of all. The exponent of each position's largest logit is then at least -room, its sum of
    exponentials at least exp(-room), a normal number, and the rounding of ``(z - shift) / T`` is
    one unit in the spread over ``T``, the order of the rounding already in ``z / T``.

    On a CPU the extremes also check that ``logits`` (called ``name`` in the error) is finite: NaN
    and inf reach them.
    """
    if logits.device.type == "cpu":
        low, high = torch.aminmax(logits)
        low, high = low.item(), high.item()
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"{name} contains NaN or inf")
        if high - low <= T * _EXPONENT_ROOM.get(logits.dtype, 0.0):
            return logits - high
    return logits - logits.amax(-1, keepdim=True)


def _kd_loss_and_student_grad(student, teacher, target, T, alpha, soft_loss, t_squared, want_grad, want_loss=True):
    r"""The per-position loss (``None`` unless ``want_loss``) and, if ``want_grad``, its gradient with respect to
    the student logits (the exponentials computed as powers of 2; see the comment in the code).

    With a shift subtracted first (:func:`_shifted`, so that no exponential overflows or vanishes at
    any ``T``), :math:`a = (z_s - c_s)/T`, :math:`b = (z_t - c_t)/T`,
    :math:`Z_s = \sum_i e^{a_i}` and :math:`Z_t = \sum_i e^{b_i}`:

    .. math::

        \mathrm{KL}(p\|q) = \frac{1}{Z_t}\sum_i e^{b_i}(b_i - a_i) - (\log Z_t - \log Z_s),
        \qquad -\sum_i p_i \log q_i = \log Z_s - \frac{1}{Z_t}\sum_i e^{b_i} a_i,

    and the student gradient (chapter 2) is
    :math:`\tfrac{s}{T}\,(e^{a}/Z_s - e^{b}/Z_t) + (1-\alpha)(\sigma_1(z_s) - e_y)` with
    :math:`s = \alpha T^2` (or :math:`\alpha`). Three exponentials (two at ``T = 1``) and no
    log-softmax; every other quantity is one number per position. The accuracy is that of the
    term-by-term sum (see :func:`kl_divergence`): a few roundings, absolute.
    """
    soft_weight = alpha * (T * T if t_squared else 1.0)
    hard_weight = 1.0 - alpha if target is not None else 0.0
    # the hard term's exponentials are at T = 1: the shift must suit both temperatures
    shifted = _shifted(student, min(T, 1.0) if hard_weight else T, "student_logits")
    # In base 2: e^x = 2^(x log2 e), and 2^x costs half of e^x on the CPUs measured (a GPU computes
    # e^x as 2^x anyway). a2 = a log2 e and b2 = b log2 e cost one multiplication each, which replaces
    # the division by T.
    a2 = shifted * (_LOG2_E / T)
    b2 = _shifted(teacher, T, "teacher_logits").mul_(_LOG2_E / T)
    exp_a, exp_b = a2.exp2(), b2.exp2()
    Z_s, Z_t = exp_a.sum(-1, keepdim=True), exp_b.sum(-1, keepdim=True)
    loss = None
    if want_loss:
        if soft_loss == "kl":  # s KL = s sum_i e^(b_i) (b_i - a_i) / Z_t - s log(Z_t / Z_s)
            tilted = torch.sub(b2, a2).mul_(exp_b).sum(-1, keepdim=True)
            loss = torch.addcdiv(torch.div(Z_t, Z_s).log_().mul_(-soft_weight), tilted, Z_t, value=soft_weight * _LN_2)
        else:  # s CE = s log Z_s - s sum_i e^(b_i) a_i / Z_t
            tilted = (a2 * exp_b).sum(-1, keepdim=True)
            loss = torch.addcdiv(Z_s.log().mul_(soft_weight), tilted, Z_t, value=-soft_weight * _LN_2)
    if hard_weight:
        index = target.unsqueeze(-1)
        if T == 1.0:
            exp_1, Z_1 = exp_a, Z_s
        else:
            exp_1 = (shifted * _LOG2_E).exp2_()
            Z_1 = exp_1.sum(-1, keepdim=True)
        if want_loss:  # (1 - alpha) (log Z_1 - shifted_y)
            loss.add_(Z_1.log().sub_(shifted.gather(-1, index)), alpha=hard_weight)

    grad = None
    if want_grad:
        soft_factor = soft_weight / T
        if hard_weight and T == 1.0:  # one distribution for both terms
            grad = exp_a.mul_((soft_factor + hard_weight) / Z_s).addcmul_(exp_b, -soft_factor / Z_t)
        else:
            # q - p first, then its factor: so that the gradient scales exactly as the factor does
            # (with and without T^2 differ by T^2 to a rounding, as chapter 8 checks)
            grad = exp_a.mul_(Z_s.reciprocal()).addcmul_(exp_b, -1.0 / Z_t).mul_(soft_factor)
            if hard_weight:
                grad.addcmul_(exp_1, hard_weight / Z_1)
        if hard_weight:
            grad.scatter_add_(-1, index, torch.full(index.shape, -hard_weight, dtype=grad.dtype, device=grad.device))
    return (loss.squeeze(-1) if want_loss else None), grad
