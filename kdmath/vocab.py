r"""Cheap approximations of :math:`\mathrm{KL}(p\,\|\,q)` over a large vocabulary.

With teacher soft targets :math:`p = \sigma_T(z_t)` and student soft predictions
:math:`q = \sigma_T(z_s)` over :math:`K` tokens, and :math:`S_k` the teacher's :math:`k`
most probable tokens, :math:`P = \sum_{i \in S_k} p_i`, :math:`Q = \sum_{i \in S_k} q_i`:

* **bucketed top-k** keeps the tokens of :math:`S_k` and merges all others into one class,

  .. math::

      \mathrm{KL}_k^{\mathrm{bucket}} = \sum_{i \in S_k} p_i \log\frac{p_i}{q_i}
          + (1 - P)\log\frac{1 - P}{1 - Q}.

  By the log-sum inequality it never exceeds the full divergence, equals it at
  :math:`k = K`, and the gap is exactly :math:`(1-P)\,\mathrm{KL}(p_{\bar S}\,\|\,q_{\bar S})`,
  the tail's divergence between the tail-renormalised distributions (chapter 6);
* **renormalised top-k** drops the tail and renormalises both distributions on :math:`S_k`,

  .. math::

      \mathrm{KL}_k^{\mathrm{renorm}} = \sum_{i \in S_k} \frac{p_i}{P}
          \log\frac{p_i / P}{q_i / Q},

  which can lie above or below the full divergence;
* **sampled** draws :math:`m` tokens :math:`i_1, \dots, i_m` from a proposal :math:`r` and
  averages importance-weighted terms,

  .. math::

      \widehat{\mathrm{KL}} = \frac1m \sum_{l=1}^m \frac{p_{i_l}}{r_{i_l}} \log\frac{p_{i_l}}{q_{i_l}},

  unbiased whenever :math:`r_i > 0` wherever :math:`p_i > 0`. With :math:`r = p` (the
  default) every weight is exactly 1 and the variance of one term is
  :math:`\mathrm{Var}_p[\log(p/q)]`.

All three take :math:`q_i` with the student's **full** log-normaliser,
:math:`\log q_i = z_{s,i}/T - \log\sum_{j=1}^K e^{z_{s,j}/T}`: restricting the *sum* of the KL
to a few tokens does not spare the student its softmax over the whole vocabulary.

Logits have the class (token) axis last and any leading shape; every function returns one
value per position, of shape ``logits.shape[:-1]``, and is differentiable in ``z_s``.
"""

from __future__ import annotations

import numbers
from typing import Optional

import torch

from ._checks import check_choice, check_logits, check_temperature, working_dtype
from .softmax import _log_softmax_t

TAILS = ("bucket", "renormalize")


def _check_k(k: object, K: int, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(k).__name__}")
    k = int(k)
    if not 1 <= k <= K:
        raise ValueError(f"{name} must satisfy 1 <= {name} <= K = {K}, got {k}")
    return k


def _check_pair(z_s: object, z_t: object) -> tuple[torch.Tensor, torch.Tensor]:
    check_logits(z_s, "z_s")
    check_logits(z_t, "z_t")
    if z_t.shape != z_s.shape:
        raise ValueError(f"z_t must have the shape of z_s, got {tuple(z_t.shape)} and {tuple(z_s.shape)}")
    if z_t.device != z_s.device:
        raise ValueError(f"z_t is on {z_t.device} but z_s is on {z_s.device}")
    student = working_dtype(z_s)
    return student, working_dtype(z_t).to(student.dtype)


def _xlogy_ratio(a: torch.Tensor, log_a: torch.Tensor, log_b: torch.Tensor) -> torch.Tensor:
    """``a * (log_a - log_b)``, with the convention ``0 log(0 / b) = 0``."""
    return torch.where(a > 0, a * (log_a - log_b), torch.zeros_like(a))


def top_k_kl(
    z_s: torch.Tensor, z_t: torch.Tensor, k: int, T: float = 1.0, tail: str = "bucket"
) -> torch.Tensor:
    r"""Return :math:`\mathrm{KL}(p\|q)` restricted to the teacher's top-``k`` tokens, per position.

    ``tail="bucket"``: :math:`\sum_{i\in S_k} p_i\log(p_i/q_i) + (1-P)\log\frac{1-P}{1-Q}`, the
    divergence after merging every token outside :math:`S_k` into one catch-all class; the
    :math:`q_i` are the student's exact probabilities (full log-normaliser). Never larger
    than the full divergence; equal to it at ``k = K``.

    ``tail="renormalize"``: :math:`\sum_{i\in S_k} \frac{p_i}{P}\log\frac{p_i/P}{q_i/Q}`, the
    divergence between ``p`` and ``q`` renormalised on :math:`S_k`; it may over- or
    underestimate the full divergence.

    :math:`S_k` holds the ``k`` largest teacher logits (ties broken by ``torch.topk``).
    ``k`` must be an int with ``1 <= k <= K``; ``tail`` one of ``"bucket"``, ``"renormalize"``.
    """
    student, teacher = _check_pair(z_s, z_t)
    K = student.shape[-1]
    k = _check_k(k, K)
    T = check_temperature(T)
    check_choice(tail, "tail", TAILS)

    log_q = _log_softmax_t(student, T)
    log_p = _log_softmax_t(teacher, T)
    top = teacher.topk(k, dim=-1).indices
    log_p_top = log_p.gather(-1, top)
    log_q_top = log_q.gather(-1, top)

    if tail == "renormalize":
        log_p_renorm = log_p_top - log_p_top.logsumexp(-1, keepdim=True)
        log_q_renorm = log_q_top - log_q_top.logsumexp(-1, keepdim=True)
        return _xlogy_ratio(log_p_renorm.exp(), log_p_renorm, log_q_renorm).sum(-1)

    head = _xlogy_ratio(log_p_top.exp(), log_p_top, log_q_top).sum(-1)
    if k == K:
        return head
    # The tail masses from the tokens outside S_k, not as 1 - P (which cancels when P ~ 1).
    outside = torch.ones_like(log_p, dtype=torch.bool).scatter(-1, top, False)
    minus_inf = torch.tensor(float("-inf"), dtype=log_p.dtype, device=log_p.device)
    log_p_tail = torch.where(outside, log_p, minus_inf).logsumexp(-1)
    log_q_tail = torch.where(outside, log_q, minus_inf).logsumexp(-1)
    return head + _xlogy_ratio(log_p_tail.exp(), log_p_tail, log_q_tail)


