r"""Translating other texts' and libraries' distillation losses into the book's loss (chapter 8).

The book's loss (:func:`kdmath.kd_loss`), per position, reduced by the mean over positions:

.. math::

    L_\alpha = (1-\alpha)\,\mathrm{CE}\big(y, \sigma_1(z_s)\big) + \alpha\,T^2\,D(p\,\|\,q),
    \qquad p = \sigma_T(z_t),\ q = \sigma_T(z_s),

with :math:`D = \mathrm{KL}(p\|q)` (or, for the language-model presets, the divergence of
:mod:`kdmath.divergences` that the library computes). A foreign loss puts a weight :math:`w_h` on the
hard term and divides its sum over the :math:`P` positions by :math:`D_h`, and puts :math:`w_s` on the
soft term (times :math:`s = T^2` or 1) and divides its sum by :math:`D_s`. It equals :math:`c\,L_{\alpha}`
(chapter 8, eq. ``ch8-translation``) with

.. math::

    u = \frac{w_h P}{D_h},\quad v = \frac{w_s\, s\, P}{T^2 D_s},\quad c = u + v,\quad
    \alpha_{\mathrm{book}} = \frac{v}{u + v}.

The soft divisors :math:`D_s` (``soft_reduction``): ``"batchmean"`` the first axis (``F.kl_div``'s),
``"mean"`` every element, :math:`P K` (``F.kl_div``'s default), ``"token"`` the :math:`P` positions
(the book's), ``"sum"`` 1. The hard divisors :math:`D_h` (``hard_reduction``): ``"mean"`` :math:`P`,
``"sum"`` 1. The cross-entropy form of the soft term adds :math:`\alpha T^2 H(p)` to the value and nothing
to the gradient.
:math:`c` only rescales the learning rate; :math:`\alpha_{\mathrm{book}}` sets the balance.

Public API: :class:`Convention`, :data:`PRESETS`, :func:`to_book` (a convention and the library's own
keyword settings), :func:`translate` (chapter 8's helper, the generic settings), :func:`book_loss` (evaluates
the translated settings, also for the JSD/reverse-KL presets that :func:`kdmath.kd_loss` does not cover),
:class:`Translation`, :class:`NotTranslatableError`.

What the presets rely on
------------------------
Each preset is documented by the formula its ``notes`` state. The formulas were read from the source of
the released packages named below (installed from PyPI with ``--no-deps``; no code copied). The optional
tests in ``tests/test_kdmath_conventions.py`` run the library's own code where it imports without its
heavy dependencies, and are skipped otherwise; the tests that always run check each preset against a
hand-written implementation of the documented formula.

* torchdistill 1.1.5, ``torchdistill.losses.mid_level.KDLoss``: ``alpha * CE(z_s, y) + beta * T**2 *
  KLDivLoss(reduction)(log_softmax(z_s/T, dim=1), softmax(z_t/T, dim=1))``, ``beta = 1 - alpha`` unless
  given, CE ``"mean"`` when the KL reduction is ``"batchmean"``. **alpha weights the hard term**.
* TRL 1.16.0, ``trl.experimental.gkd.GKDTrainer.generalized_jsd_loss``: logits divided by ``temperature``,
  :math:`m = \beta p + (1-\beta) q`, :math:`\beta\,\mathrm{KL}(p\|m) + (1-\beta)\,\mathrm{KL}(q\|m)`
  (the same :math:`\beta` as :func:`kdmath.divergences.generalized_jsd`), but :math:`\beta = 0` is
  computed as :math:`\mathrm{KL}(p\|q)` and :math:`\beta = 1` as :math:`\mathrm{KL}(q\|p)`. No :math:`T^2`,
  no hard term. ``reduction="batchmean"``: the sum over positions and vocabulary divided by the number of
  unmasked tokens when ``labels`` are given (``GKDTrainer`` always gives them), by the first axis (the
  number of sequences) when not; ``"mean"`` divides by every element.
* Liger-Kernel 0.8.5, ``liger_kernel.chunked_loss.LigerFusedLinearJSDLoss`` (weights ``weight_hard_loss``,
  ``weight_soft_loss``, ``beta``, ``temperature``): ``w_h * CE_sum / N + w_s * JSD_beta_sum / N`` over the
  :math:`N` unmasked tokens, the hard CE from the untempered logits, the soft term from logits divided by
  ``temperature``, no :math:`T^2`; the same :math:`\beta` and endpoints as TRL. And
  ``liger_kernel.transformers.LigerFusedLinearJSD(jsd_beta, temperature)`` (Triton, GPU only): the soft term
  alone with the same :math:`\beta` convention and divisor (read from its kernel; not run here).
* TextBrewer 0.2.1.post1, ``textbrewer.losses.kd_ce_loss`` with its distillers:
  ``kd_loss_weight * mean_positions(-sum p log q) + hard_label_weight * (the model's own loss)``, both
  logits divided by ``temperature``, no :math:`T^2`; the hard loss is assumed to be the usual mean CE at
  :math:`T = 1` (it is whatever the model returns). ``kd_mse_loss`` is ``F.mse_loss(z_s/T, z_t/T)``: it
  compares logits, not distributions, and is not a multiple of the book's loss (:func:`to_book` raises).

Traps found while reading them
------------------------------
* torchdistill: ``alpha`` is the weight of the **hard** term, the opposite of the book; its default
  ``alpha=None`` with ``beta=None`` fails in ``__init__`` (``1 - None``); with ``alpha == 0`` (or no
  targets) it returns the soft KL **without** ``beta`` and **without** :math:`T^2`; its softmax is over
  ``dim=1``, so for ``(B, L, V)`` logits it normalises over the *sequence* axis (the preset accepts only
  ``(N, K)`` logits and raises otherwise).
* TRL: ``GKDTrainer.compute_loss`` never passes ``temperature`` to ``generalized_jsd_loss``, so the loss
  is always at :math:`T = 1`; ``GKDConfig.temperature`` (default 0.9) is the *sampling* temperature only.
  ``reduction="batchmean"`` has two divisors: tokens with labels, sequences without (a factor :math:`L`);
  ``num_items_in_batch`` overrides both. :math:`\beta` is discontinuous at the ends: ``beta=1e-9`` gives
  about :math:`10^{-9}\,\mathrm{KL}(p\|q)`, ``beta=0`` gives :math:`\mathrm{KL}(p\|q)` itself.
* Liger: no :math:`T^2` although the soft term is tempered; defaults weight both terms 0.5.
* TextBrewer: no :math:`T^2` and the default temperature is 4, so the soft gradient is :math:`1/16` of
  Hinton's at the same weight; ``temperature`` may be a per-position tensor, which has no single book
  :math:`T` (rejected here).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import torch

from ._checks import check_choice, check_temperature, check_weight
from .divergences import DIVERGENCES
from .divergences import divergence as _divergence
from .losses import hard_cross_entropy, kd_loss

WEIGHTINGS = ("alpha_soft", "alpha_hard", "separate")
SOFT_FORMS = ("kl", "cross_entropy", "jsd", "logit_mse")
SOFT_REDUCTIONS = ("batchmean", "mean", "token", "sum")
HARD_REDUCTIONS = ("mean", "sum")
BETA_CONVENTIONS = ("none", "teacher_weight_kl_endpoints")
ROLES = ("T", "alpha", "soft_weight", "hard_weight", "beta")


class NotTranslatableError(ValueError):
    """The foreign loss is not a multiple of the book's loss (e.g. an MSE between logits)."""


