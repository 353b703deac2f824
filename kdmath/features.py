r"""Feature-, attention- and relation-based distillation losses.

Representations are matrices with **one example per row**: a batch of :math:`N` student
features is a tensor of shape ``(N, d_s)``, the teacher's ``(N, d_t)``. Written with
column-matrices (one example per column) :math:`X = \mathrm{source}^\top \in \mathbb{R}^{d_x \times N}`
and :math:`Y = \mathrm{target}^\top \in \mathbb{R}^{d_y \times N}`, the functions compute:

* **The least-squares projection.** The map :math:`W \in \mathbb{R}^{d_y \times d_x}` minimising
  :math:`\|Y - W X\|_F^2`. Setting the gradient :math:`-2 (Y - W X) X^\top` to zero gives the
  normal equations :math:`W X X^\top = Y X^\top`, so

  .. math:: W^\ast = Y X^\top (X X^\top)^{-1}

  when :math:`X X^\top` is invertible, i.e. when ``source`` has full column rank
  :math:`d_x`, which needs :math:`N \ge d_x`. Otherwise the minimiser is not unique and
  :func:`least_squares_projection` returns the one of least Frobenius norm, :math:`Y X^+`.

* **The FitNet hint loss** :math:`\|t - W s\|^2` per example, with :math:`W` mapping the
  student's features into the teacher's space (Romero et al., 2015).

* **Relational potentials** (Park et al., 2019). The distance potential
  :math:`\psi_D(i, j) = \|x_i - x_j\| / \mu` with :math:`\mu` the mean distance over the
  pairs :math:`i \ne j`, and the angle potential
  :math:`\psi_A(i, j, k) = \langle e_{ij}, e_{kj} \rangle`,
  :math:`e_{ij} = (x_i - x_j)/\|x_i - x_j\|`: the cosine of the angle at the vertex
  :math:`x_j`. The RKD losses compare the student's potentials with the teacher's through the
  Huber loss :math:`l_\delta`, averaged over the pairs or triplets of distinct indices.

* **Attention transfer.** The squared Frobenius distance between attention matrices, averaged
  over the heads: :math:`\frac1H \sum_h \|A_s^h - A_t^h\|_F^2`.

* **Spatial attention transfer** (Zagoruyko and Komodakis, 2017), on convolutional feature maps
  ``(B, C, H, W)``: the map :math:`Q = \sum_c |A_c|^p` over the positions, normalised to unit length, and the
  distance :math:`\|Q_s/\|Q_s\| - Q_t/\|Q_t\|\|_2` between the student's and the teacher's.

Every function validates its arguments and raises ``TypeError``/``ValueError`` naming the
offending one. Half-precision inputs are computed in float32; a float32/float64 pair in
float64.
"""

from __future__ import annotations

import math
import numbers
from typing import Optional

import torch

from ._checks import check_choice, check_temperature, working_dtype

FEATURE_REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- argument checks


def _check_tensor(x: object, name: str, *, min_dim: int, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}")
    if x.dim() < min_dim:
        raise ValueError(f"{name} must have shape {what}, got a {x.dim()}-d tensor of shape {tuple(x.shape)}")
    if 0 in x.shape:
        raise ValueError(f"{name} must not have an empty axis, got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _check_rows(x: object, name: str, min_rows: int = 1) -> torch.Tensor:
    """A finite floating (N, d) matrix with N >= min_rows."""
    x = _check_tensor(x, name, min_dim=2, what="(N, d), one example per row")
    if x.dim() != 2:
        raise ValueError(f"{name} must be a 2-d tensor (N, d), one example per row, got shape {tuple(x.shape)}")
    if x.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} rows (examples), got {x.shape[0]}")
    return x


def _common(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str):
    if a.device != b.device:
        raise ValueError(f"{name_b} is on {b.device} but {name_a} is on {a.device}")
    a, b = working_dtype(a), working_dtype(b)
    dtype = torch.promote_types(a.dtype, b.dtype)
    return a.to(dtype), b.to(dtype)


def _check_same_rows(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_b} must have as many rows (examples) as {name_a}, got {b.shape[0]} and {a.shape[0]}"
        )


def _check_rcond(rcond: object) -> Optional[float]:
    if rcond is None:
        return None
    if isinstance(rcond, bool) or not isinstance(rcond, numbers.Real):
        raise TypeError(f"rcond must be None or a real number, got {type(rcond).__name__}")
    rcond = float(rcond)
    if not math.isfinite(rcond) or rcond < 0.0:
        raise ValueError(f"rcond must be finite and >= 0, got {rcond}")
    return rcond


