r"""The divergences a distilled language model is trained with, per position, from logits.

With teacher soft targets :math:`p = \sigma_T(z_t)` and student predictions :math:`q = \sigma_T(z_s)`
at every position of a ``(B, L, K)`` batch (any leading shape works; the class axis is the last):

.. math::

    \mathrm{KL}(p\|q) = \sum_i p_i \log\frac{p_i}{q_i} \quad\text{(forward: mode covering)},\qquad
    \mathrm{KL}(q\|p) = \sum_i q_i \log\frac{q_i}{p_i} \quad\text{(reverse: mode seeking)},

and the generalised Jensen-Shannon divergence of Agarwal et al. (GKD, 2024), for :math:`\beta\in[0,1]`,

.. math::

    \mathrm{JSD}_\beta(p\|q) = \beta\,\mathrm{KL}(p\|m) + (1-\beta)\,\mathrm{KL}(q\|m),
    \qquad m = \beta p + (1-\beta) q .

Everything is computed from log-probabilities: :math:`\log m` is
``logaddexp(log β + log p, log(1-β) + log q)``, never the log of a sum of probabilities, so
logit gaps of 1e4 at ``T = 0.01`` stay finite. :math:`\mathrm{JSD}_0 = \mathrm{JSD}_1 = 0` *exactly* (then
:math:`m` is ``q`` or ``p`` and the other term has weight 0); for small :math:`\beta`,
:math:`\mathrm{JSD}_\beta = \beta\,\mathrm{KL}(p\|q) - \tfrac{\beta^2}{2}\chi^2(p\|q) + O(\beta^3)`
(:mod:`kdmath.derivations.divergences`), so it is the *forward* KL that :math:`\mathrm{JSD}_\beta/\beta`
tends to, and symmetrically :math:`\mathrm{JSD}_\beta/(1-\beta) \to \mathrm{KL}(q\|p)` as :math:`\beta\to1`.

The :math:`T^2` factor of the distillation loss is **not** applied here: the loss multiplies by it.

Reductions (``normalise``) act on the per-position values of shape ``logits.shape[:-1]``, with an
optional boolean ``mask`` of that shape (``True`` = the position counts); see :func:`masked_mean`.
The first axis is the batch of sequences; all further axes are positions within a sequence.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import torch

from ._checks import (
    check_choice,
    check_logits,
    check_same_shape,
    check_temperature,
    check_weight,
    working_dtype,
)
from .softmax import _log_softmax_t

DIVERGENCES = ("forward_kl", "reverse_kl", "jsd")
NORMALISATIONS = ("token", "sequence", "batch", "none")


# --------------------------------------------------------------------------------------------------
# Masks and reductions
# --------------------------------------------------------------------------------------------------


def _check_mask(mask: object, per_position: torch.Tensor) -> torch.Tensor | None:
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a torch.Tensor of bools or None, got {type(mask).__name__}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must have dtype torch.bool (True = the position counts), got {mask.dtype}")
    if mask.shape != per_position.shape:
        raise ValueError(
            f"mask must have shape {tuple(per_position.shape)} (the logits without their class axis), "
            f"got {tuple(mask.shape)}"
        )
    if mask.device != per_position.device:
        raise ValueError(f"mask is on {mask.device} but the values are on {per_position.device}")
    return mask


def masked_mean(
    per_position: torch.Tensor, mask: torch.Tensor | None = None, normalise: str = "token"
) -> torch.Tensor:
    r"""Reduce per-position values ``(B, L)`` (or ``(B, ...)``) over the positions that ``mask`` keeps.

    ``normalise``:

    * ``"token"``: the sum over kept positions divided by the number of kept positions in the batch
      (every token weighs the same; long sequences weigh more);
    * ``"sequence"``: the mean over sequences of each sequence's mean over its kept positions (every
      sequence weighs the same). A sequence with no kept position is **left out** of that mean;
    * ``"batch"``: the sum over kept positions divided by ``B``, i.e. each sequence's *sum* averaged
      over the sequences (TRL's and many RL codes' ``"batchmean"`` on ``(B, L)``);
    * ``"none"``: the per-position tensor with masked positions set to 0.

    A batch in which no position is kept (or an empty batch) reduces to 0 (a zero that is still
    connected to the graph, so ``backward`` works and gives zero gradients). ``mask=None`` keeps every
    position. Masked positions are removed with ``torch.where``, so whatever they hold never reaches
    the result or the gradient.
    """
    if not isinstance(per_position, torch.Tensor) or not per_position.is_floating_point():
        raise TypeError("per_position must be a floating-point torch.Tensor")
    check_choice(normalise, "normalise", NORMALISATIONS)
    mask = _check_mask(mask, per_position)
    kept = per_position if mask is None else torch.where(mask, per_position, per_position.new_zeros(()))
    if normalise == "none":
        return kept
    if normalise == "token":
        if mask is None:
            return kept.sum() / per_position.numel() if per_position.numel() else kept.sum() * 0.0
        # With nothing kept the sum is 0, and 0 / 1 is the documented 0 (no host sync on a GPU).
        return kept.sum() / mask.sum().clamp(min=1).to(kept.dtype)
    if per_position.dim() == 0:
        raise ValueError(f"normalise={normalise!r} needs a batch axis; per_position is a 0-d tensor")
    batch = per_position.shape[0]
    if batch == 0 or per_position.numel() == 0:
        return kept.sum() * 0.0
    sums = kept.reshape(batch, -1).sum(1)
    if normalise == "batch":
        return sums.sum() / batch
    counts = (
        torch.full((batch,), per_position[0].numel(), device=per_position.device)
        if mask is None
        else mask.reshape(batch, -1).sum(1)
    )
    present = counts > 0
    means = sums / counts.clamp(min=1).to(sums.dtype)
    # A sequence with nothing kept has a zero sum, so it adds 0 to the numerator and 0 to the count.
    return means.sum() / present.sum().clamp(min=1).to(sums.dtype)


def mask_from_targets(targets: torch.Tensor, ignore_index: int = -100) -> torch.Tensor:
    """The boolean mask ``targets != ignore_index`` (padding and prompt targets marked as in PyTorch's CE)."""
    if not isinstance(targets, torch.Tensor):
        raise TypeError(f"targets must be a torch.Tensor of token ids, got {type(targets).__name__}")
    if targets.is_floating_point() or targets.is_complex() or targets.dtype == torch.bool:
        raise TypeError(f"targets must hold integer token ids, got dtype {targets.dtype}")
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    return targets != int(ignore_index)


def _lengths(value: object, name: str, batch: int | None) -> torch.Tensor:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be an int, a sequence of ints or an integer tensor, got bool")
    if isinstance(value, numbers.Integral):
        if batch is None:
            raise TypeError(f"{name} must be a sequence of ints or an integer tensor (one per sequence)")
        return torch.full((batch,), int(value), dtype=torch.long)
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() or value.is_complex() or value.dtype == torch.bool:
            raise TypeError(f"{name} must hold integers, got dtype {value.dtype}")
        tensor = value.detach().to("cpu", torch.long)
    else:
        try:
            items = list(value)  # type: ignore[arg-type]
        except TypeError as error:
            raise TypeError(f"{name} must be an int, a sequence of ints or an integer tensor") from error
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
            raise TypeError(f"{name} must hold ints, got {items!r}")
        tensor = torch.tensor(items, dtype=torch.long)
    if tensor.dim() != 1:
        raise ValueError(
            f"{name} must be one-dimensional (one length per sequence), got shape {tuple(tensor.shape)}"
        )
    if batch is not None and tensor.shape[0] != batch:
        raise ValueError(f"{name} has {tensor.shape[0]} entries but lengths has {batch}")
    if bool((tensor < 0).any()):
        raise ValueError(f"{name} must be >= 0, got {tensor.tolist()}")
    return tensor


def prompt_mask(
    lengths: Sequence[int] | torch.Tensor,
    prompt_lengths: int | Sequence[int] | torch.Tensor,
    L: int,
    *,
    shift: int = 0,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    r"""The ``(B, L)`` mask of the positions that are neither prompt nor padding.

    Sequence ``b`` holds ``lengths[b]`` real tokens (the rest, up to the tensor's length, is padding),
    of which the first ``prompt_lengths[b]`` are the prompt. Position ``j`` of the ``(B, L)`` tensor the
    mask is for stands for token ``j + shift``, and is kept when
    ``prompt_lengths[b] <= j + shift < lengths[b]``.

    ``shift=0`` masks the token sequence itself. For next-token losses, where the targets are
    ``ids[:, 1:]`` (the logits at position ``j`` predict token ``j + 1``), pass ``shift=1`` and
    ``L = ids.shape[1] - 1``: then exactly the positions whose *target* is a generated token count, which
    is the first generated token predicted from the prompt's last position onwards.
    ``prompt_lengths`` may be one int for the whole batch.
    """
    if isinstance(L, bool) or not isinstance(L, numbers.Integral) or L < 0:
        raise ValueError(f"L must be an int >= 0, got {L!r}")
    if isinstance(shift, bool) or not isinstance(shift, numbers.Integral) or shift < 0:
        raise ValueError(f"shift must be an int >= 0, got {shift!r}")
    lengths_t = _lengths(lengths, "lengths", None)
    prompts_t = _lengths(prompt_lengths, "prompt_lengths", lengths_t.shape[0])
    if bool((lengths_t > L + shift).any()):
        raise ValueError(f"lengths must be <= L + shift = {L + shift}, got {lengths_t.tolist()}")
    if bool((prompts_t > lengths_t).any()):
        raise ValueError(
            f"prompt_lengths must not exceed lengths, got {prompts_t.tolist()} and {lengths_t.tolist()}"
        )
    token = torch.arange(L, dtype=torch.long) + int(shift)
    mask = (token >= prompts_t[:, None]) & (token < lengths_t[:, None])
    return mask if device is None else mask.to(device)


# --------------------------------------------------------------------------------------------------
# The divergences
# --------------------------------------------------------------------------------------------------


def _log_probabilities(student_logits, teacher_logits, T):
    check_logits(student_logits, "student_logits")
    check_logits(teacher_logits, "teacher_logits")
    check_same_shape(student_logits, teacher_logits)
    T = check_temperature(T)
    student = working_dtype(student_logits)
    teacher = working_dtype(teacher_logits).to(student.dtype)
    return _log_softmax_t(student, T), _log_softmax_t(teacher, T)


def _kl_from_logs(log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """:math:`\\sum_i a_i(\\log a_i - \\log b_i)`.

    ``log_a`` is finite (a log-softmax), so an ``a_i`` that underflows to 0 adds 0, not 0 * inf.
    """
    return (log_a.exp() * (log_a - log_b)).sum(-1)


def _jsd_from_logs(log_q: torch.Tensor, log_p: torch.Tensor, beta: float) -> torch.Tensor:
    log_beta = math.log(beta) if beta > 0.0 else -math.inf
    log_rest = math.log1p(-beta) if beta < 1.0 else -math.inf
    # logaddexp(-inf, x) is x exactly, so beta = 0 gives log m = log q and JSD_0 = 0 exactly.
    log_m = torch.logaddexp(log_p + log_beta, log_q + log_rest)
    return beta * _kl_from_logs(log_p, log_m) + (1.0 - beta) * _kl_from_logs(log_q, log_m)


def divergence(
    name: str,
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    *,
    beta: float = 0.5,
    T: float = 1.0,
    mask: torch.Tensor | None = None,
    normalise: str = "token",
) -> torch.Tensor:
    r"""The divergence ``name`` (one of :data:`DIVERGENCES`) between teacher and student, reduced.

    ``"forward_kl"`` is :math:`\mathrm{KL}(p\|q)`, ``"reverse_kl"`` is :math:`\mathrm{KL}(q\|p)`,
    ``"jsd"`` is :math:`\mathrm{JSD}_\beta(p\|q)` with :math:`m = \beta p + (1-\beta)q` (``beta`` is checked
    whatever ``name`` is, and used only by ``"jsd"``). ``p = softmax(teacher_logits / T)``,
    ``q = softmax(student_logits / T)``; the student comes first, as in :func:`kdmath.kd_loss`.
    Gradients flow into both logits: detach the teacher's unless you mean to train it.
    The :math:`T^2` factor is not applied. ``mask``/``normalise``: see :func:`masked_mean`
    (``normalise="none"`` returns the per-position tensor of shape ``logits.shape[:-1]``).
    Half-precision inputs are computed, and returned, in float32.
    """
    check_choice(name, "name", DIVERGENCES)
    beta = check_weight(beta, "beta")
    check_choice(normalise, "normalise", NORMALISATIONS)
    log_q, log_p = _log_probabilities(student_logits, teacher_logits, T)
    if name == "forward_kl":
        per_position = _kl_from_logs(log_p, log_q)
    elif name == "reverse_kl":
        per_position = _kl_from_logs(log_q, log_p)
    else:
        per_position = _jsd_from_logs(log_q, log_p, beta)
    return masked_mean(per_position, mask, normalise)


def forward_kl(student_logits, teacher_logits, *, T=1.0, mask=None, normalise="token") -> torch.Tensor:
    r""":math:`\mathrm{KL}(p\|q) = \sum_i p_i\log(p_i/q_i)`, the teacher's distribution first.

    No :math:`T^2` factor; arguments as in :func:`divergence`.
    """
    return divergence("forward_kl", student_logits, teacher_logits, T=T, mask=mask, normalise=normalise)


def reverse_kl(student_logits, teacher_logits, *, T=1.0, mask=None, normalise="token") -> torch.Tensor:
    r""":math:`\mathrm{KL}(q\|p) = \sum_i q_i\log(q_i/p_i)`, the student's distribution first.

    No :math:`T^2` factor; arguments as in :func:`divergence`.
    """
    return divergence("reverse_kl", student_logits, teacher_logits, T=T, mask=mask, normalise=normalise)


def generalized_jsd(
    student_logits, teacher_logits, *, beta=0.5, T=1.0, mask=None, normalise="token"
) -> torch.Tensor:
    r""":math:`\beta\,\mathrm{KL}(p\|m) + (1-\beta)\,\mathrm{KL}(q\|m)` with :math:`m = \beta p + (1-\beta)q`.

    No :math:`T^2` factor; arguments as in :func:`divergence`.

    ``beta`` in [0, 1]; ``beta = 0`` and ``beta = 1`` give 0 *exactly* (not the forward or reverse KL:
    those are the limits of :math:`\mathrm{JSD}_\beta/\beta` and :math:`\mathrm{JSD}_\beta/(1-\beta)`).
    At ``beta = 0.5`` it is the Jensen-Shannon divergence, at most :math:`\log 2`.
    """
    return divergence("jsd", student_logits, teacher_logits, beta=beta, T=T, mask=mask, normalise=normalise)


__all__ = [
    "DIVERGENCES",
    "NORMALISATIONS",
    "divergence",
    "forward_kl",
    "generalized_jsd",
    "mask_from_targets",
    "masked_mean",
    "prompt_mask",
    "reverse_kl",
]