@dataclass(frozen=True)
class Convention:
    """How one text or library writes the distillation loss.

    weighting:
        ``"alpha_soft"`` (alpha weighs the soft term, the book), ``"alpha_hard"`` (alpha weighs the hard
        term), or ``"separate"`` (two independent weights, roles ``soft_weight`` and ``hard_weight``).
    soft_form:
        ``"kl"``, ``"cross_entropy"`` (KL plus H(p)), ``"jsd"`` (a beta-family, see ``beta_convention``) or
        ``"logit_mse"`` (not translatable).
    t_squared:
        Whether the soft term is multiplied by T^2.
    soft_reduction, hard_reduction:
        What the sums over positions are divided by (module docstring).
    beta_convention:
        ``"none"`` or ``"teacher_weight_kl_endpoints"`` (m = beta p + (1-beta) q; beta = 0 computed as
        KL(p||q), beta = 1 as KL(q||p): TRL and Liger).
    keywords:
        The library's keyword names and the role each plays, one of :data:`ROLES`.
    defaults:
        The library's default value for keywords that have one; keywords without a default are required.
    max_logit_dims:
        Largest number of axes the logits may have (2 where the library's softmax is over ``dim=1``).
    bare_soft_when_alpha_zero:
        torchdistill's early return: at ``alpha == 0`` the loss is the soft term without weight or T^2.
    """

    name: str
    weighting: str = "alpha_soft"
    soft_form: str = "kl"
    t_squared: bool = True
    soft_reduction: str = "token"
    hard_reduction: str = "mean"
    beta_convention: str = "none"
    keywords: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType({"T": "T", "alpha": "alpha"})
    )
    defaults: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    max_logit_dims: int | None = None
    bare_soft_when_alpha_zero: bool = False
    notes: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name must be a non-empty string, got {self.name!r}")
        check_choice(self.weighting, "weighting", WEIGHTINGS)
        check_choice(self.soft_form, "soft_form", SOFT_FORMS)
        if not isinstance(self.t_squared, bool):
            raise TypeError(f"t_squared must be a bool, got {type(self.t_squared).__name__}")
        check_choice(self.soft_reduction, "soft_reduction", SOFT_REDUCTIONS)
        check_choice(self.hard_reduction, "hard_reduction", HARD_REDUCTIONS)
        check_choice(self.beta_convention, "beta_convention", BETA_CONVENTIONS)
        if (self.soft_form == "jsd") != (self.beta_convention != "none"):
            raise ValueError("beta_convention must be set exactly when soft_form is 'jsd'")
        for keyword, role in self.keywords.items():
            check_choice(role, f"the role of keyword {keyword!r}", ROLES)
        roles = list(self.keywords.values())
        if len(set(roles)) != len(roles):
            raise ValueError(f"keywords give a role to more than one keyword: {dict(self.keywords)}")
        needed = {
            "alpha_soft": {"alpha"}, "alpha_hard": {"alpha"}, "separate": {"soft_weight", "hard_weight"}
        }
        missing = needed[self.weighting] - set(roles) | ({"T"} - set(roles))
        if self.soft_form == "jsd":
            missing |= {"beta"} - set(roles)
        if missing:
            raise ValueError(
                f"keywords must give the roles {sorted(missing)} for weighting {self.weighting!r}"
            )
        unknown = set(self.defaults) - set(self.keywords)
        if unknown:
            raise ValueError(f"defaults name keywords that are not in keywords: {sorted(unknown)}")
        # Read-only views, so that a frozen preset cannot be changed through its mappings.
        object.__setattr__(self, "keywords", MappingProxyType(dict(self.keywords)))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))


