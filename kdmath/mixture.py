r"""Mode covering versus mode seeking, in one dimension: a Gaussian fitted to a two-mode teacher.

The teacher is :math:`p(x) = \tfrac12\,\mathcal N(x; -2, 0.6^2) + \tfrac12\,\mathcal N(x; 2, 0.6^2)`; the
student is one Gaussian :math:`q(x) = \mathcal N(x; \mu, \sigma^2)`. On a uniform grid
:math:`x_1 < \dots < x_n` each density becomes a distribution over the grid points, with Riemann weights

.. math::

    \tilde p_i = \frac{p(x_i)\,\Delta x}{\sum_j p(x_j)\,\Delta x} = \operatorname{softmax}(\log p(x))_i ,

so :math:`\log p(x_i)` and :math:`\log q(x_i)` are *logits* over :math:`n` "classes" and the very functions a
language model is distilled with (:mod:`kdmath.divergences`) measure the divergence; on a grid wide and
fine enough for both densities these sums are the integrals to many digits. :func:`fit_gaussian` then
minimises the chosen divergence over :math:`(\mu, \log\sigma)` by L-BFGS in float64.

What comes out (the tests assert it):

* forward :math:`\mathrm{KL}(p\|q)` is minimised by **moment matching**, :math:`\mu = \mathbb E_p[x] = 0`,
  :math:`\sigma^2 = \operatorname{Var}_p(x) = 0.6^2 + 2^2`: the Gaussian spreads over both modes and puts its
  peak where the teacher has almost no mass;
* reverse :math:`\mathrm{KL}(q\|p)` started near one mode **seeks that mode**: :math:`\mu \approx 2`,
  :math:`\sigma \approx 0.6` (from a start between the modes it stops at a worse, symmetric minimum:
  mode seeking is local);
* :math:`\mathrm{JSD}_\beta` interpolates: as :math:`\beta \to 0` it is :math:`\beta\,\mathrm{KL}(p\|q)` to
  first order, as :math:`\beta \to 1` it is :math:`(1-\beta)\,\mathrm{KL}(q\|p)`. It has both a covering
  and a seeking local minimum; at :math:`\beta = 1/2` the covering one is lower, at
  :math:`\beta = 0.9` the seeking one.
"""

from __future__ import annotations

import math

import torch

from . import divergences as _divergences
from ._checks import check_choice, check_weight
from .divergences import DIVERGENCES

MODES = (-2.0, 2.0)
MODE_SD = 0.6
#: The teacher's moments, which a forward-KL fit matches: mean 0, variance 0.6^2 + 2^2.
TEACHER_MEAN = 0.0
TEACHER_VARIANCE = MODE_SD**2 + 4.0


def _check_grid(x: object) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor (the grid)")
    if x.dim() != 1 or x.numel() < 3:
        raise ValueError(f"x must be a one-dimensional grid of at least 3 points, got shape {tuple(x.shape)}")
    x = x.to(torch.float64)
    if not bool(torch.isfinite(x).all()):
        raise ValueError("x contains NaN or inf")
    steps = x.diff()
    uniform = torch.allclose(steps, steps[0].expand_as(steps), rtol=1e-6, atol=0.0)
    if not bool((steps > 0).all()) or not uniform:
        raise ValueError("x must be increasing with a constant spacing (a uniform grid for the Riemann sums)")
    return x


def gaussian_log_density(x: torch.Tensor, mu, sigma) -> torch.Tensor:
    r""":math:`\log\mathcal N(x; \mu, \sigma^2) = -(x-\mu)^2/(2\sigma^2) - \log\sigma - \log\sqrt{2\pi}`."""
    log_sigma = torch.log(torch.as_tensor(sigma, dtype=x.dtype))
    return -0.5 * ((x - mu) / sigma) ** 2 - log_sigma - 0.5 * math.log(2 * math.pi)