def _reduce(per_position: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return per_position
    if reduction == "sum":
        return per_position.sum()
    return per_position.mean()


# --------------------------------------------------------------------------- projections


def least_squares_projection(
    source: torch.Tensor, target: torch.Tensor, rcond: Optional[float] = None
) -> torch.Tensor:
    r"""Return the :math:`W` of shape ``(d_target, d_source)`` minimising :math:`\|Y - W X\|_F^2`.

    With one example per row, ``source`` is :math:`X^\top` of shape ``(N, d_source)`` and
    ``target`` is :math:`Y^\top` of shape ``(N, d_target)``, so the objective is
    ``((target - source @ W.T) ** 2).sum()``. When ``source`` has full column rank (see
    :func:`projection_is_unique`; it needs ``N >= d_source``), the minimiser is unique and
    equals the closed form :math:`W^\ast = Y X^\top (X X^\top)^{-1}`. Otherwise every
    :math:`W^\ast + V` with :math:`V X = 0` is a minimiser, and this returns the one of least
    Frobenius norm, :math:`Y X^+`, with :math:`X^+` the Moore-Penrose pseudo-inverse.

    ``rcond``: singular values of ``source`` below ``rcond`` times the largest are treated as
    zero; ``None`` means ``eps * max(N, d_source)`` (as ``numpy.linalg.lstsq``).

    Feature distillation uses it in either direction: FitNets (student to teacher) passes
    ``source=student, target=teacher``; source note 004 (teacher to student) the reverse.
    """
    _check_rows(source, "source")
    _check_rows(target, "target")
    _check_same_rows(source, target, "source", "target")
    rcond = _check_rcond(rcond)
    x, y = _common(source, target, "source", "target")
    if x.dtype not in (torch.float32, torch.float64):
        x, y = x.double(), y.double()
    pinv = torch.linalg.pinv(x) if rcond is None else torch.linalg.pinv(x, rtol=rcond)
    # pinv(source) = pinv(X^T) = (X^+)^T, so W^T = pinv(source) @ target = (Y X^+)^T.
    return (pinv @ y).transpose(0, 1)


def projection_is_unique(source: torch.Tensor, rcond: Optional[float] = None) -> bool:
    r"""Return whether :math:`X X^\top` is invertible, i.e. ``source`` (N, d) has rank d.

    Then the least-squares projection has the unique closed form
    :math:`W^\ast = Y X^\top (X X^\top)^{-1}`. It is never the case when ``N < d``: the rank of
    :math:`X X^\top` is at most ``N``. The rank is numerical, with the tolerance ``rcond`` of
    :func:`least_squares_projection`.
    """
    _check_rows(source, "source")
    rcond = _check_rcond(rcond)
    x = working_dtype(source)
    if x.shape[0] < x.shape[1]:
        return False
    rank = torch.linalg.matrix_rank(x) if rcond is None else torch.linalg.matrix_rank(x, rtol=rcond)
    return int(rank) == x.shape[1]


def feature_matching_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    projection: Optional[torch.Tensor] = None,
    reduction: str = "mean",
) -> torch.Tensor:
    r"""Return the FitNet hint loss :math:`\|t - W s\|^2` per example, reduced over the batch.

    Parameters
    ----------
    student:
        Student features of shape ``(..., d_s)``, usually ``(N, d_s)``.
    teacher:
        Teacher features of shape ``(..., d_t)``, with the same leading shape.
    projection:
        :math:`W` of shape ``(d_t, d_s)``, mapping student features into the teacher's space
        (``student @ W.T``), as FitNets' regressor. ``None`` means the identity and requires
        ``d_s == d_t``. A map in the other direction (source note 004's ``(d_s, d_t)``) is not
        accepted: here the teacher's features are the fixed target.
    reduction:
        ``"mean"`` (default): the mean over examples of the squared norms; ``"sum"``: their sum;
        ``"none"``: one value per example, of shape ``student.shape[:-1]``.
    """
    _check_tensor(student, "student", min_dim=1, what="(..., d_s)")
    _check_tensor(teacher, "teacher", min_dim=1, what="(..., d_t)")
    if student.shape[:-1] != teacher.shape[:-1]:
        raise ValueError(
            "teacher must have the same leading shape as student (one feature vector per example), got "
            f"{tuple(teacher.shape)} and {tuple(student.shape)}"
        )
    check_choice(reduction, "reduction", FEATURE_REDUCTIONS)
    s, t = _common(student, teacher, "student", "teacher")
    d_s, d_t = s.shape[-1], t.shape[-1]
    if projection is None:
        if d_s != d_t:
            raise ValueError(
                f"projection is None (the identity) but student has width {d_s} and teacher {d_t}: "
                f"pass a projection of shape ({d_t}, {d_s})"
            )
        mapped = s
    else:
        _check_tensor(projection, "projection", min_dim=2, what=f"({d_t}, {d_s})")
        if projection.shape != (d_t, d_s):
            hint = " (it looks transposed: this loss maps the student to the teacher)" if projection.shape == (d_s, d_t) else ""
            raise ValueError(f"projection must have shape ({d_t}, {d_s}), got {tuple(projection.shape)}{hint}")
        s, w = _common(s, projection, "student", "projection")
        t = t.to(s.dtype)
        mapped = s @ w.transpose(0, 1)
    per_example = ((t - mapped) ** 2).sum(-1)
    return _reduce(per_example, reduction)