class Translation(NamedTuple):
    """``foreign loss == scale * book_loss(z_s, z_t, y, **settings)``, value and gradient."""

    settings: dict
    scale: float


def _positive_int_shape(shape: object) -> tuple[int, ...]:
    if isinstance(shape, torch.Size):
        shape = tuple(shape)
    if not isinstance(shape, (tuple, list)) or not shape:
        raise TypeError(f"shape must be a non-empty tuple of ints (the logits' shape), got {shape!r}")
    for size in shape:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size <= 0:
            raise ValueError(f"shape must hold positive ints, got {tuple(shape)}")
    if len(shape) < 2:
        raise ValueError(f"shape must have a batch axis and a class axis, got {tuple(shape)}")
    return tuple(int(size) for size in shape)


def _balance(shape, T, w_soft, w_hard, t_squared, soft_reduction, hard_reduction):
    """(alpha_book, c) of ch8-translation."""
    K, positions, first_axis = shape[-1], math.prod(shape[:-1]), shape[0]
    soft_divisor = {"batchmean": first_axis, "mean": positions * K, "token": positions, "sum": 1}
    hard_divisor = {"mean": positions, "sum": 1}
    # Ratios first, and no T^2 / T^2: the book's own convention then translates to exactly (alpha, 1).
    u = w_hard * (positions / hard_divisor[hard_reduction])
    v = w_soft * (1.0 if t_squared else 1.0 / T**2) * (positions / soft_divisor[soft_reduction])
    if u + v == 0:
        raise ValueError("the soft and hard weights are both 0: the loss is identically 0")
    return v / (u + v), u + v


