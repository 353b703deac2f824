r"""What a trained classifier's predictions say beyond its error count: the measures of chapter 15.

* :func:`top1_agreement`: the share of inputs on which two models predict the same class.
* :func:`expected_calibration_error`: with the predictions grouped into ``bins`` equal-width bins of
  confidence :math:`c_i = \max_k \pi_{ik}`,

  .. math::

      \mathrm{ECE} = \sum_{b} \frac{|B_b|}{n}\,\Bigl|\,\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\Bigr|,

  the gap between how often the model is right and how sure it says it is (Guo et al., 2017).
* :func:`wrong_class_mass`: :math:`1 - \pi_{i, y_i}`, what the soft targets hold beyond the label.
* :func:`mean_soft_targets_by_class`: the ``K x K`` matrix whose row ``c`` is the average
  distribution over the inputs of class ``c``: which classes the model confuses.
* :func:`most_likely_wrong_class` and :func:`second_choice_agreement`: the class a model ranks first
  among the wrong ones, :math:`\arg\max_{k \ne y_i} \pi_{ik}`, and how often a reference model's
  choice of it matches another model's, image by image, against the best guess that ignores the image
  (the reference's most frequent wrong class for the label). The gap is input-dependent information
  in the reference's soft outputs that a second, independently trained model finds too.
* :func:`top_hessian_eigenvalue`: the largest eigenvalue of the Hessian of a loss with respect to
  the parameters, by power iteration on Hessian-vector products (Pearlmutter, 1994), a measure of
  how sharp the minimum is.
"""

from __future__ import annotations

import numbers
from typing import Callable, Sequence

import torch

__all__ = [
    "expected_calibration_error",
    "mean_soft_targets_by_class",
    "most_likely_wrong_class",
    "second_choice_agreement",
    "top1_agreement",
    "top_hessian_eigenvalue",
    "wrong_class_mass",
]


def _check_probabilities(probabilities: object, name: str = "probabilities") -> torch.Tensor:
    if not isinstance(probabilities, torch.Tensor) or not probabilities.is_floating_point():
        raise TypeError(f"{name} must be a floating-point torch.Tensor, got {type(probabilities).__name__}")
    if probabilities.dim() != 2 or probabilities.shape[1] < 2:
        raise ValueError(f"{name} must have shape (n, K) with K >= 2, got {tuple(probabilities.shape)}")
    if not bool(torch.isfinite(probabilities).all()) or bool((probabilities < 0).any()):
        raise ValueError(f"{name} must hold finite non-negative probabilities")
    if not torch.allclose(probabilities.sum(1), torch.ones((), dtype=probabilities.dtype), atol=1e-4):
        raise ValueError(f"{name} must sum to 1 along each row")
    return probabilities


def _check_labels(labels: object, n: int, K: int) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise TypeError(f"labels must be an integer torch.Tensor, got {getattr(labels, 'dtype', type(labels))}")
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(labels.shape)}")
    if n and not (0 <= int(labels.min()) and int(labels.max()) < K):
        raise ValueError(f"labels must lie in [0, {K})")
    return labels


def top1_agreement(first: torch.Tensor, second: torch.Tensor) -> float:
    """The share of rows on which the two ``(n, K)`` tensors (logits or probabilities) have the same argmax."""
    for value, name in ((first, "first"), (second, "second")):
        if not isinstance(value, torch.Tensor) or value.dim() != 2:
            raise ValueError(f"{name} must be a (n, K) tensor, got {getattr(value, 'shape', type(value).__name__)}")
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {tuple(first.shape)} and {tuple(second.shape)}")
    if first.shape[0] == 0:
        raise ValueError("first and second must have at least one row")
    return float((first.argmax(1) == second.argmax(1)).double().mean())


def expected_calibration_error(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = 15) -> float:
    """The expected calibration error with ``bins`` equal-width bins of confidence in (0, 1] (see above)."""
    probabilities = _check_probabilities(probabilities)
    labels = _check_labels(labels, probabilities.shape[0], probabilities.shape[1])
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    n = probabilities.shape[0]
    if n == 0:
        raise ValueError("probabilities must have at least one row")
    confidence, predicted = probabilities.double().max(1)
    correct = (predicted == labels).double()
    # bin b holds the confidences in (b/bins, (b+1)/bins]; a confidence of exactly 1 falls in the last
    index = (torch.ceil(confidence * bins).long() - 1).clamp(0, bins - 1)
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, torch.ones(n, dtype=torch.float64))
    gaps = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, correct - confidence)
    return float(gaps.abs().sum() / n) if bool((counts > 0).any()) else 0.0