# --------------------------------------------------------------------------- relational (RKD)


def _pairwise_distances(x: torch.Tensor) -> torch.Tensor:
    """``dist[i, j] = ||x_i - x_j||``, from the differences themselves (not the Gram matrix, whose cancellation
    would leave rounding noise where rows coincide): exactly 0 on the diagonal and for duplicate rows, and
    without the ``(N, N, d)`` tensor of differences."""
    return torch.cdist(x, x, compute_mode="donot_use_mm_for_euclid_dist")


def _distance_potentials(x: torch.Tensor, name: str) -> torch.Tensor:
    n = x.shape[0]
    distances = _pairwise_distances(x)  # zero on the diagonal
    mu = distances.sum() / (n * (n - 1))
    if not bool(mu > 0):
        raise ValueError(f"{name} has all rows equal: the mean pairwise distance is 0, so psi_D is undefined")
    return distances / mu


def _angle_potentials(x: torch.Tensor) -> torch.Tensor:
    # The cosine at vertex j by the law of cosines, from the N x N distances alone:
    # <e_ij, e_kj> = (|x_i - x_j|^2 + |x_k - x_j|^2 - |x_i - x_k|^2) / (2 |x_i - x_j| |x_k - x_j|),
    # N^3 scalar operations instead of N^3 d for the inner products of the unit vectors.
    n = x.shape[0]
    distances = _pairwise_distances(x)
    squared = distances * distances
    defined = distances > 0  # no unit vector e_ij where x_i = x_j (the diagonal, or duplicate rows)
    safe = torch.where(defined, distances, torch.ones_like(distances))  # no 0/0, in the values or the gradient
    numerator = squared[:, :, None] + squared.T[None, :, :] - squared[:, None, :]
    cosines = numerator / (2 * safe[:, :, None] * safe.T[None, :, :])
    idx = torch.arange(n, device=x.device)
    distinct = (
        (idx[:, None, None] != idx[None, :, None])
        & (idx[None, :, None] != idx[None, None, :])
        & (idx[:, None, None] != idx[None, None, :])
    )
    keep = distinct & defined[:, :, None] & defined.T[None, :, :]
    return torch.where(keep, cosines, torch.zeros((), dtype=cosines.dtype, device=cosines.device))


def rkd_distance_potentials(x: torch.Tensor) -> torch.Tensor:
    r"""Return the ``(N, N)`` matrix :math:`\psi_D(i, j) = \|x_i - x_j\|_2 / \mu`.

    :math:`\mu = \frac{1}{N(N-1)} \sum_{i \ne j} \|x_i - x_j\|_2` is the mean distance over the
    pairs of distinct examples (Park et al., 2019). The diagonal is 0. Dividing by
    :math:`\mu` makes the potentials invariant to scaling the embedding, as well as to rotating
    and translating it. ``x`` is ``(N, d)`` with ``N >= 2`` and not all rows equal.
    """
    x = _check_rows(x, "x", min_rows=2)
    return _distance_potentials(working_dtype(x), "x")


def rkd_angle_potentials(x: torch.Tensor) -> torch.Tensor:
    r"""Return the ``(N, N, N)`` tensor :math:`\psi_A(i, j, k) = \langle e_{ij}, e_{kj} \rangle`.

    :math:`e_{ij} = (x_i - x_j)/\|x_i - x_j\|_2`, so the entry is the cosine of the angle
    :math:`\angle x_i x_j x_k` at the vertex :math:`x_j`, the middle index, as in Park et al.
    (2019). Entries with a repeated index (:math:`i = j`, :math:`j = k` or :math:`i = k`) are
    set to 0. Where two distinct examples coincide (:math:`x_i = x_j`, no angle defined) the unit
    vector is taken as 0, so those cosines are 0 too. ``x`` is ``(N, d)`` with ``N >= 3``.
    """
    x = _check_rows(x, "x", min_rows=3)
    return _angle_potentials(working_dtype(x))