def bimodal_teacher_log_density(x: torch.Tensor) -> torch.Tensor:
    r""":math:`\log p(x)` of the teacher :func:`bimodal_teacher`, by log-sum-exp (float64)."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError("x must be a floating-point torch.Tensor")
    x = x.to(torch.float64)
    parts = torch.stack([gaussian_log_density(x, mode, MODE_SD) for mode in MODES])
    return torch.logsumexp(parts, dim=0) + math.log(0.5)


def bimodal_teacher(x: torch.Tensor) -> torch.Tensor:
    r"""The density :math:`\tfrac12\mathcal N(x; -2, 0.6^2) + \tfrac12\mathcal N(x; 2, 0.6^2)`, in float64."""
    return bimodal_teacher_log_density(x).exp()


def fit_gaussian(
    teacher_density: torch.Tensor,
    x: torch.Tensor,
    divergence: str,
    *,
    beta: float = 0.5,
    init: tuple[float, float] = (0.5, 1.0),
    steps: int = 200,
    lr: float = 1.0,
) -> tuple[float, float]:
    r"""The Gaussian :math:`(\mu, \sigma)` minimising ``divergence`` from the teacher, on the grid ``x``.

    ``teacher_density`` holds :math:`p(x_i) > 0` on the uniform grid ``x`` (the fit works with its log, so a
    density that underflows to 0 on the grid is refused: narrow the grid). ``divergence`` is one of
    :data:`kdmath.divergences.DIVERGENCES`; the teacher is the first distribution of ``"forward_kl"``.
    For ``"jsd"``, ``beta`` must lie strictly inside (0, 1) (at 0 and 1 the divergence is identically
    zero), and the objective is divided by :math:`\beta(1-\beta)` so the optimiser's tolerances mean the
    same for every :math:`\beta` (the minimiser is unchanged).

    The parameters are :math:`\mu` and :math:`\log\sigma`, started at ``init = (mu, sigma)`` and optimised by
    ``torch.optim.LBFGS`` (``lr``, strong-Wolfe line search) for at most ``steps`` iterations, in float64,
    with no randomness: the same arguments give the same floats.
    """
    x = _check_grid(x)
    if not isinstance(teacher_density, torch.Tensor) or not teacher_density.is_floating_point():
        raise TypeError("teacher_density must be a floating-point torch.Tensor")
    if teacher_density.shape != x.shape:
        raise ValueError(
            f"teacher_density must have the shape of x, {tuple(x.shape)}, got {tuple(teacher_density.shape)}"
        )
    density = teacher_density.detach().to(torch.float64)
    if not bool(torch.isfinite(density).all()) or not bool((density > 0).all()):
        raise ValueError(
            "teacher_density must be finite and > 0 at every grid point (narrow the grid if it underflows)"
        )
    check_choice(divergence, "divergence", DIVERGENCES)
    beta = check_weight(beta, "beta")
    if divergence == "jsd" and not 0.0 < beta < 1.0:
        raise ValueError(f"beta must lie strictly in (0, 1) for a JSD fit (JSD_0 = JSD_1 = 0), got {beta}")
    try:
        mu0, sigma0 = (float(v) for v in init)
    except (TypeError, ValueError) as error:
        raise TypeError(f"init must be a pair of numbers (mu, sigma), got {init!r}") from error
    if not (math.isfinite(mu0) and math.isfinite(sigma0) and sigma0 > 0):
        raise ValueError(f"init must be a finite mu and a sigma > 0, got {init!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")

    teacher_logits = density.log()
    scale = beta * (1.0 - beta) if divergence == "jsd" else 1.0
    mu = torch.tensor(mu0, dtype=torch.float64, requires_grad=True)
    log_sigma = torch.tensor(math.log(sigma0), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS(
        [mu, log_sigma], lr=lr, max_iter=steps, tolerance_grad=1e-12, tolerance_change=1e-15,
        history_size=20, line_search_fn="strong_wolfe",
    )

    def closure():
        optimiser.zero_grad()
        # The Gaussian's normalising constant cancels in the softmax, so the logits are its exponent.
        student_logits = -0.5 * ((x - mu) / log_sigma.exp()) ** 2
        loss = _divergences.divergence(divergence, student_logits, teacher_logits, beta=beta)
        loss = loss / scale
        loss.backward()
        return loss

    optimiser.step(closure)
    return float(mu.detach()), float(log_sigma.detach().exp())


__all__ = [
    "MODES",
    "MODE_SD",
    "TEACHER_MEAN",
    "TEACHER_VARIANCE",
    "bimodal_teacher",
    "bimodal_teacher_log_density",
    "fit_gaussian",
    "gaussian_log_density",
]