def translate(
    shape,
    T,
    *,
    alpha,
    alpha_on="soft",
    soft_loss="kl",
    t_squared=True,
    soft_reduction="batchmean",
    hard_reduction="mean",
) -> tuple[dict, float]:
    """Chapter 8's ``to_book``: the book's settings (``kd_loss`` keywords) and c, foreign loss = c * kd_loss.

    ``alpha_on``: ``"soft"`` or ``"hard"``; ``soft_loss``: ``"kl"`` or ``"cross_entropy"`` (passed through);
    ``soft_reduction``: as ``F.kl_div``'s (``"batchmean"`` divides by the first axis, ``"mean"`` by every
    element, ``"sum"`` by 1) or ``"token"`` (by the positions); ``hard_reduction``: as
    ``F.cross_entropy``'s on the flattened positions. The returned settings do not hold ``T``; pass it to
    ``kd_loss`` yourself.
    """
    shape = _positive_int_shape(shape)
    T = check_temperature(T)
    alpha = check_weight(alpha)
    check_choice(alpha_on, "alpha_on", ("soft", "hard"))
    check_choice(soft_loss, "soft_loss", ("kl", "cross_entropy"))
    if not isinstance(t_squared, bool):
        raise TypeError(f"t_squared must be a bool, got {type(t_squared).__name__}")
    check_choice(soft_reduction, "soft_reduction", SOFT_REDUCTIONS)
    check_choice(hard_reduction, "hard_reduction", HARD_REDUCTIONS)
    w_soft, w_hard = (alpha, 1 - alpha) if alpha_on == "soft" else (1 - alpha, alpha)
    alpha_book, c = _balance(shape, T, w_soft, w_hard, t_squared, soft_reduction, hard_reduction)
    return {"alpha": alpha_book, "soft_loss": soft_loss, "t_squared": True, "reduction": "batchmean"}, c


def _resolve_settings(convention: Convention, their_settings: dict) -> dict:
    unknown = set(their_settings) - set(convention.keywords)
    if unknown:
        raise TypeError(
            f"{convention.name} has no setting {min(unknown)!r}; "
            f"its settings are {sorted(convention.keywords)}"
        )
    values = {**convention.defaults, **their_settings}
    missing = set(convention.keywords) - set(values)
    if missing:
        raise TypeError(f"{convention.name} needs the setting(s) {sorted(missing)} (they have no default)")
    by_role = {role: values[keyword] for keyword, role in convention.keywords.items()}
    for keyword, role in convention.keywords.items():
        if role == "T":
            by_role[role] = check_temperature(values[keyword], keyword)
        elif role in ("alpha", "beta"):
            by_role[role] = check_weight(values[keyword], keyword)
        else:
            weight = values[keyword]
            if isinstance(weight, bool) or not isinstance(weight, numbers.Real) or not math.isfinite(weight):
                raise TypeError(f"{keyword} must be a finite real number, got {weight!r}")
            if weight < 0:
                raise ValueError(f"{keyword} must be >= 0, got {weight}")
            by_role[role] = float(weight)
    return by_role


def to_book(convention: Convention | str, shape, **their_settings) -> Translation:
    """Translate a loss written in ``convention`` (or a :data:`PRESETS` name) into the book's.

    ``shape`` is the logits' shape; ``their_settings`` use the library's own keyword names
    (``convention.keywords``), with its defaults (``convention.defaults``) for those not given. Returns
    :class:`Translation`: ``settings`` are keyword arguments of :func:`book_loss` (including ``T``; for the
    forward-KL conventions they are exactly :func:`kdmath.kd_loss`'s), and ``scale`` is c.
    """
    if isinstance(convention, str):
        if convention not in PRESETS:
            raise ValueError(
                f"convention must be a Convention or one of {sorted(PRESETS)}, got {convention!r}"
            )
        convention = PRESETS[convention]
    if not isinstance(convention, Convention):
        raise TypeError(f"convention must be a Convention or a preset name, got {type(convention).__name__}")
    shape = _positive_int_shape(shape)
    if convention.max_logit_dims is not None and len(shape) > convention.max_logit_dims:
        raise ValueError(
            f"{convention.name} takes the softmax over dim=1, so logits of shape {shape} (more than "
            f"{convention.max_logit_dims} axes) are normalised over the wrong axis; flatten them to (N, K)"
        )
    if convention.soft_form == "logit_mse":
        raise NotTranslatableError(
            f"{convention.name} is a mean squared error between logits / T: it is not a divergence between "
            "softmax distributions, so no alpha and scale of the book's loss reproduce it"
        )
    settings = _resolve_settings(convention, their_settings)
    T = settings["T"]
    if convention.weighting == "alpha_soft":
        w_soft, w_hard = settings["alpha"], 1 - settings["alpha"]
    elif convention.weighting == "alpha_hard":
        w_soft, w_hard = 1 - settings["alpha"], settings["alpha"]
    else:
        w_soft, w_hard = settings["soft_weight"], settings["hard_weight"]
    t_squared = convention.t_squared
    if convention.bare_soft_when_alpha_zero and settings.get("alpha") == 0:
        w_soft, w_hard, t_squared = 1.0, 0.0, False
    alpha_book, c = _balance(
        shape, T, w_soft, w_hard, t_squared, convention.soft_reduction, convention.hard_reduction
    )
    book = {"T": T, "alpha": alpha_book, "t_squared": True, "reduction": "batchmean"}
    if convention.soft_form == "jsd":
        beta = settings["beta"]
        if beta == 0:
            book["soft_loss"] = "kl"
        elif beta == 1:
            book.update(soft_loss="kl", divergence="reverse_kl")
        else:
            book.update(soft_loss="kl", divergence="jsd", beta=beta)
    else:
        book["soft_loss"] = convention.soft_form
    return Translation(book, c)


