"""The one-dimensional mode-covering / mode-seeking picture: known answers of the Gaussian fits."""

from __future__ import annotations

import math

import pytest
import torch

from kdmath import divergences as dv
from kdmath import mixture

GRID = torch.linspace(-12.0, 12.0, 4801, dtype=torch.float64)
TEACHER = mixture.bimodal_teacher(GRID)
NEAR_MODE = (1.5, 0.5)


def _objective(name, mu, sigma, beta=0.5):
    student = -0.5 * ((GRID - mu) / sigma) ** 2
    return dv.divergence(name, student, TEACHER.log(), beta=beta).item()


def test_teacher_density_is_the_stated_mixture():
    x = torch.tensor([-2.0, 0.0, 0.7, 2.0], dtype=torch.float64)

    def normal(v, m):
        return math.exp(-0.5 * ((v - m) / 0.6) ** 2) / (0.6 * math.sqrt(2 * math.pi))

    expected = [0.5 * normal(v, -2.0) + 0.5 * normal(v, 2.0) for v in x.tolist()]
    torch.testing.assert_close(
        mixture.bimodal_teacher(x), torch.tensor(expected, dtype=torch.float64), rtol=1e-14, atol=0
    )
    dx = (GRID[1] - GRID[0]).item()
    assert abs(TEACHER.sum().item() * dx - 1.0) < 1e-9
    mean = (GRID * TEACHER).sum().item() * dx
    variance = ((GRID - mean) ** 2 * TEACHER).sum().item() * dx
    assert abs(mean) < 1e-12 and abs(variance - mixture.TEACHER_VARIANCE) < 1e-9


@pytest.mark.parametrize("init", [(0.5, 1.0), NEAR_MODE, (-3.0, 4.0)])
def test_forward_kl_matches_the_moments(init):
    mu, sigma = mixture.fit_gaussian(TEACHER, GRID, "forward_kl", init=init)
    assert abs(mu - 0.0) < 1e-3
    assert abs(sigma**2 - (0.6**2 + 4.0)) < 1e-3


@pytest.mark.parametrize("init", [NEAR_MODE, (2.5, 1.0)])
def test_reverse_kl_from_near_a_mode_seeks_that_mode(init):
    mu, sigma = mixture.fit_gaussian(TEACHER, GRID, "reverse_kl", init=init)
    assert abs(mu - 2.0) < 0.01 and abs(sigma - 0.6) < 0.01
    # a true minimum: no better than it at the mode's own parameters or a nudge away
    best = _objective("reverse_kl", mu, sigma)
    assert best <= _objective("reverse_kl", 2.0, 0.6)
    for dmu, dsigma in ((1e-3, 0), (-1e-3, 0), (0, 1e-3), (0, -1e-3)):
        assert best <= _objective("reverse_kl", mu + dmu, sigma + dsigma)
    # mirrored start, mirrored mode
    mirrored = mixture.fit_gaussian(TEACHER, GRID, "reverse_kl", init=(-init[0], init[1]))
    assert abs(mirrored[0] + mu) < 1e-6 and abs(mirrored[1] - sigma) < 1e-6
    # it costs about log 2: q covers half of p's mass
    assert abs(best - math.log(2)) < 0.01


def test_reverse_kl_from_the_middle_stops_at_the_covering_local_minimum():
    """Mode seeking is local: from a start between the modes the fit stays symmetric, a worse minimum."""
    mu, sigma = mixture.fit_gaussian(TEACHER, GRID, "reverse_kl", init=(0.5, 1.0))
    assert abs(mu) < 1e-6 and 1.7 < sigma < 1.9
    assert _objective("reverse_kl", mu, sigma) > _objective("reverse_kl", 2.0, 0.6) + 0.4


def test_jsd_lies_between_and_tends_to_forward_kl_as_beta_goes_to_zero():
    forward = mixture.fit_gaussian(TEACHER, GRID, "forward_kl")
    reverse = mixture.fit_gaussian(TEACHER, GRID, "reverse_kl", init=NEAR_MODE)
    for beta in (0.1, 0.5, 0.9):
        for init in (NEAR_MODE, (0.5, 1.0)):
            mu, sigma = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=beta, init=init)
            assert reverse[1] - 1e-6 <= sigma <= forward[1] + 1e-6
            assert -1e-6 <= abs(mu) <= reverse[0] + 1e-6
    # small beta: JSD_beta / beta -> KL(p||q), so the fit tends to moment matching
    small = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=0.01, init=NEAR_MODE)
    assert abs(small[0]) < 1e-3 and abs(small[1] - forward[1]) < 2e-3
    # beta near 1: JSD_beta / (1 - beta) -> KL(q||p); from near a mode, that mode
    large = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=0.99, init=NEAR_MODE)
    assert abs(large[0] - reverse[0]) < 1e-3 and abs(large[1] - reverse[1]) < 1e-3


def test_which_jsd_minimum_is_global_changes_with_beta():
    """At beta = 1/2 covering both modes beats sitting on one; at beta = 0.9 the mode wins."""
    for beta, covering_wins in ((0.5, True), (0.9, False)):
        seeking = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=beta, init=NEAR_MODE)
        covering = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=beta, init=(0.5, 1.0))
        assert seeking[0] > 1.9 and abs(covering[0]) < 1e-6
        assert (_objective("jsd", *covering, beta) < _objective("jsd", *seeking, beta)) == covering_wins


def test_fits_are_deterministic():
    first = mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=0.3, init=NEAR_MODE)
    assert mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=0.3, init=NEAR_MODE) == first


def test_bad_inputs_raise_named_errors():
    with pytest.raises(ValueError, match="divergence"):
        mixture.fit_gaussian(TEACHER, GRID, "kl")
    with pytest.raises(ValueError, match="beta"):
        mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=0.0)
    with pytest.raises(ValueError, match="beta"):
        mixture.fit_gaussian(TEACHER, GRID, "jsd", beta=2.0)
    with pytest.raises(ValueError, match="teacher_density"):
        mixture.fit_gaussian(TEACHER[:-1], GRID, "forward_kl")
    with pytest.raises(ValueError, match="teacher_density"):
        mixture.fit_gaussian(torch.zeros_like(GRID), GRID, "forward_kl")
    with pytest.raises(TypeError, match="teacher_density"):
        mixture.fit_gaussian(TEACHER.tolist(), GRID, "forward_kl")
    with pytest.raises(ValueError, match="x"):
        mixture.fit_gaussian(TEACHER, GRID.flip(0), "forward_kl")
    with pytest.raises(TypeError, match="x"):
        mixture.fit_gaussian(TEACHER, GRID.long(), "forward_kl")
    with pytest.raises(ValueError, match="init"):
        mixture.fit_gaussian(TEACHER, GRID, "forward_kl", init=(0.0, -1.0))
    with pytest.raises(TypeError, match="init"):
        mixture.fit_gaussian(TEACHER, GRID, "forward_kl", init=None)
    with pytest.raises(ValueError, match="steps"):
        mixture.fit_gaussian(TEACHER, GRID, "forward_kl", steps=0)
    with pytest.raises(ValueError, match="lr"):
        mixture.fit_gaussian(TEACHER, GRID, "forward_kl", lr=-1.0)
    with pytest.raises(TypeError, match="x"):
        mixture.bimodal_teacher([0.0, 1.0])
