r"""The terms of the methods beyond logits, as modules the trainer adds to its loss (``train(auxiliary=...)``).

Each holds the teacher (frozen, in eval mode, never trained) and computes, on the batch the student
saw, the teacher's hidden activations without gradient; the student's come from the trainer. With
:math:`h_s^{(a)}` the student's hidden layer :math:`a` and :math:`h_t^{(b)}` the teacher's (after the
ReLU, :meth:`kdmath.models.MLP.forward` with ``return_hidden=True``), over a batch of :math:`N` images:

* :class:`HiddenMatching` (FitNets' hint, Romero et al. 2015, when the map has one pair; hidden-state
  matching across layers when it has several):

  .. math::

      \lambda\,\frac{1}{|\mathcal M|}\sum_{(a, b) \in \mathcal M}
      \frac{1}{N d_b}\sum_{i=1}^{N}\bigl\|W_{ab}\,h_{s,i}^{(a)} + c_{ab} - h_{t,i}^{(b)}\bigr\|^2,

  with a learned linear map :math:`W_{ab}` (and bias :math:`c_{ab}`) per pair, trained with the student
  (the regressor of FitNets). The language-model trainer's hidden term is the same formula.

* :class:`RelationalDistillation` (Park et al., 2019) on the last hidden layers:
  :math:`w_D\,\mathrm{RKD}_D + w_A\,\mathrm{RKD}_A` of :mod:`kdmath.features` (Huber loss on the
  normalised pairwise distances and on the angles of triplets); no map is needed, since only the
  relations between the images of the batch are compared.

* :class:`AttentionTransfer` (Zagoruyko and Komodakis, 2017) between convolutional stages
  (:class:`kdmath.convnet.ConvNet`, whose hidden activations are maps ``(N, C, H, W)``):

  .. math::

      \beta'\,\frac{1}{|\mathcal M|}\sum_{(a, b) \in \mathcal M}
      \mathcal L_{AT}\bigl(A_s^{(a)}, A_t^{(b)}\bigr),

  with :math:`\mathcal L_{AT}` the distance between the normalised spatial attention maps of
  :func:`kdmath.features.spatial_attention_loss`; no map is learned, since the attention maps have one value
  per position whatever the channel counts.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from ._checks import check_choice, check_temperature
from .features import (
    SPATIAL_ATTENTION_FORMS,
    rkd_angle_loss,
    rkd_distance_loss,
    spatial_attention_loss,
)

__all__ = ["AttentionTransfer", "HiddenMatching", "RelationalDistillation"]


def _frozen(teacher: nn.Module) -> nn.Module:
    if not isinstance(teacher, nn.Module):
        raise TypeError(f"teacher must be an nn.Module, got {type(teacher).__name__}")
    teacher.eval()
    for parameter in teacher.parameters():
        parameter.requires_grad_(False)
    return teacher


def _weight(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


class _TeacherTerm(nn.Module):
    def __init__(self, teacher: nn.Module):
        super().__init__()
        # kept out of the module tree: its weights are neither trained nor saved with the student's checkpoint
        self.__dict__["teacher"] = _frozen(teacher)

    def teacher_hidden(self, batch: torch.Tensor) -> list[torch.Tensor]:
        self.teacher.eval()
        with torch.no_grad():
            _, hidden = self.teacher(batch, return_hidden=True)
        return [h.float() for h in hidden]


class HiddenMatching(_TeacherTerm):
    """``weight`` times the mean over the pairs ``layer_map`` of the mean squared error between the mapped student
    layer and the teacher layer (see the module docstring).

    ``student_widths`` and ``teacher_widths`` are the hidden widths of the two networks (``MLP.hidden``);
    the maps are drawn from ``generator`` (uniform in :math:`\\pm 1/\\sqrt{d_s}`, biases 0), so a run is
    reproducible.
    """

    def __init__(self, teacher: nn.Module, layer_map, student_widths, teacher_widths, *, weight: float = 1.0,
                 generator: torch.Generator | None = None):
        super().__init__(teacher)
        pairs = tuple(tuple(pair) for pair in layer_map)
        if not pairs:
            raise ValueError("layer_map must hold at least one (student layer, teacher layer) pair")
        student_widths, teacher_widths = tuple(student_widths), tuple(teacher_widths)
        for a, b in pairs:
            if not (0 <= a < len(student_widths) and 0 <= b < len(teacher_widths)):
                raise ValueError(f"layer_map pair {(a, b)} is outside the {len(student_widths)} student and "
                                 f"{len(teacher_widths)} teacher hidden layers")
        self.layer_map, self.weight = pairs, _weight(weight, "weight")
        generator = generator if generator is not None else torch.Generator().manual_seed(0)
        self.maps = nn.ModuleList()
        for a, b in pairs:
            d_s, d_t = student_widths[a], teacher_widths[b]
            linear = nn.Linear(d_s, d_t)
            with torch.no_grad():
                bound = 1.0 / math.sqrt(d_s)
                linear.weight.copy_(torch.empty(d_t, d_s).uniform_(-bound, bound, generator=generator))
                linear.bias.zero_()
            self.maps.append(linear)

    def extra_repr(self) -> str:  # what a checkpoint's key reads: every setting that changes the term
        return f"layer_map={self.layer_map}, weight={self.weight}"

    def forward(self, batch: torch.Tensor, student_hidden: list[torch.Tensor]) -> torch.Tensor:
        teacher_hidden = self.teacher_hidden(batch)
        terms = [nn.functional.mse_loss(linear(student_hidden[a]), teacher_hidden[b])
                 for linear, (a, b) in zip(self.maps, self.layer_map)]
        return self.weight * torch.stack(terms).mean()


class RelationalDistillation(_TeacherTerm):
    """``distance_weight * RKD_D + angle_weight * RKD_A`` between the last hidden layers (25 and 50 in Park et al.).

    On a batch where the student's last hidden layer is the same for every image (all its units dead), the
    term is 0: there are no relations to compare.
    """

    def __init__(self, teacher: nn.Module, *, distance_weight: float = 25.0, angle_weight: float = 50.0):
        super().__init__(teacher)
        self.distance_weight = _weight(distance_weight, "distance_weight")
        self.angle_weight = _weight(angle_weight, "angle_weight")

    def extra_repr(self) -> str:  # what a checkpoint's key reads: every setting that changes the term
        return f"distance_weight={self.distance_weight}, angle_weight={self.angle_weight}"

    def forward(self, batch: torch.Tensor, student_hidden: list[torch.Tensor]) -> torch.Tensor:
        student, teacher = student_hidden[-1], self.teacher_hidden(batch)[-1]
        loss = student.sum() * 0.0  # connected to the student's graph, so that a skipped term still back-propagates
        if bool((student == student[:1]).all()):
            # Every row equal (a layer whose units are all dead on this batch): there are no distances or angles
            # to compare, and psi_D's normaliser is 0. The relational term has nothing to say on this batch.
            return loss
        if self.distance_weight:
            loss = loss + self.distance_weight * rkd_distance_loss(student, teacher)
        if self.angle_weight:
            loss = loss + self.angle_weight * rkd_angle_loss(student, teacher)
        return loss


class AttentionTransfer(_TeacherTerm):
    """``weight`` times the mean over the pairs ``layer_map`` (student stage, teacher stage) of
    :func:`kdmath.features.spatial_attention_loss` between the two stages' activations, with exponent ``p`` and
    ``form`` ``"code"`` (the released code's mean squared difference, default) or ``"paper"`` (eq. 2's distance).

    The default ``weight`` is 1000/2, the paper's :math:`\\beta/2` at :math:`\\beta = 1000`. Its sum over the pairs
    becomes a mean here, so :math:`\\beta/2` on that sum is ``weight = beta / 2 * len(layer_map)`` here. The
    released code (``cifar.py``: ``opt.beta * sum(loss_groups)``, run with ``--beta 1e+3``) has no ``/2``: its term
    is ``weight = 1000 * len(layer_map)`` with ``form="code"``.

    The stage indices are checked against the hidden lists when the term is first evaluated (the constructor does
    not know the networks' depths); a student stage and its teacher stage must have the same spatial size.
    """

    def __init__(self, teacher: nn.Module, layer_map, *, weight: float = 1000.0 / 2, p: float = 2,
                 form: str = "code"):
        super().__init__(teacher)
        if isinstance(layer_map, (str, bytes)) or not hasattr(layer_map, "__iter__"):
            raise TypeError(f"layer_map must be a sequence of (student stage, teacher stage) pairs, got "
                            f"{type(layer_map).__name__}")
        pairs = tuple(tuple(pair) if hasattr(pair, "__iter__") else (pair,) for pair in layer_map)
        if not pairs:
            raise ValueError("layer_map must hold at least one (student stage, teacher stage) pair")
        for pair in pairs:
            if len(pair) != 2 or any(isinstance(i, bool) or not isinstance(i, numbers.Integral) or i < 0 for i in pair):
                raise ValueError(f"layer_map must hold pairs of non-negative stage indices, got {pair!r}")
        self.layer_map = tuple((int(a), int(b)) for a, b in pairs)
        self.weight = _weight(weight, "weight")
        self.p = check_temperature(p, "p")
        self.form = check_choice(form, "form", SPATIAL_ATTENTION_FORMS)

    def extra_repr(self) -> str:  # what a checkpoint's key reads: every setting that changes the term
        return f"layer_map={self.layer_map}, weight={self.weight}, p={self.p}, form={self.form!r}"

    def forward(self, batch: torch.Tensor, student_hidden: list[torch.Tensor]) -> torch.Tensor:
        teacher_hidden = self.teacher_hidden(batch)
        for a, b in self.layer_map:
            if a >= len(student_hidden) or b >= len(teacher_hidden):
                raise ValueError(f"layer_map pair {(a, b)} is outside the {len(student_hidden)} student and "
                                 f"{len(teacher_hidden)} teacher stages")
        terms = [spatial_attention_loss(student_hidden[a], teacher_hidden[b], self.p, form=self.form)
                 for a, b in self.layer_map]
        return self.weight * torch.stack(terms).mean()