def book_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    target: torch.Tensor | None = None,
    *,
    T: float,
    alpha: float,
    soft_loss: str = "kl",
    t_squared: bool = True,
    reduction: str = "batchmean",
    divergence: str = "forward_kl",
    beta: float = 0.5,
) -> torch.Tensor:
    r""":math:`(1-\alpha)\,\mathrm{CE}(y, \sigma_1(z_s)) + \alpha T^2 D(p\|q)`, D chosen by ``divergence``.

    For ``divergence="forward_kl"`` this is :func:`kdmath.kd_loss` itself (``beta`` unused). Otherwise D is
    :func:`kdmath.divergences.divergence` (``"reverse_kl"`` or ``"jsd"`` with ``beta``), ``soft_loss`` must be
    ``"kl"``, and ``reduction`` is ``"batchmean"`` (mean over positions) or ``"sum"``.
    """
    check_choice(divergence, "divergence", DIVERGENCES)
    if divergence == "forward_kl":
        return kd_loss(
            student_logits, teacher_logits, target, T=T, alpha=alpha,
            reduction=reduction, soft_loss=soft_loss, t_squared=t_squared,
        )
    check_choice(soft_loss, "soft_loss", ("kl",))
    check_choice(reduction, "reduction", ("batchmean", "sum"))
    T = check_temperature(T)
    alpha = check_weight(alpha)
    if not isinstance(t_squared, bool):
        raise TypeError(f"t_squared must be a bool, got {type(t_squared).__name__}")
    if target is None and alpha != 1:
        raise ValueError(f"target is None, so alpha must be 1 (the soft term alone), got {alpha}")
    per_position = _divergence(divergence, student_logits, teacher_logits, beta=beta, T=T, normalise="none")
    loss = alpha * (T**2 if t_squared else 1.0) * per_position
    if target is not None:
        loss = loss + (1 - alpha) * hard_cross_entropy(student_logits, target, reduction="none")
    return loss.sum() if reduction == "sum" else loss.mean()


def _preset(**kwargs) -> Convention:
    return Convention(**kwargs)


# TRL has no hard term: soft_weight and hard_weight are the caller's, for a CE added by hand.
_TRL_KEYWORDS = {
    "temperature": "T", "beta": "beta", "soft_weight": "soft_weight", "hard_weight": "hard_weight"
}
_TEXTBREWER_KEYWORDS = {
    "temperature": "T", "kd_loss_weight": "soft_weight", "hard_label_weight": "hard_weight"
}


