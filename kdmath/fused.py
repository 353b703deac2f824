r"""The distillation loss of a language model straight from hidden states, without the logits.

A language model's logits are its last hidden states times the unembedding matrix,
:math:`z_s = h_s W_s^\top (+ b_s)` and :math:`z_t = h_t W_t^\top (+ b_t)`, with ``N`` positions and a
vocabulary of ``V`` tokens. At ``N = 8192`` and ``V = 32768`` one float32 ``(N, V)`` tensor is 1 GiB, and
autograd through ``log_softmax`` keeps several of them. :func:`linear_kd_loss` gives the value
:func:`kdmath.kd_loss` (and :mod:`kdmath.divergences`) would give on those logits while holding only one
chunk of rows at a time.

**The loss.** With :math:`p = \sigma_T(z_t)` (teacher), :math:`q = \sigma_T(z_s)` (student), :math:`q^{(1)} =
\sigma_1(z_s)` and target token :math:`y`, each position contributes

.. math::

    \ell = (1-\alpha)\,\bigl(-\log q^{(1)}_y\bigr) + \alpha\,T^2\,D(p, q),

with :math:`D` one of :math:`\mathrm{KL}(p\|q)` (``"forward_kl"``), :math:`\mathrm{KL}(q\|p)`
(``"reverse_kl"``) or :math:`\mathrm{JSD}_\beta = \beta\,\mathrm{KL}(p\|m) + (1-\beta)\,\mathrm{KL}(q\|m)`,
:math:`m = \beta p + (1-\beta) q` (``"jsd"``). The loss is the mean of :math:`\ell` over the :math:`n`
positions whose target is not ``ignore_index`` (all ``N`` positions when there is no target, which needs
:math:`\alpha = 1`).

**The closed-form gradients** with respect to one kept position's student logits (writing
:math:`\partial_{z}` for :math:`\partial \ell/\partial z_s`; ignored positions get exactly 0). Since
:math:`\partial \log q_i / \partial z_j = (\delta_{ij} - q_j)/T`:

.. math::

    \partial_z\,\bigl[-\log q^{(1)}_y\bigr] &= q^{(1)} - e_y, \\
    \partial_z\,\bigl[T^2\,\mathrm{KL}(p\|q)\bigr] &= T\,(q - p), \\
    \partial_z\,\bigl[T^2\,\mathrm{KL}(q\|p)\bigr]
        &= T\,q \odot \bigl(\log q - \log p - \mathrm{KL}(q\|p)\bigr), \\
    \partial_z\,\bigl[T^2\,\mathrm{JSD}_\beta\bigr]
        &= T\,(1-\beta)\,q \odot \bigl(\log q - \log m - \mathrm{KL}(q\|m)\bigr).

(For the JSD: :math:`\partial\mathrm{JSD}_\beta/\partial q_i = (1-\beta)(\log q_i - \log m_i + 1)
- (1-\beta)\,(\beta p_i + (1-\beta) q_i)/m_i = (1-\beta)(\log q_i - \log m_i)`, and the softmax
Jacobian :math:`\partial q_i/\partial z_j = q_i(\delta_{ij} - q_j)/T` centres it under :math:`q`; at
:math:`\beta \in \{0, 1\}` the gradient is 0, as is the value.) Let :math:`G` be the ``(n, V)`` matrix of
these row gradients, weighted by :math:`(1-\alpha)` and :math:`\alpha` and divided by :math:`n`. Then

.. math::

    \frac{\partial L}{\partial h_s} = G\,W_s, \qquad \frac{\partial L}{\partial W_s} = G^\top h_s, \qquad
    \frac{\partial L}{\partial b_s} = \mathbf{1}^\top G,

all accumulated chunk by chunk *during the forward pass*; backward only multiplies them by the incoming
gradient. Peak memory is therefore a few ``(chunk, V)`` buffers plus the weight gradient, instead of several
``(N, V)`` tensors.

**The teacher is a constant**: its hidden states, weight and bias are detached and get no gradient
(as when one passes ``teacher_logits.detach()`` to :func:`kdmath.kd_loss`). Log-probabilities come from
``log_softmax`` of max-shifted logits and :math:`\log m` from ``logaddexp``, so no probability is ever logged.

**Other libraries' settings** (:mod:`kdmath.conventions` holds them as tested presets). :math:`\beta` weighs the
*teacher's* term, so ``beta`` near 0 behaves like :math:`\beta\,\mathrm{KL}(p\|q)` (forward) and near 1 like
:math:`(1-\beta)\,\mathrm{KL}(q\|p)` (reverse); at exactly 0 and 1 the value is 0. TRL's
``generalized_jsd_loss`` uses the same :math:`\beta` and mixture for :math:`0 < \beta < 1`, but at
``beta=0`` and ``beta=1`` it switches to the plain forward and reverse KL: pass ``divergence="forward_kl"``
or ``"reverse_kl"`` here; it has no :math:`T^2` (divide the loss by :math:`T^2`, or take ``T=1``, which
TRL's trainer always uses). Liger-Kernel's fused linear JSD (``jsd_beta``) weighs the soft term and the hard
term with two independent weights and no :math:`T^2`: its ``w_soft * JSD_T + w_hard * CE`` is
:math:`c` times this loss at :math:`\alpha = w_\mathrm{soft} / (w_\mathrm{soft} + T^2 w_\mathrm{hard})`,
:math:`c = w_\mathrm{soft}/T^2 + w_\mathrm{hard}` (``kdmath.conventions.to_book`` computes it).
"""

