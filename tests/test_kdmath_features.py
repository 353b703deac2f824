"""kdmath.features against independent references: numpy lstsq, explicit loops, the law of cosines."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kdmath import features


def _randn(seed, *shape, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, dtype=torch.float64, generator=g) * scale


def _orthogonal(seed, d):
    q, r = torch.linalg.qr(_randn(seed, d, d))
    return q * torch.sign(torch.diagonal(r))


# --------------------------------------------------------------------------- projection


@pytest.mark.parametrize("n, d_x, d_y", [(50, 6, 4), (7, 7, 3), (30, 3, 9), (5, 12, 4), (1, 3, 2)])
def test_projection_matches_numpy_lstsq(n, d_x, d_y):
    source, target = _randn(n, n, d_x), _randn(n + 1, n, d_y)
    w = features.least_squares_projection(source, target)
    assert w.shape == (d_y, d_x) and w.dtype == torch.float64
    # numpy solves source @ B = target in the least-squares sense, minimum norm when rank deficient.
    b, *_ = np.linalg.lstsq(source.numpy(), target.numpy(), rcond=None)
    np.testing.assert_allclose(w.numpy(), b.T, rtol=1e-9, atol=1e-11)


def test_projection_closed_form_when_full_rank():
    source, target = _randn(0, 40, 5), _randn(1, 40, 3)
    X, Y = source.T, target.T
    closed = Y @ X.T @ torch.linalg.inv(X @ X.T)
    assert features.projection_is_unique(source)
    torch.testing.assert_close(features.least_squares_projection(source, target), closed, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n, d_x", [(40, 5), (4, 9)])
def test_gradient_of_objective_vanishes_at_projection(n, d_x):
    source, target = _randn(2, n, d_x), _randn(3, n, 4)
    w = features.least_squares_projection(source, target).requires_grad_(True)
    objective = ((target.T - w @ source.T) ** 2).sum()
    (grad,) = torch.autograd.grad(objective, w)
    assert grad.abs().max().item() < 1e-10
    # and a perturbation raises the objective (a minimum, not a saddle)
    with torch.no_grad():
        bumped = ((target.T - (w + 1e-3 * _randn(4, *w.shape)) @ source.T) ** 2).sum()
    assert bumped.item() >= objective.item() - 1e-12


def test_rank_deficient_gives_minimum_norm_and_many_minimisers():
    source, target = _randn(5, 6, 10), _randn(6, 6, 3)  # N = 6 < d = 10
    assert not features.projection_is_unique(source)
    w = features.least_squares_projection(source, target)
    X = source.T
    # another minimiser: add V with V X = 0 (rows in the null space of X^T)
    v = _randn(7, 3, 10) @ (torch.eye(10, dtype=torch.float64) - X @ torch.linalg.pinv(X))
    torch.testing.assert_close(v @ X, torch.zeros(3, 6, dtype=torch.float64), atol=1e-10, rtol=0)
    loss = lambda m: ((target.T - m @ X) ** 2).sum().item()  # noqa: E731
    assert loss(w) == pytest.approx(loss(w + v), abs=1e-10)
    assert torch.linalg.matrix_norm(w) < torch.linalg.matrix_norm(w + v)
    # N < d: the fit is exact
    assert loss(w) < 1e-18


def test_projection_is_unique_rank_cases():
    assert features.projection_is_unique(_randn(8, 20, 4))
    assert not features.projection_is_unique(_randn(8, 3, 4))
    collinear = _randn(9, 20, 1) @ torch.ones(1, 3, dtype=torch.float64)  # rank 1, width 3
    assert not features.projection_is_unique(collinear)
    assert features.projection_is_unique(torch.eye(3, dtype=torch.float64))


def test_projection_rcond_truncates_small_singular_values():
    u, _ = torch.linalg.qr(_randn(10, 12, 3))
    source = u @ torch.diag(torch.tensor([1.0, 1e-2, 1e-9], dtype=torch.float64))
    target = _randn(11, 12, 2)
    assert features.projection_is_unique(source)
    assert not features.projection_is_unique(source, rcond=1e-6)
    truncated = features.least_squares_projection(source, target, rcond=1e-6)
    b, *_ = np.linalg.lstsq(source.numpy(), target.numpy(), rcond=1e-6)
    np.testing.assert_allclose(truncated.numpy(), b.T, rtol=1e-8, atol=1e-10)


def test_projection_float32_and_mixed_dtypes():
    source, target = _randn(12, 30, 4), _randn(13, 30, 2)
    w64 = features.least_squares_projection(source, target)
    w32 = features.least_squares_projection(source.float(), target.float())
    assert w32.dtype == torch.float32
    torch.testing.assert_close(w32.double(), w64, rtol=1e-4, atol=1e-5)
    assert features.least_squares_projection(source.float(), target).dtype == torch.float64
    assert features.least_squares_projection(source.half(), target.half()).dtype == torch.float32


# --------------------------------------------------------------------------- feature matching


def test_feature_matching_loss_against_loop():
    student, teacher, w = _randn(14, 9, 4), _randn(15, 9, 6), _randn(16, 6, 4)
    per = torch.stack([((teacher[n] - w @ student[n]) ** 2).sum() for n in range(9)])
    torch.testing.assert_close(features.feature_matching_loss(student, teacher, w, reduction="none"), per)
    torch.testing.assert_close(features.feature_matching_loss(student, teacher, w), per.mean())
    torch.testing.assert_close(features.feature_matching_loss(student, teacher, w, reduction="sum"), per.sum())
    same = _randn(17, 9, 4)
    torch.testing.assert_close(features.feature_matching_loss(same, same), torch.zeros((), dtype=torch.float64))
    torch.testing.assert_close(
        features.feature_matching_loss(student, same), ((same - student) ** 2).sum(-1).mean()
    )


def test_feature_matching_loss_leading_axes_and_optimum():
    student, teacher, w = _randn(18, 2, 5, 3), _randn(19, 2, 5, 4), _randn(20, 4, 3)
    assert features.feature_matching_loss(student, teacher, w, reduction="none").shape == (2, 5)
    flat = features.feature_matching_loss(student.reshape(10, 3), teacher.reshape(10, 4), w)
    torch.testing.assert_close(features.feature_matching_loss(student, teacher, w), flat)
    # the least-squares projection minimises the hint loss over W
    s, t = student.reshape(10, 3), teacher.reshape(10, 4)
    best = features.least_squares_projection(s, t)
    at_best = features.feature_matching_loss(s, t, best)
    for seed in range(5):
        assert features.feature_matching_loss(s, t, best + 0.01 * _randn(seed, 4, 3)) > at_best


# --------------------------------------------------------------------------- RKD potentials


def _loop_distance_potentials(x):
    x = x.numpy()
    n = len(x)
    d = np.array([[np.sqrt(((x[i] - x[j]) ** 2).sum()) for j in range(n)] for i in range(n)])
    mu = sum(d[i, j] for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return d / mu


def _loop_angle_potentials(x):
    x = x.numpy()
    n = len(x)
    out = np.zeros((n, n, n))
    for i, j, k in itertools.permutations(range(n), 3):
        a, b = x[i] - x[j], x[k] - x[j]
        out[i, j, k] = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return out


@pytest.mark.parametrize("n, d", [(2, 3), (5, 4), (8, 2), (6, 20)])
def test_distance_potentials_against_loops(n, d):
    x = _randn(n * d, n, d)
    np.testing.assert_allclose(features.rkd_distance_potentials(x).numpy(), _loop_distance_potentials(x), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n, d", [(3, 2), (5, 4), (7, 3)])
def test_angle_potentials_against_loops_and_law_of_cosines(n, d):
    x = _randn(n * d + 1, n, d)
    psi = features.rkd_angle_potentials(x)
    np.testing.assert_allclose(psi.numpy(), _loop_angle_potentials(x), rtol=1e-12, atol=1e-14)
    dist = torch.cdist(x, x)
    for i, j, k in itertools.permutations(range(n), 3):
        law = (dist[i, j] ** 2 + dist[k, j] ** 2 - dist[i, k] ** 2) / (2 * dist[i, j] * dist[k, j])
        assert psi[i, j, k].item() == pytest.approx(law.item(), abs=1e-12)


def test_potentials_invariances():
    x = _randn(21, 7, 5)
    q = _orthogonal(22, 5)
    shift = _randn(23, 1, 5)
    for transform in (lambda v: 3.7 * v, lambda v: v @ q.T, lambda v: v + shift, lambda v: -0.2 * v @ q.T + shift):
        y = transform(x)
        torch.testing.assert_close(features.rkd_distance_potentials(y), features.rkd_distance_potentials(x), rtol=1e-11, atol=1e-12)
        torch.testing.assert_close(features.rkd_angle_potentials(y), features.rkd_angle_potentials(x), rtol=1e-11, atol=1e-12)
    # distance potentials: mean over distinct pairs is 1
    psi = features.rkd_distance_potentials(x)
    assert (psi.sum() / (7 * 6)).item() == pytest.approx(1.0, abs=1e-13)
    torch.testing.assert_close(psi, psi.T)


def test_angle_potentials_repeated_indices_zero_and_symmetry():
    x = _randn(24, 6, 3)
    psi = features.rkd_angle_potentials(x)
    for i, j, k in itertools.product(range(6), repeat=3):
        if len({i, j, k}) < 3:
            assert psi[i, j, k].item() == 0.0
    torch.testing.assert_close(psi, psi.transpose(0, 2))  # angle at j is symmetric in i and k
    # the angles of each triangle sum to pi
    for i, j, k in itertools.combinations(range(6), 3):
        total = sum(math.acos(psi[a, b, c].item()) for a, b, c in ((j, i, k), (i, j, k), (i, k, j)))
        assert total == pytest.approx(math.pi, abs=1e-10)


def test_duplicate_rows_give_finite_potentials_and_gradients():
    x = _randn(25, 5, 3)
    x = torch.cat([x, x[:1]]).requires_grad_(True)  # row 5 duplicates row 0
    psi = features.rkd_angle_potentials(x)
    assert psi[0, 5, 2].item() == 0.0 and torch.isfinite(psi).all()
    loss = features.rkd_angle_loss(x, _randn(26, 6, 4)) + features.rkd_distance_loss(x, _randn(27, 6, 4))
    (grad,) = torch.autograd.grad(loss, x)
    assert torch.isfinite(grad).all()


# --------------------------------------------------------------------------- RKD losses


def _huber_np(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta))


@pytest.mark.parametrize("delta", [1.0, 0.05, 3.0])
def test_rkd_losses_against_loops(delta):
    s, t = _randn(28, 6, 3, scale=2.0), _randn(29, 6, 8)
    ps, pt = _loop_distance_potentials(s), _loop_distance_potentials(t)
    want = np.mean([_huber_np(ps[i, j] - pt[i, j], delta) for i in range(6) for j in range(6) if i != j])
    assert features.rkd_distance_loss(s, t, delta=delta).item() == pytest.approx(want, rel=1e-12)
    As, At = _loop_angle_potentials(s), _loop_angle_potentials(t)
    want = np.mean([_huber_np(As[i, j, k] - At[i, j, k], delta) for i, j, k in itertools.permutations(range(6), 3)])
    assert features.rkd_angle_loss(s, t, delta=delta).item() == pytest.approx(want, rel=1e-12)


def test_huber_matches_torch_and_smooth_l1_at_delta_one():
    s, t = _randn(30, 5, 3, scale=4.0), _randn(31, 5, 2)
    ps, pt = features.rkd_distance_potentials(s), features.rkd_distance_potentials(t)
    off = ~torch.eye(5, dtype=torch.bool)
    for delta in (0.1, 1.0, 2.5):
        want = F.huber_loss(ps[off], pt[off], delta=delta)
        torch.testing.assert_close(features.rkd_distance_loss(s, t, delta=delta), want)
    torch.testing.assert_close(features.rkd_distance_loss(s, t), F.smooth_l1_loss(ps[off], pt[off]))


def test_rkd_losses_zero_for_similar_embeddings_and_symmetric():
    t = _randn(32, 7, 4)
    s = 0.3 * t @ _orthogonal(33, 4) + 5.0
    assert features.rkd_distance_loss(s, t).item() < 1e-25
    assert features.rkd_angle_loss(s, t).item() < 1e-25
    u = _randn(34, 7, 2)
    assert features.rkd_distance_loss(u, t).item() > 1e-3
    torch.testing.assert_close(features.rkd_distance_loss(u, t), features.rkd_distance_loss(t, u))
    torch.testing.assert_close(features.rkd_angle_loss(u, t), features.rkd_angle_loss(t, u))


def test_rkd_gradients_against_finite_differences():
    s, t = _randn(35, 5, 3).requires_grad_(True), _randn(36, 5, 4)
    for fn in (features.rkd_distance_loss, features.rkd_angle_loss):
        assert torch.autograd.gradcheck(lambda v: fn(v, t, delta=0.5), (s,), eps=1e-6, atol=1e-7)


# --------------------------------------------------------------------------- attention


def test_attention_transfer_against_loop_and_head_factor():
    B, H, L = 3, 4, 5
    a_s = torch.softmax(_randn(37, B, H, L, L), -1)
    a_t = torch.softmax(_randn(38, B, H, L, L), -1)
    per = torch.tensor([
        sum(torch.linalg.matrix_norm(a_s[b, h] - a_t[b, h]).item() ** 2 for h in range(H)) / H for b in range(B)
    ], dtype=torch.float64)
    torch.testing.assert_close(features.attention_transfer_loss(a_s, a_t, reduction="none"), per)
    torch.testing.assert_close(features.attention_transfer_loss(a_s, a_t), per.mean())
    torch.testing.assert_close(features.attention_transfer_loss(a_s, a_t, reduction="sum"), per.sum())
    summed_over_heads = ((a_s - a_t) ** 2).sum(dim=(-3, -2, -1))
    torch.testing.assert_close(summed_over_heads, H * per)
    # TinyBERT's MSE per head, averaged over heads, is the loss / (L * L)
    tiny = torch.stack([F.mse_loss(a_s[b], a_t[b]) for b in range(B)])
    torch.testing.assert_close(tiny, per / L**2)
    # no leading axes: a 0-d tensor; rectangular maps are fine
    assert features.attention_transfer_loss(a_s[0], a_t[0]).shape == ()
    assert features.attention_transfer_loss(_randn(39, 2, 3, 4), _randn(40, 2, 3, 4)).shape == ()
    torch.testing.assert_close(features.attention_transfer_loss(a_s, a_s), torch.zeros((), dtype=torch.float64))


# --------------------------------------------------------------------------- bad input

X = _randn(41, 6, 3)
Y = _randn(42, 6, 2)


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: features.least_squares_projection(X.numpy(), Y), TypeError, "source"),
        (lambda: features.least_squares_projection(X, Y.long()), TypeError, "target"),
        (lambda: features.least_squares_projection(X[0], Y), ValueError, "source"),
        (lambda: features.least_squares_projection(X, Y[:5]), ValueError, "target"),
        (lambda: features.least_squares_projection(X, Y.unsqueeze(0)), ValueError, "target"),
        (lambda: features.least_squares_projection(X * math.nan, Y), ValueError, "source"),
        (lambda: features.least_squares_projection(X, Y * math.inf), ValueError, "target"),
        (lambda: features.least_squares_projection(X, Y, rcond=-1.0), ValueError, "rcond"),
        (lambda: features.least_squares_projection(X, Y, rcond=math.nan), ValueError, "rcond"),
        (lambda: features.least_squares_projection(X, Y, rcond="1e-3"), TypeError, "rcond"),
        (lambda: features.least_squares_projection(X[:, :0], Y), ValueError, "source"),
        (lambda: features.projection_is_unique([[1.0]]), TypeError, "source"),
        (lambda: features.projection_is_unique(X, rcond=True), TypeError, "rcond"),
        (lambda: features.feature_matching_loss(X, Y), ValueError, "projection"),
        (lambda: features.feature_matching_loss(X, Y, torch.zeros(3, 2, dtype=torch.float64)), ValueError, "projection"),
        (lambda: features.feature_matching_loss(X, Y, torch.zeros(2, 3, dtype=torch.int64)), TypeError, "projection"),
        (lambda: features.feature_matching_loss(X, Y[:4], torch.zeros(2, 3, dtype=torch.float64)), ValueError, "teacher"),
        (lambda: features.feature_matching_loss(X, X, reduction="batchmean"), ValueError, "reduction"),
        (lambda: features.feature_matching_loss(X.int(), X), TypeError, "student"),
        (lambda: features.rkd_distance_potentials(X[:1]), ValueError, "x"),
        (lambda: features.rkd_distance_potentials(torch.ones(4, 2)), ValueError, "x"),
        (lambda: features.rkd_angle_potentials(X[:2]), ValueError, "x"),
        (lambda: features.rkd_angle_potentials(X.unsqueeze(0)), ValueError, "x"),
        (lambda: features.rkd_distance_loss(X, Y[:5]), ValueError, "teacher"),
        (lambda: features.rkd_distance_loss(X, Y, delta=0.0), ValueError, "delta"),
        (lambda: features.rkd_distance_loss(X, Y, delta=-1.0), ValueError, "delta"),
        (lambda: features.rkd_angle_loss(X, Y, delta=math.inf), ValueError, "delta"),
        (lambda: features.rkd_angle_loss(X, Y, delta="1"), TypeError, "delta"),
        (lambda: features.rkd_angle_loss(X[:2], Y[:2]), ValueError, "student"),
        (lambda: features.rkd_distance_loss(torch.ones(4, 2), Y[:4]), ValueError, "student"),
        (lambda: features.rkd_distance_loss(X, torch.ones(6, 2)), ValueError, "teacher"),
        (lambda: features.rkd_distance_loss(X, Y * math.nan), ValueError, "teacher"),
        (lambda: features.attention_transfer_loss(X, X), ValueError, "student_attention"),
        (lambda: features.attention_transfer_loss(_randn(0, 2, 3, 3), _randn(1, 2, 3, 4)), ValueError, "teacher_attention"),
        (lambda: features.attention_transfer_loss(_randn(0, 2, 3, 3), None), TypeError, "teacher_attention"),
        (lambda: features.attention_transfer_loss(_randn(0, 2, 3, 3), _randn(1, 2, 3, 3), reduction="max"), ValueError, "reduction"),
    ],
)
def test_bad_input_names_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name}\b"):
        call()