def top_k_mass(z_t: torch.Tensor, k: int, T: float = 1.0) -> torch.Tensor:
    r"""Return :math:`P = \sum_{i \in S_k} p_i`, the teacher mass on its ``k`` most probable tokens.

    ``p = softmax(z_t / T)``; ``k`` must be an int with ``1 <= k <= K``. One value per position.
    """
    check_logits(z_t, "z_t")
    teacher = working_dtype(z_t)
    k = _check_k(k, teacher.shape[-1])
    T = check_temperature(T)
    log_p = _log_softmax_t(teacher, T)
    return log_p.topk(k, dim=-1).values.logsumexp(-1).exp()


def sampled_kl(
    z_s: torch.Tensor,
    z_t: torch.Tensor,
    num_samples: int,
    T: float = 1.0,
    proposal: Optional[torch.Tensor] = None,
    generator: Optional[torch.Generator] = None,
) -> torch.Tensor:
    r"""Return the importance-sampling estimate :math:`\frac1m\sum_{l} \frac{p_{i_l}}{r_{i_l}}\log\frac{p_{i_l}}{q_{i_l}}`.

    For each position, ``num_samples`` (:math:`m`) tokens are drawn with replacement from the
    proposal :math:`r`. ``proposal=None`` means :math:`r = p`, and then every weight
    :math:`p_i/r_i` is exactly 1. Otherwise ``proposal`` holds probabilities of the logits'
    shape, non-negative, each row summing to 1, and positive wherever ``p`` is (else the
    estimate is biased, so that is refused). The estimate is unbiased; with :math:`r = p`
    its variance is :math:`\mathrm{Var}_p[\log(p/q)]/m`. Pass a seeded ``torch.Generator``
    for reproducible draws.
    """
    student, teacher = _check_pair(z_s, z_t)
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise TypeError(f"num_samples must be an int, got {type(num_samples).__name__}")
    num_samples = int(num_samples)
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    T = check_temperature(T)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")

    log_q = _log_softmax_t(student, T)
    log_p = _log_softmax_t(teacher, T)
    p = log_p.exp()
    if proposal is None:
        r = p.detach()
    else:
        r = _check_proposal(proposal, p)

    K = student.shape[-1]
    flat_r = r.reshape(-1, K)
    if flat_r.shape[0] == 0:
        return student.new_zeros(student.shape[:-1])
    drawn = torch.multinomial(flat_r, num_samples, replacement=True, generator=generator)
    drawn = drawn.reshape(*student.shape[:-1], num_samples)
    log_ratio = log_p.gather(-1, drawn) - log_q.gather(-1, drawn)
    if proposal is None:
        return log_ratio.mean(-1)  # the weights p_i / r_i are exactly 1
    weight = p.gather(-1, drawn) / r.gather(-1, drawn)
    return (weight * log_ratio).mean(-1)


def _check_proposal(proposal: object, p: torch.Tensor) -> torch.Tensor:
    if not isinstance(proposal, torch.Tensor):
        raise TypeError(f"proposal must be a torch.Tensor of probabilities or None, got {type(proposal).__name__}")
    if not proposal.is_floating_point():
        raise TypeError(f"proposal must be a floating-point tensor, got dtype {proposal.dtype}")
    if proposal.shape != p.shape:
        raise ValueError(f"proposal must have the shape of the logits, {tuple(p.shape)}, got {tuple(proposal.shape)}")
    r = proposal.detach().to(device=p.device, dtype=p.dtype)
    if not bool(torch.isfinite(r).all()) or bool((r < 0).any()):
        raise ValueError("proposal must hold finite, non-negative probabilities")
    if not torch.allclose(r.sum(-1), torch.ones_like(r[..., 0]), rtol=0, atol=1e-6):
        raise ValueError("proposal must sum to 1 along the last axis")
    if bool(((r == 0) & (p > 0)).any()):
        raise ValueError("proposal must be > 0 wherever the teacher's p is > 0 (else the estimate is biased)")
    return r