def wrong_class_mass(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per row, :math:`1 - \\pi_{i, y_i}`: the probability the model puts on the classes other than the label."""
    probabilities = _check_probabilities(probabilities)
    labels = _check_labels(labels, probabilities.shape[0], probabilities.shape[1])
    return 1.0 - probabilities.gather(1, labels.long()[:, None]).squeeze(1)


def mean_soft_targets_by_class(probabilities: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The ``(K, K)`` matrix whose row ``c`` averages the rows of ``probabilities`` whose label is ``c``.

    A class with no row gets a row of NaN (no average exists).
    """
    probabilities = _check_probabilities(probabilities)
    K = probabilities.shape[1]
    labels = _check_labels(labels, probabilities.shape[0], K).long()
    sums = torch.zeros(K, K, dtype=torch.float64).index_add_(0, labels, probabilities.double())
    counts = torch.bincount(labels, minlength=K).double()
    return sums / counts[:, None]


def most_likely_wrong_class(scores: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per row, the class with the largest score other than the label (scores: logits or probabilities)."""
    if not isinstance(scores, torch.Tensor) or not scores.is_floating_point():
        raise TypeError(f"scores must be a floating-point torch.Tensor, got {type(scores).__name__}")
    if scores.dim() != 2 or scores.shape[1] < 2:
        raise ValueError(f"scores must have shape (n, K) with K >= 2, got {tuple(scores.shape)}")
    labels = _check_labels(labels, scores.shape[0], scores.shape[1]).long()
    masked = scores.clone()
    masked[torch.arange(scores.shape[0]), labels] = -torch.inf
    return masked.argmax(1)


def second_choice_agreement(reference: torch.Tensor, other: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """How often ``other``'s most likely wrong class is ``reference``'s, image by image (``"image"``), and how
    often it is the one guess per label that ignores the image: ``reference``'s most frequent wrong class among
    the rows with that label, the smallest class on a tie (``"label"``).

    The label's guess is fitted on the same rows it is scored on, which favours it: a positive
    ``image - label`` is not an artefact of the fit.
    """
    if not isinstance(other, torch.Tensor) or not isinstance(reference, torch.Tensor) or other.shape != reference.shape:
        raise ValueError(f"reference and other must be tensors of the same shape, got "
                         f"{getattr(reference, 'shape', type(reference).__name__)} and {getattr(other, 'shape', type(other).__name__)}")
    if reference.shape[0] == 0:
        raise ValueError("reference and other must have at least one row")
    labels = _check_labels(labels, reference.shape[0], reference.shape[1]).long()
    first, second = most_likely_wrong_class(reference, labels), most_likely_wrong_class(other, labels)
    K = reference.shape[1]
    counts = torch.zeros(K, K, dtype=torch.long).index_put_((labels, first), torch.ones_like(labels), accumulate=True)
    guess = counts.argmax(1)[labels]  # argmax returns the first maximum: the smallest class on a tie
    return {"image": float((first == second).double().mean()), "label": float((guess == second).double().mean())}


def top_hessian_eigenvalue(
    loss_fn: Callable[[], torch.Tensor],
    parameters: Sequence[torch.Tensor],
    *,
    iterations: int = 50,
    tolerance: float = 1e-4,
    generator: torch.Generator | None = None,
) -> float:
    r"""The eigenvalue of largest magnitude of :math:`\nabla^2_\theta\, \mathrm{loss}` at the current parameters.

    ``loss_fn()`` must compute the loss from ``parameters`` afresh (a closure over the model and a
    fixed batch; put the model in eval mode so that dropout does not change it). Power iteration:
    :math:`v \leftarrow Hv / \|Hv\|`, with :math:`Hv` by differentiating :math:`g \cdot v` where
    :math:`g = \nabla_\theta \mathrm{loss}` (one backward pass through the graph of the gradient),
    starting from a random unit vector drawn from ``generator``. It stops when the Rayleigh quotient
    :math:`v^\top H v` changes by less than ``tolerance`` relative, or after ``iterations`` steps, and
    returns the quotient. At a minimum the Hessian is positive semi-definite and this is the sharpest
    curvature.
    """
    parameters = list(parameters)
    if not parameters or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in parameters):
        raise ValueError("parameters must be a non-empty sequence of tensors that require grad")
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) or iterations < 1:
        raise ValueError(f"iterations must be a positive integer, got {iterations!r}")
    if not isinstance(tolerance, numbers.Real) or not tolerance > 0:
        raise ValueError(f"tolerance must be a number > 0, got {tolerance!r}")
    generator = generator if generator is not None else torch.Generator().manual_seed(0)
    vector = [torch.randn(p.shape, generator=generator, dtype=p.dtype).to(p.device) for p in parameters]
    norm = torch.sqrt(sum((v * v).sum() for v in vector))
    vector = [v / norm for v in vector]
    loss = loss_fn()
    gradient = torch.autograd.grad(loss, parameters, create_graph=True)
    estimate = None
    for _ in range(iterations):
        product = torch.autograd.grad(gradient, parameters, grad_outputs=vector, retain_graph=True)
        quotient = float(sum((h * v).sum() for h, v in zip(product, vector)))
        norm = torch.sqrt(sum((h * h).sum() for h in product))
        if float(norm) == 0.0:
            return 0.0
        vector = [h / norm for h in product]
        if estimate is not None and abs(quotient - estimate) <= tolerance * abs(estimate):
            return quotient
        estimate = quotient
    return estimate