def _huber(difference: torch.Tensor, delta: float) -> torch.Tensor:
    a = difference.abs()
    return torch.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta))


def _check_rkd_pair(student, teacher, min_rows):
    _check_rows(student, "student", min_rows=min_rows)
    _check_rows(teacher, "teacher", min_rows=min_rows)
    _check_same_rows(student, teacher, "student", "teacher")
    return _common(student, teacher, "student", "teacher")


def rkd_distance_loss(student: torch.Tensor, teacher: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    r"""Return the RKD distance loss :math:`\frac{1}{N(N-1)} \sum_{i \ne j} l_\delta\big(\psi_D^s(i,j) - \psi_D^t(i,j)\big)`.

    :math:`\psi_D` is :func:`rkd_distance_potentials` of each model's ``(N, d)`` embeddings (the
    widths may differ; ``N >= 2``), and :math:`l_\delta` the Huber loss,
    :math:`\frac12 r^2` for :math:`|r| \le \delta` and :math:`\delta(|r| - \frac12\delta)`
    beyond. At the default :math:`\delta = 1` it is PyTorch's ``smooth_l1_loss``, as in the paper.
    """
    s, t = _check_rkd_pair(student, teacher, 2)
    delta = check_temperature(delta, "delta")
    n = s.shape[0]
    losses = _huber(_distance_potentials(s, "student") - _distance_potentials(t, "teacher"), delta)
    return losses.sum() / (n * (n - 1))  # the diagonal contributes 0


def rkd_angle_loss(student: torch.Tensor, teacher: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    r"""Return the RKD angle loss: the Huber loss between angle potentials, mean over distinct triplets.

    :math:`\frac{1}{N(N-1)(N-2)} \sum_{i,j,k \text{ distinct}} l_\delta\big(\psi_A^s(i,j,k) - \psi_A^t(i,j,k)\big)`
    with :math:`\psi_A` from :func:`rkd_angle_potentials` (``N >= 3``) and :math:`l_\delta` as in
    :func:`rkd_distance_loss`.
    """
    s, t = _check_rkd_pair(student, teacher, 3)
    delta = check_temperature(delta, "delta")
    n = s.shape[0]
    losses = _huber(_angle_potentials(s) - _angle_potentials(t), delta)
    return losses.sum() / (n * (n - 1) * (n - 2))  # repeated-index entries contribute 0


# --------------------------------------------------------------------------- attention


def attention_transfer_loss(
    student_attention: torch.Tensor, teacher_attention: torch.Tensor, reduction: str = "mean"
) -> torch.Tensor:
    r"""Return :math:`\frac1H \sum_{h=1}^{H} \|A_s^h - A_t^h\|_F^2`, the mean over heads of the squared Frobenius distance.

    Inputs have shape ``(..., H, L_q, L_k)`` (usually ``(B, H, L, L)``), the same for student
    and teacher: the student needs as many heads as the teacher, or a chosen subset of the
    teacher's heads. ``reduction`` acts on the leading axes ``...``: ``"mean"`` (default),
    ``"sum"``, or ``"none"`` (one value per leading index; a 0-d tensor without leading axes).

    Without the :math:`1/H` (a plain sum over heads, as source note 004 writes it) the loss is
    :math:`H` times larger. TinyBERT's ``MSE`` form further divides by :math:`L_q L_k`.
    """
    what = "(..., H, L_q, L_k)"
    _check_tensor(student_attention, "student_attention", min_dim=3, what=what)
    _check_tensor(teacher_attention, "teacher_attention", min_dim=3, what=what)
    if student_attention.shape != teacher_attention.shape:
        raise ValueError(
            "teacher_attention must have the same shape as student_attention, got "
            f"{tuple(teacher_attention.shape)} and {tuple(student_attention.shape)}"
        )
    check_choice(reduction, "reduction", FEATURE_REDUCTIONS)
    s, t = _common(student_attention, teacher_attention, "student_attention", "teacher_attention")
    per_head = ((s - t) ** 2).sum(dim=(-2, -1))
    return _reduce(per_head.mean(-1), reduction)


# --------------------------------------------------------------------------- spatial attention (convolutional maps)

SPATIAL_ATTENTION_FORMS = ("paper", "code")


def _check_feature_maps(x: object, name: str) -> torch.Tensor:
    x = _check_tensor(x, name, min_dim=4, what="(B, C, H, W)")
    if x.dim() != 4:
        raise ValueError(f"{name} must be a 4-d tensor (B, C, H, W), got shape {tuple(x.shape)}")
    return x


def _spatial_attention(features: torch.Tensor, p: float) -> torch.Tensor:
    q = features.abs().pow(p).sum(dim=1).flatten(1)
    # the floor of torch.nn.functional.normalize: a map that is zero everywhere stays zero instead of NaN
    return q / torch.linalg.vector_norm(q, dim=1, keepdim=True).clamp_min(1e-12)


def spatial_attention_map(features: torch.Tensor, p: float = 2) -> torch.Tensor:
    r"""Return the normalised spatial attention maps ``(B, H*W)`` of feature maps ``(B, C, H, W)``.

    Zagoruyko and Komodakis (2017), section 3.1: for one example's activations :math:`A \in \mathbb{R}^{C
    \times H \times W}` the map is :math:`F^p_{\mathrm{sum}}(A) = \sum_{c=1}^{C} |A_c|^p`, an :math:`H \times W`
    array, flattened (row-major) into :math:`Q \in \mathbb{R}^{HW}` and divided by its Euclidean norm, as
    their eq. 2 does: the result is :math:`Q / \|Q\|_2`, one row per example. A map that is zero everywhere
    (every activation 0) is returned as 0 (the norm is floored at :math:`10^{-12}`, as
    ``torch.nn.functional.normalize`` does).

    Because of the normalisation, scaling the features by a constant :math:`c \ne 0` leaves the map unchanged
    (:math:`Q` scales by :math:`|c|^p`), and so does averaging over the channels instead of summing (their
    code's ``x.pow(2).mean(1)``). ``p`` is the exponent, a number > 0; the paper uses 2 (and studies 1 and 4).
    """
    _check_feature_maps(features, "features")
    p = check_temperature(p, "p")
    return _spatial_attention(working_dtype(features), p)


def spatial_attention_loss(
    student_features: torch.Tensor, teacher_features: torch.Tensor, p: float = 2, *, form: str = "paper"
) -> torch.Tensor:
    r"""Return the attention-transfer distance between the student's and the teacher's feature maps, batch mean.

    With :math:`q_{s,i}` and :math:`q_{t,i}` the normalised maps of example :math:`i`
    (:func:`spatial_attention_map`, exponent ``p``) and
    :math:`d_i = \|q_{s,i} - q_{t,i}\|_2`, over a batch of :math:`B` examples of :math:`H \times W` positions:

    * ``form="paper"`` (default): :math:`\frac1B \sum_i d_i`, the batch mean of Zagoruyko and Komodakis's eq. 2,
      :math:`\bigl\| \frac{Q_S}{\|Q_S\|_2} - \frac{Q_T}{\|Q_T\|_2} \bigr\|_p` with the norm they use,
      :math:`p = 2` (the norm of the distance, not squared; unrelated to the exponent ``p`` of the maps).
    * ``form="code"``: :math:`\frac{1}{B H W} \sum_i d_i^2`, what their released code computes,
      ``(at(x) - at(y)).pow(2).mean()``: the mean of the squared differences over the batch *and* the positions.

    So example :math:`i` contributes :math:`d_i` to the paper's form and :math:`d_i^2 / (H W)` to the code's:
    the code's term is the paper's squared, divided by the :math:`H W` positions of the map (no constant factor
    relates the two batch means; by Jensen's inequality ``code >= paper**2 / (H W)``, with equality when every
    :math:`d_i` is the same). Both are 0 when the maps agree; since the maps are non-negative unit vectors,
    :math:`0 \le d_i \le \sqrt 2`.

    The spatial sizes :math:`H \times W` must be equal; the channel counts may differ (each map sums over its
    own channels).
    """
    _check_feature_maps(student_features, "student_features")
    _check_feature_maps(teacher_features, "teacher_features")
    if student_features.shape[0] != teacher_features.shape[0]:
        raise ValueError(f"teacher_features must have as many examples as student_features, got "
                         f"{teacher_features.shape[0]} and {student_features.shape[0]}")
    if student_features.shape[2:] != teacher_features.shape[2:]:
        raise ValueError(f"teacher_features must have the spatial size (H, W) of student_features, got "
                         f"{tuple(teacher_features.shape[2:])} and {tuple(student_features.shape[2:])}")
    p = check_temperature(p, "p")
    check_choice(form, "form", SPATIAL_ATTENTION_FORMS)
    s, t = _common(student_features, teacher_features, "student_features", "teacher_features")
    difference = _spatial_attention(s, p) - _spatial_attention(t, p)
    if form == "code":
        return (difference ** 2).mean()
    return torch.linalg.vector_norm(difference, dim=1).mean()
