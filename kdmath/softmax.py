r"""The temperature softmax and the quantities the book derives from it.

.. math::

    \sigma_T(z)_i = \frac{\exp(z_i/T)}{\sum_{j=1}^K \exp(z_j/T)}, \qquad T > 0.

Numerically we subtract the largest logit *before* dividing by ``T``:
``(z - max z) / T`` has a relative error of one rounding, whereas ``z/T - max(z/T)``
carries an absolute error of order ``|z|/T`` times the machine epsilon, which at
``|z| = 1e4`` and ``T = 1e-4`` is several units in the exponent. At ``T = 1`` there is
nothing to divide, and (log-)softmax subtracts the maximum itself, so the extra pass is skipped.
"""

from __future__ import annotations

import torch

from ._checks import check_dim, check_logits, check_temperature, working_dtype


def _scaled_shifted(logits: torch.Tensor, T: float, dim: int) -> torch.Tensor:
    # At T = 1 (log-)softmax subtracts the maximum itself, exactly as here: no extra pass is needed.
    if T == 1.0:
        return logits
    return (logits - logits.amax(dim=dim, keepdim=True)).div_(T)  # in place: the difference is a new tensor


def _log_softmax_t(logits: torch.Tensor, T: float, dim: int = -1) -> torch.Tensor:
    return torch.log_softmax(_scaled_shifted(logits, T, dim), dim=dim)


def _softmax_t(logits: torch.Tensor, T: float, dim: int = -1) -> torch.Tensor:
    return torch.softmax(_scaled_shifted(logits, T, dim), dim=dim)


def log_softmax_t(logits: torch.Tensor, T: float, dim: int = -1) -> torch.Tensor:
    r"""Return :math:`\log \sigma_T(z)` along ``dim``.

    Finite for every finite input: for ``T`` from 1e-4 to 1e4 and logits up to 1e4
    in float32 the result has no inf or NaN (the log-probability of a class far
    below the maximum is a large negative number, not ``-inf``). float16 and
    bfloat16 inputs are computed and returned in float32.
    """
    check_logits(logits, "logits")
    T = check_temperature(T)
    dim = check_dim(dim, logits)
    return _log_softmax_t(working_dtype(logits), T, dim)


def softmax_t(logits: torch.Tensor, T: float, dim: int = -1) -> torch.Tensor:
    r"""Return :math:`\sigma_T(z) = \operatorname{softmax}(z/T)` along ``dim``.

    As ``T -> 0`` this tends to the one-hot vector of the argmax (uniform over tied
    maxima); as ``T -> inf`` it tends to the uniform distribution ``1/K``.
    """
    return log_softmax_t(logits, T, dim).exp()


def softmax_t_jacobian(logits: torch.Tensor, T: float) -> torch.Tensor:
    r"""Return the Jacobian :math:`\partial \sigma_T(z)_i / \partial z_j = \tfrac1T q_i(\delta_{ij} - q_j)`.

    ``logits`` has shape ``(..., K)``; the result has shape ``(..., K, K)`` with
    ``i`` on the second-to-last axis and ``j`` on the last.
    """
    q = softmax_t(logits, T)
    T = float(T)
    return (torch.diag_embed(q) - q.unsqueeze(-1) * q.unsqueeze(-2)) / T


def entropy_t(logits: torch.Tensor, T: float) -> torch.Tensor:
    r"""Return the entropy :math:`H(\sigma_T(z)) = -\sum_i q_i \log q_i` in nats, over the last axis."""
    logq = log_softmax_t(logits, T)
    return -(logq.exp() * logq).sum(-1)


def entropy_t_dT(logits: torch.Tensor, T: float) -> torch.Tensor:
    r"""Return :math:`dH/dT = \operatorname{Var}_{q}(z) / T^3`, the closed form derived in chapter 1.

    :math:`\operatorname{Var}_q(z) = \sum_i q_i (z_i - \bar z_q)^2` with
    :math:`\bar z_q = \sum_i q_i z_i`; it is never negative, so the entropy never
    decreases as the temperature rises.
    """
    q = softmax_t(logits, T)
    z = working_dtype(logits)
    mean = (q * z).sum(-1, keepdim=True)
    variance = (q * (z - mean) ** 2).sum(-1)
    return variance / float(T) ** 3


def logits_for(probabilities, T: float) -> torch.Tensor:
    r"""Logits :math:`z = T \log p` that give the distribution ``probabilities`` at temperature ``T``.

    The inverse of :func:`softmax_t` up to a constant: any :math:`z + c\mathbf 1` gives the same
    :math:`p`, and this is the one with :math:`\sum_i e^{z_i/T} = 1`. Used wherever a source
    states an example in probabilities (chapters 2, 5 and 6, the claims ledger).

    Parameters
    ----------
    probabilities:
        A sequence or tensor of positive numbers summing to 1 along the last axis (double precision).
    T:
        Temperature, finite and > 0.
    """
    T = check_temperature(T)
    if isinstance(probabilities, (str, bytes)):
        raise TypeError("probabilities must be a sequence or tensor of numbers, got a string")
    try:
        p = torch.as_tensor(probabilities, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"probabilities must be a sequence or tensor of numbers ({error})") from error
    if p.ndim == 0 or p.shape[-1] < 2:
        raise ValueError(f"probabilities must hold at least two classes, got shape {tuple(p.shape)}")
    if not bool(torch.isfinite(p).all()) or not bool((p > 0).all()):
        raise ValueError("probabilities must be finite and > 0 (a zero probability has no finite logit)")
    if not torch.allclose(p.sum(-1), torch.ones((), dtype=torch.float64), rtol=0, atol=1e-9):
        raise ValueError(f"probabilities must sum to 1, got sums {p.sum(-1).tolist()}")
    return T * p.log()