PRESETS: Mapping[str, Convention] = MappingProxyType(
    {
        "book": _preset(
            name="book",
            notes="kdmath.kd_loss: (1-alpha) CE at T=1 + alpha T^2 KL(p||q), mean over positions.",
        ),
        "source_002": _preset(
            name="source_002",
            weighting="alpha_hard",
            notes=(
                "Source note 002: alpha CE + (1-alpha) T^2 KL; batch reduction not stated "
                "(taken as the mean over positions)."
            ),
        ),
        "torchdistill_kd": _preset(
            name="torchdistill_kd",
            weighting="alpha_hard",
            soft_reduction="batchmean",
            keywords={"temperature": "T", "alpha": "alpha"},
            max_logit_dims=2,
            bare_soft_when_alpha_zero=True,
            notes=(
                "torchdistill 1.1.5 KDLoss(reduction='batchmean'): alpha CE_mean + (1-alpha) T^2 "
                "sum KL / N, softmax over dim=1; alpha == 0 returns the bare KL (no T^2). The separate "
                "beta keyword (default 1-alpha) is not modelled: pass beta = 1 - alpha."
            ),
        ),
        "trl_gkd": _preset(
            name="trl_gkd",
            weighting="separate",
            soft_form="jsd",
            t_squared=False,
            soft_reduction="token",
            beta_convention="teacher_weight_kl_endpoints",
            keywords=_TRL_KEYWORDS,
            defaults={"temperature": 1.0, "beta": 0.5, "soft_weight": 1.0, "hard_weight": 0.0},
            notes=(
                "TRL 1.16.0 GKDTrainer.generalized_jsd_loss(reduction='batchmean', labels given): sum over "
                "unmasked tokens and vocabulary of JSD_beta at logits/temperature, divided by the unmasked "
                "tokens; no T^2, no hard term (soft_weight/hard_weight are the caller's, not TRL's). "
                "GKDTrainer never passes temperature: the loss is at T = 1."
            ),
        ),
        "trl_gkd_no_labels": _preset(
            name="trl_gkd_no_labels",
            weighting="separate",
            soft_form="jsd",
            t_squared=False,
            soft_reduction="batchmean",
            beta_convention="teacher_weight_kl_endpoints",
            keywords=_TRL_KEYWORDS,
            defaults={"temperature": 1.0, "beta": 0.5, "soft_weight": 1.0, "hard_weight": 0.0},
            notes="TRL generalized_jsd_loss(reduction='batchmean', labels=None): divided by the first axis.",
        ),
        "liger_fused_linear_jsd": _preset(
            name="liger_fused_linear_jsd",
            weighting="separate",
            soft_form="jsd",
            t_squared=False,
            soft_reduction="token",
            hard_reduction="mean",
            beta_convention="teacher_weight_kl_endpoints",
            keywords={
                "temperature": "T", "beta": "beta",
                "weight_soft_loss": "soft_weight", "weight_hard_loss": "hard_weight",
            },
            defaults={"temperature": 1.0, "beta": 0.5, "weight_soft_loss": 0.5, "weight_hard_loss": 0.5},
            notes=(
                "Liger-Kernel 0.8.5 chunked LigerFusedLinearJSDLoss: "
                "w_h CE(T=1)_sum/N + w_s JSD_beta(T)_sum/N over the N unmasked tokens, no T^2."
            ),
        ),
        "liger_fused_linear_jsd_triton": _preset(
            name="liger_fused_linear_jsd_triton",
            weighting="separate",
            soft_form="jsd",
            t_squared=False,
            soft_reduction="token",
            beta_convention="teacher_weight_kl_endpoints",
            keywords={
                "temperature": "T", "jsd_beta": "beta",
                "soft_weight": "soft_weight", "hard_weight": "hard_weight",
            },
            defaults={"temperature": 1.0, "jsd_beta": 0.5, "soft_weight": 1.0, "hard_weight": 0.0},
            notes=(
                "Liger-Kernel 0.8.5 LigerFusedLinearJSD(jsd_beta, temperature) (Triton): JSD_beta(T) summed, "
                "divided by the unmasked tokens; no hard term, no T^2. Read from the kernel, not run."
            ),
        ),
        "textbrewer_kd_ce": _preset(
            name="textbrewer_kd_ce",
            weighting="separate",
            soft_form="cross_entropy",
            t_squared=False,
            soft_reduction="token",
            hard_reduction="mean",
            keywords=_TEXTBREWER_KEYWORDS,
            defaults={"temperature": 4, "kd_loss_weight": 1.0, "hard_label_weight": 0.0},
            notes=(
                "TextBrewer 0.2.1 kd_ce_loss in its distillers: "
                "kd_loss_weight mean_positions(-sum p log q) at logits/temperature "
                "+ hard_label_weight (model's loss, assumed mean CE at T=1); no T^2."
            ),
        ),
        "textbrewer_kd_mse": _preset(
            name="textbrewer_kd_mse",
            weighting="separate",
            soft_form="logit_mse",
            t_squared=False,
            soft_reduction="mean",
            keywords=_TEXTBREWER_KEYWORDS,
            defaults={"temperature": 4, "kd_loss_weight": 1.0, "hard_label_weight": 0.0},
            notes=(
                "TextBrewer kd_mse_loss: F.mse_loss(z_s/T, z_t/T) = mean (z_s - z_t)^2 / T^2; "
                "not translatable."
            ),
        ),
    }
)

__all__ = [
    "BETA_CONVENTIONS",
    "HARD_REDUCTIONS",
    "PRESETS",
    "ROLES",
    "SOFT_FORMS",
    "SOFT_REDUCTIONS",
    "WEIGHTINGS",
    "Convention",
    "NotTranslatableError",
    "Translation",
    "book_loss",
    "to_book",
    "translate",
]