from __future__ import annotations

import math
import numbers

import torch

from ._checks import check_choice, check_temperature, check_weight
from .divergences import DIVERGENCES

#: Target size of one chunk of logits, in elements (2**23 float32 numbers are 32 MiB).
CHUNK_ELEMENTS = 2**23


# --------------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------------


def _check_float_tensor(value: object, name: str, dims: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if value.dim() not in dims:
        shapes = " or ".join(f"{d}-d" for d in dims)
        raise ValueError(f"{name} must be {shapes}, got shape {tuple(value.shape)}")
    if not bool(torch.isfinite(value.detach().sum())) and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return value


def _check_hidden_and_weight(hidden, weight, bias, side: str):
    hidden = _check_float_tensor(hidden, f"{side}_hidden", (2, 3))
    weight = _check_float_tensor(weight, f"{side}_weight", (2,))
    if weight.shape[0] == 0:
        raise ValueError(f"{side}_weight must have at least one row (token), got shape {tuple(weight.shape)}")
    if weight.shape[1] != hidden.shape[-1]:
        raise ValueError(
            f"{side}_weight must have shape (V, {hidden.shape[-1]}) to match {side}_hidden's last axis, "
            f"got {tuple(weight.shape)}"
        )
    if weight.dtype != hidden.dtype:
        raise TypeError(f"{side}_weight has dtype {weight.dtype} but {side}_hidden has dtype {hidden.dtype}")
    if weight.device != hidden.device:
        raise ValueError(f"{side}_weight is on {weight.device} but {side}_hidden is on {hidden.device}")
    if bias is not None:
        bias = _check_float_tensor(bias, f"{side}_bias", (1,))
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(
                f"{side}_bias must have shape ({weight.shape[0]},) (one per token of {side}_weight), "
                f"got {tuple(bias.shape)}"
            )
        if bias.dtype != hidden.dtype:
            raise TypeError(f"{side}_bias has dtype {bias.dtype} but {side}_hidden has dtype {hidden.dtype}")
        if bias.device != hidden.device:
            raise ValueError(f"{side}_bias is on {bias.device} but {side}_hidden is on {hidden.device}")
    return hidden, weight, bias


def _check_target(target, positions_shape, V: int, ignore_index: int, device) -> torch.Tensor:
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor of token ids or None, got {type(target).__name__}")
    if target.is_floating_point() or target.is_complex() or target.dtype == torch.bool:
        raise TypeError(f"target must hold integer token ids, got dtype {target.dtype}")
    if target.shape != positions_shape:
        raise ValueError(
            f"target must have shape {tuple(positions_shape)} (the hidden states without their last axis), "
            f"got {tuple(target.shape)}"
        )
    if target.device != device:
        raise ValueError(f"target is on {target.device} but the hidden states are on {device}")
    kept = target != ignore_index
    bad = kept & ((target < 0) | (target >= V))
    if bool(bad.any()):
        raise ValueError(
            f"target holds token id {target[bad].flatten()[0].item()}, outside [0, {V}) "
            f"and not ignore_index={ignore_index}"
        )
    return target


def _check_chunk_size(chunk_size: object, V: int) -> int:
    if chunk_size is None:
        return max(1, CHUNK_ELEMENTS // V)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, numbers.Integral):
        raise TypeError(f"chunk_size must be an int >= 1 or None, got {type(chunk_size).__name__}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    return int(chunk_size)


# --------------------------------------------------------------------------------------------------
# One chunk: value and closed-form gradient with respect to the student logits
# --------------------------------------------------------------------------------------------------


def _compute_dtype(dtype: torch.dtype) -> torch.dtype:
    # log-sum-exp in 16 bits loses too much; float64 stays float64.
    return torch.float32 if dtype in (torch.float16, torch.bfloat16) else dtype


def _logits(hidden: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, dtype) -> torch.Tensor:
    """A *fresh* ``(rows, V)`` tensor of logits in ``dtype`` (the callers modify it in place)."""
    logits = hidden @ weight.t() if bias is None else torch.addmm(bias, hidden, weight.t())
    return logits.to(dtype) if logits.dtype != dtype else logits


def _log_softmax_in_place(logits: torch.Tensor, T: float) -> torch.Tensor:
    """``log_softmax(logits / T)``; shifting by the maximum before dividing by T, as kdmath.softmax does."""
    logits.sub_(logits.amax(-1, keepdim=True))
    if T != 1.0:
        logits.div_(T)
    return torch.log_softmax(logits, -1)


def _divergence_and_grad(name, log_q, log_p, beta, soft_coef, q_coef):
    """Per-row ``D(p, q)`` and ``soft_coef / T * dD/dz_s + q_coef * q``, overwriting ``log_q`` and ``log_p``.

    ``soft_coef = alpha * T / n`` turns ``dD/dz_s / T`` (the bracket of the module docstring) into the soft
    term's share of G; ``q_coef * q`` lets the hard term at T = 1, whose softmax *is* q, share the buffer.
    """
    if name == "forward_kl":
        diff = log_p - log_q
        p = log_p.exp_()
        value = diff.mul_(p).sum(-1)
        del diff
        q = log_q.exp_()
        return value, q.mul_(soft_coef + q_coef).sub_(p, alpha=soft_coef)
    if name == "reverse_kl":
        diff = log_q - log_p
        del log_p
        q = log_q.exp_()
        value = (q * diff).sum(-1)
        grad = diff.sub_(value.unsqueeze(-1)).mul_(q).mul_(soft_coef)
        return value, grad.add_(q, alpha=q_coef) if q_coef else grad
    log_beta = math.log(beta) if beta > 0.0 else -math.inf
    log_rest = math.log1p(-beta) if beta < 1.0 else -math.inf
    # logaddexp(-inf, x) is x exactly, so beta = 0 gives log m = log q and a zero divergence.
    log_m = torch.logaddexp(log_p + log_beta, log_q + log_rest)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(-1)
    del log_p
    q_diff = log_q - log_m
    del log_m
    q = log_q.exp_()
    kl_qm = (q * q_diff).sum(-1)
    value = beta * kl_pm + (1.0 - beta) * kl_qm
    grad = q_diff.sub_(kl_qm.unsqueeze(-1)).mul_(q).mul_(soft_coef * (1.0 - beta))
    return value, grad.add_(q, alpha=q_coef) if q_coef else grad


def _chunk(h_s, W_s, b_s, h_t, W_t, b_t, target, settings):
    """The summed loss of a chunk of kept rows and the gradient ``G`` with respect to its student logits."""
    T, alpha, name, beta, n, dtype = settings
    hard_coef = (1.0 - alpha) / n if target is not None else 0.0
    soft_coef = alpha * T / n
    z_s = _logits(h_s, W_s, b_s, dtype)
    rows = torch.arange(z_s.shape[0], device=z_s.device)
    loss = z_s.new_zeros(())
    grad = None
    hard_shares_q = hard_coef and alpha > 0.0 and T == 1.0
    if hard_coef and not hard_shares_q:
        log_q1 = torch.log_softmax(z_s, -1)
        loss = loss - (1.0 - alpha) * log_q1[rows, target].sum()
        grad = log_q1.exp_().mul_(hard_coef)
        del log_q1
    if alpha > 0.0:
        log_q = _log_softmax_in_place(z_s, T)
        del z_s
        if hard_shares_q:
            loss = loss - (1.0 - alpha) * log_q[rows, target].sum()
        log_p = _log_softmax_in_place(_logits(h_t, W_t, b_t, dtype), T)
        value, soft_grad = _divergence_and_grad(
            name, log_q, log_p, beta, soft_coef, hard_coef if hard_shares_q else 0.0
        )
        del log_q, log_p
        loss = loss + (alpha * T * T) * value.sum()
        grad = soft_grad if grad is None else grad.add_(soft_grad)
    if hard_coef:
        grad.index_put_((rows, target), grad.new_full((), -hard_coef), accumulate=True)
    return loss, grad


def _fused_pass(h_s, W_s, b_s, h_t, W_t, b_t, target, settings, chunk_size, needs):
    """Loss and (when ``needs`` asks) the gradients w.r.t. the kept rows of h_s, W_s and b_s."""
    dtype = settings[-1]
    N = h_s.shape[0]
    need_h, need_W, need_b = needs
    grad_h = torch.empty_like(h_s) if need_h else None
    grad_W = torch.zeros(W_s.shape, dtype=dtype, device=W_s.device) if need_W else None
    grad_b = torch.zeros(W_s.shape[0], dtype=dtype, device=W_s.device) if need_b else None
    loss = torch.zeros((), dtype=dtype, device=h_s.device)
    for start in range(0, N, chunk_size):
        stop = min(start + chunk_size, N)
        part_target = None if target is None else target[start:stop]
        part_loss, grad = _chunk(
            h_s[start:stop], W_s, b_s, h_t[start:stop], W_t, b_t, part_target, settings
        )
        loss += part_loss
        if need_h:
            grad_h[start:stop] = grad.to(W_s.dtype) @ W_s
        if need_W:
            grad_W.addmm_(grad.t(), h_s[start:stop].to(dtype))
        if need_b:
            grad_b += grad.sum(0)
        del grad
    return loss / settings[4], grad_h, grad_W, grad_b


class _LinearKDLoss(torch.autograd.Function):
    """Forward computes the loss *and* the student gradients; backward scales them by ``grad_output``.

    Not twice differentiable.
    """

    @staticmethod
    def forward(ctx, h_s, W_s, b_s, h_t, W_t, b_t, target, kept_index, settings, chunk_size):
        need_h, need_W, need_b = ctx.needs_input_grad[:3]
        needs = (need_h, need_W, b_s is not None and need_b)
        kept_h_s = h_s if kept_index is None else h_s[kept_index]
        loss, grad_h, grad_W, grad_b = _fused_pass(
            kept_h_s, W_s, b_s, h_t, W_t, b_t, target, settings, chunk_size, needs
        )
        if grad_h is not None and kept_index is not None:
            grad_h = torch.zeros_like(h_s).index_copy_(0, kept_index, grad_h)
        ctx.gradients = (grad_h, grad_W, grad_b)
        ctx.dtypes = (h_s.dtype, W_s.dtype, None if b_s is None else b_s.dtype)
        return loss

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_output):
        scaled = [
            None if g is None else (g * grad_output.to(g.dtype)).to(dtype)
            for g, dtype in zip(ctx.gradients, ctx.dtypes)
        ]
        ctx.gradients = None
        return scaled[0], scaled[1], scaled[2], None, None, None, None, None, None, None


def linear_kd_loss(
    student_hidden: torch.Tensor,
    student_weight: torch.Tensor,
    teacher_hidden: torch.Tensor,
    teacher_weight: torch.Tensor,
    target: torch.Tensor | None = None,
    *,
    T: float = 1.0,
    alpha: float = 1.0,
    divergence: str = "forward_kl",
    beta: float = 0.5,
    ignore_index: int = -100,
    student_bias: torch.Tensor | None = None,
    teacher_bias: torch.Tensor | None = None,
    chunk_size: int | None = None,
) -> torch.Tensor:
    r"""The distillation loss on logits ``h @ W.T (+ b)`` of student and teacher, without materialising them.

    Parameters
    ----------
    student_hidden, teacher_hidden:
        ``(N, d_s)`` and ``(N, d_t)`` hidden states, or ``(B, L, d_s)`` and ``(B, L, d_t)`` (flattened to
        ``N = B L`` positions). The leading shapes must agree.
    student_weight, teacher_weight:
        ``(V, d_s)`` and ``(V, d_t)`` unembedding matrices (same ``V``), each of its hidden states' dtype.
    target:
        Token ids of the hidden states' leading shape, or ``None`` (then ``alpha`` must be 1). Positions
        whose target is ``ignore_index`` are left out of the mean and get zero gradient.
    T, alpha, divergence, beta:
        Temperature (> 0); weight of the soft term in [0, 1]; ``"forward_kl"``, ``"reverse_kl"`` or
        ``"jsd"`` (see :mod:`kdmath.divergences`); the JSD's mixing weight in [0, 1] (checked always).
    student_bias, teacher_bias:
        Optional ``(V,)`` biases of the two output layers.
    chunk_size:
        Positions per chunk; default ``max(1, 2**23 // V)`` (32 MiB of float32 logits per chunk).

    Returns the mean over kept positions of
    :math:`(1-\alpha)\,\mathrm{CE}(y, \sigma_1(z_s)) + \alpha T^2 D(\sigma_T(z_t), \sigma_T(z_s))`,
    the value :func:`kdmath.kd_loss` gives for ``divergence="forward_kl"``. When every target is
    ``ignore_index`` (or ``N = 0``) the loss is 0 and every gradient is 0. Gradients reach
    ``student_hidden``, ``student_weight`` and ``student_bias`` only; the teacher's tensors are detached
    (treated as constants). The student gradients are computed, in closed form, during the forward call
    and held until backward. bfloat16/float16 inputs are multiplied in their dtype and the softmax, the
    loss (returned in float32) and the weight gradients are computed in float32; float64 stays float64.
    """
    h_s, W_s, b_s = _check_hidden_and_weight(student_hidden, student_weight, student_bias, "student")
    h_t, W_t, b_t = _check_hidden_and_weight(teacher_hidden, teacher_weight, teacher_bias, "teacher")
    if h_t.shape[:-1] != h_s.shape[:-1]:
        raise ValueError(
            "teacher_hidden must have the same leading shape as student_hidden, got "
            f"{tuple(h_t.shape)} and {tuple(h_s.shape)}"
        )
    if W_t.shape[0] != W_s.shape[0]:
        raise ValueError(
            f"teacher_weight has a vocabulary of {W_t.shape[0]} tokens but student_weight has {W_s.shape[0]}"
        )
    if h_t.device != h_s.device:
        raise ValueError(f"teacher_hidden is on {h_t.device} but student_hidden is on {h_s.device}")
    T = check_temperature(T)
    alpha = check_weight(alpha)
    beta = check_weight(beta, "beta")
    check_choice(divergence, "divergence", DIVERGENCES)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"ignore_index must be an int, got {type(ignore_index).__name__}")
    V = W_s.shape[0]
    chunk_size = _check_chunk_size(chunk_size, V)
    positions_shape = h_s.shape[:-1]
    if target is None:
        if alpha != 1.0:
            raise ValueError(f"alpha must be 1 when target is None (soft term only), got {alpha}")
    else:
        target = _check_target(target, positions_shape, V, int(ignore_index), h_s.device)

    h_s = h_s.reshape(-1, h_s.shape[-1])
    h_t, W_t = h_t.detach().reshape(-1, h_t.shape[-1]), W_t.detach()
    b_t = None if b_t is None else b_t.detach()
    kept_index = None
    if target is not None:
        target = target.reshape(-1)
        kept = target != int(ignore_index)
        if not bool(kept.all()):
            # Ignored positions are dropped before any logits are computed; h_s is indexed inside the
            # Function so that its gradient comes back with the full (N, d_s) shape.
            kept_index = kept.nonzero().squeeze(1)
            h_t, target = h_t[kept_index], target[kept_index]
        target = target.long()
    n = h_t.shape[0]
    dtype = _compute_dtype(h_s.dtype)
    if n == 0:
        # Nothing counts: a zero still connected to the student tensors, so backward gives zero gradients.
        zero = (student_hidden.sum() + student_weight.sum()) * 0.0
        if student_bias is not None:
            zero = zero + student_bias.sum() * 0.0
        return zero.to(dtype)
    settings = (T, alpha, divergence, beta, n, dtype)
    students = (student_hidden, student_weight) + (() if student_bias is None else (student_bias,))
    if torch.is_grad_enabled() and any(t.requires_grad for t in students):
        return _LinearKDLoss.apply(h_s, W_s, b_s, h_t, W_t, b_t, target, kept_index, settings, chunk_size)
    with torch.no_grad():
        kept_h_s = h_s if kept_index is None else h_s[kept_index]
        return _fused_pass(kept_h_s, W_s, b_s, h_t, W_t, b_t, target, settings, chunk_size, (False,) * 3)[0]


__all__ = ["CHUNK_ELEMENTS", "linear_kd_loss"]
