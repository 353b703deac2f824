"""Tests for kdmath.conventions: each preset against a hand-written version of its documented formula.

The optional tests at the end run the libraries' own code when they are importable from the directory in
$KDBOOK_CONVENTION_LIBS (default /tmp/conv-libs, filled by
``pip install --no-deps --target /tmp/conv-libs torchdistill==1.1.5 textbrewer==0.2.1.post1
liger-kernel==0.8.5 trl==1.16.0``), and are skipped otherwise.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from kdmath.conventions import (
    PRESETS,
    Convention,
    NotTranslatableError,
    book_loss,
    to_book,
    translate,
)

RTOL = 1e-12


def _logits(shape, seed, scale=1.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64) * scale


def _labels(shape, K, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, K, shape, generator=generator)


def _close(a, b, rtol=RTOL):
    torch.testing.assert_close(a, b, rtol=rtol, atol=1e-14)


def _check(foreign_fn, translation, z_s, z_t, y, rtol=RTOL):
    """foreign == scale * book_loss in value and in gradient with respect to the student logits."""
    z = z_s.clone().requires_grad_(True)
    foreign = foreign_fn(z)
    (foreign_grad,) = torch.autograd.grad(foreign, z)
    z = z_s.clone().requires_grad_(True)
    book = translation.scale * book_loss(z, z_t, y, **translation.settings)
    (book_grad,) = torch.autograd.grad(book, z)
    _close(foreign.detach(), book.detach(), rtol)
    _close(foreign_grad, book_grad, rtol)


# ---- hand-written formulas, as the presets' notes document them ------------------------------------------


def naive_kl(log_a, log_b):
    """Sum over the last axis of a (log a - log b), elementwise."""
    return (log_a.exp() * (log_a - log_b)).sum(-1)


def naive_gkd_jsd(z_s, z_t, beta, T):
    """Per position: TRL/Liger's JSD_beta with m = beta p + (1-beta) q, and their KL endpoints."""
    log_q, log_p = F.log_softmax(z_s / T, -1), F.log_softmax(z_t / T, -1)
    if beta == 0:
        return naive_kl(log_p, log_q)
    if beta == 1:
        return naive_kl(log_q, log_p)
    log_m = torch.log(beta * log_p.exp() + (1 - beta) * log_q.exp())
    return beta * naive_kl(log_p, log_m) + (1 - beta) * naive_kl(log_q, log_m)


def torchdistill_formula(z_s, z_t, y, T, alpha):
    log_q, log_p = F.log_softmax(z_s / T, dim=1), F.log_softmax(z_t / T, dim=1)
    kl_batchmean = naive_kl(log_p, log_q).sum() / z_s.shape[0]
    if alpha == 0:
        return kl_batchmean
    return alpha * F.cross_entropy(z_s, y) + (1 - alpha) * T**2 * kl_batchmean


def hard_sum(z_s, y):
    return -F.log_softmax(z_s, -1).gather(-1, y.unsqueeze(-1)).sum()


# ---- the book's own convention --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(6, 5), (3, 4, 7)])
def test_book_convention_is_the_identity(shape):
    T, alpha = 3.0, 0.7
    translation = to_book("book", shape, T=T, alpha=alpha)
    assert translation.scale == 1.0
    expected = {"T": T, "alpha": alpha, "t_squared": True, "reduction": "batchmean", "soft_loss": "kl"}
    assert translation.settings == expected
    z_s, z_t, y = _logits(shape, 0), _logits(shape, 1, 2.0), _labels(shape[:-1], shape[-1], 2)
    from kdmath import kd_loss

    _check(lambda z: kd_loss(z, z_t, y, T=T, alpha=alpha), translation, z_s, z_t, y)
    assert translate(shape, T, alpha=alpha, soft_reduction="token") == (
        {"alpha": alpha, "soft_loss": "kl", "t_squared": True, "reduction": "batchmean"},
        1.0,
    )


# ---- chapter 8's helper: same numbers as the chapter's cases -------------------------------------------


def test_translate_matches_chapter_8_exercise_closed_form():
    settings, c = translate((8, 100), 4.0, alpha=0.3, t_squared=False, soft_reduction="mean")
    v = 0.3 / 4.0**2 / 100
    assert abs(settings["alpha"] - v / (0.7 + v)) < 1e-15 and abs(c - (0.7 + v)) < 1e-15


@pytest.mark.parametrize(
    "shape, options",
    [
        ((6, 5), {"alpha": 0.9, "alpha_on": "hard"}),
        ((6, 5), {"alpha": 0.5, "t_squared": False, "soft_reduction": "mean"}),
        ((3, 4, 5), {"alpha": 0.7, "soft_loss": "cross_entropy"}),
        ((6, 5), {"alpha": 0.4, "soft_reduction": "sum", "hard_reduction": "sum"}),
    ],
)
def test_translate_reproduces_kl_div_and_cross_entropy(shape, options):
    T, K = 2.0, shape[-1]
    z_s, z_t, y = _logits(shape, 3), _logits(shape, 4, 3.0), _labels(shape[:-1], K, 5)
    alpha = options["alpha"]
    w_soft, w_hard = (1 - alpha, alpha) if options.get("alpha_on") == "hard" else (alpha, 1 - alpha)
    reduction = options.get("soft_reduction", "batchmean")

    def foreign(z):
        log_q, p = F.log_softmax(z / T, -1), F.softmax(z_t / T, -1)
        if options.get("soft_loss") == "cross_entropy":
            elements = -(p * log_q)
            divisor = {"batchmean": shape[0], "mean": elements.numel(), "sum": 1}[reduction]
            soft = elements.sum() / divisor
        else:
            soft = F.kl_div(log_q, p, reduction=reduction) if reduction != "mean" else F.kl_div(
                log_q, p, reduction="sum") / (math.prod(shape))
        hard_reduction = options.get("hard_reduction", "mean")
        hard = F.cross_entropy(z.reshape(-1, K), y.reshape(-1), reduction=hard_reduction)
        return w_hard * hard + w_soft * (T**2 if options.get("t_squared", True) else 1.0) * soft

    settings, c = translate(shape, T, **options)
    from kdmath.conventions import Translation

    _check(foreign, Translation(dict(settings, T=T), c), z_s, z_t, y)


# ---- presets against their documented formulas ----------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.9, 1.0])
def test_torchdistill_preset(alpha):
    shape, T = (7, 6), 4.0
    z_s, z_t, y = _logits(shape, 10), _logits(shape, 11, 2.0), _labels((7,), 6, 12)
    translation = to_book("torchdistill_kd", shape, temperature=T, alpha=alpha)
    _check(lambda z: torchdistill_formula(z, z_t, y, T, alpha), translation, z_s, z_t, y)
    if 0 < alpha < 1:
        # alpha on the hard term and a batchmean over a flat batch: the book's loss at 1 - alpha, scale 1
        assert translation.settings["alpha"] == pytest.approx(1 - alpha, rel=1e-15)
        assert translation.scale == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize("preset", ["trl_gkd", "trl_gkd_no_labels", "liger_fused_linear_jsd_triton"])
@pytest.mark.parametrize("beta", [0.0, 0.1, 0.5, 1.0])
def test_trl_style_soft_only_presets(preset, beta):
    shape, T = (3, 5, 8), 2.0
    z_s, z_t = _logits(shape, 20), _logits(shape, 21, 2.5)
    B, L = shape[:2]
    divisor = B if preset == "trl_gkd_no_labels" else B * L
    beta_keyword = "jsd_beta" if preset.startswith("liger") else "beta"
    translation = to_book(preset, shape, temperature=T, **{beta_keyword: beta})
    assert translation.settings["alpha"] == 1.0
    assert translation.scale == pytest.approx(B * L / divisor / T**2, rel=1e-15)
    _check(lambda z: naive_gkd_jsd(z, z_t, beta, T).sum() / divisor, translation, z_s, z_t, None)


@pytest.mark.parametrize("beta", [0.0, 0.25, 1.0])
@pytest.mark.parametrize("weights", [(0.5, 0.5), (0.2, 0.8), (0.0, 1.0)])
def test_liger_chunked_preset(beta, weights):
    w_hard, w_soft = weights
    shape, T = (12, 9), 3.0
    z_s, z_t, y = _logits(shape, 30), _logits(shape, 31, 2.0), _labels((12,), 9, 32)
    translation = to_book(
        "liger_fused_linear_jsd", shape,
        temperature=T, beta=beta, weight_hard_loss=w_hard, weight_soft_loss=w_soft,
    )

    def liger(z):
        return (w_hard * hard_sum(z, y) + w_soft * naive_gkd_jsd(z, z_t, beta, T).sum()) / shape[0]

    _check(liger, translation, z_s, z_t, y)


@pytest.mark.parametrize("weights", [(1.0, 0.0), (0.6, 0.4)])
def test_textbrewer_preset(weights):
    kd_weight, hard_weight = weights
    shape = (2, 5, 7)
    z_s, z_t, y = _logits(shape, 40), _logits(shape, 41, 2.0), _labels((2, 5), 7, 42)
    translation = to_book("textbrewer_kd_ce", shape, kd_loss_weight=kd_weight, hard_label_weight=hard_weight)
    T = 4.0  # TextBrewer's default temperature
    assert translation.settings["T"] == T and translation.settings["soft_loss"] == "cross_entropy"

    def textbrewer(z):
        soft = -(F.softmax(z_t / T, -1) * F.log_softmax(z / T, -1)).sum(-1).mean()
        return kd_weight * soft + hard_weight * F.cross_entropy(z.reshape(-1, 7), y.reshape(-1))

    _check(textbrewer, translation, z_s, z_t, y)


def test_no_t_squared_preset_weights_the_teacher_less():
    """Liger's defaults (0.5, 0.5) at T = 4 are the book's alpha = 1/17 (ch8-no-t-squared)."""
    translation = to_book("liger_fused_linear_jsd", (4, 3), temperature=4.0, beta=0.0)
    assert translation.settings["alpha"] == pytest.approx(1 / 17, rel=1e-14)
    assert translation.scale == pytest.approx(0.5 + 0.5 / 16, rel=1e-14)


def test_jsd_beta_translates_to_the_same_kdmath_beta_and_endpoints():
    shape = (2, 3)
    assert "divergence" not in to_book("trl_gkd", shape, beta=0.0).settings
    assert to_book("trl_gkd", shape, beta=1.0).settings["divergence"] == "reverse_kl"
    settings = to_book("trl_gkd", shape, beta=0.3).settings
    assert settings["divergence"] == "jsd" and settings["beta"] == 0.3


def test_translation_is_deterministic():
    assert to_book("torchdistill_kd", (5, 4), temperature=2.0, alpha=0.4) == to_book(
        "torchdistill_kd", (5, 4), temperature=2.0, alpha=0.4
    )


# ---- bad input ------------------------------------------------------------------------------------------


def test_bad_input_raises_named_errors():
    with pytest.raises(ValueError, match="convention"):
        to_book("no_such_library", (2, 3), T=1.0, alpha=0.5)
    with pytest.raises(TypeError, match="convention"):
        to_book(3, (2, 3))
    with pytest.raises(TypeError, match="'T'"):
        to_book("torchdistill_kd", (2, 3), T=2.0, alpha=0.5)  # its keyword is temperature
    with pytest.raises(TypeError, match="alpha"):
        to_book("torchdistill_kd", (2, 3), temperature=2.0)  # alpha=None fails in torchdistill too
    with pytest.raises(ValueError, match="dim=1"):
        to_book("torchdistill_kd", (2, 3, 4), temperature=2.0, alpha=0.5)
    with pytest.raises(NotTranslatableError, match="logits"):
        to_book("textbrewer_kd_mse", (2, 3))
    with pytest.raises(ValueError, match="temperature"):
        to_book("trl_gkd", (2, 3), temperature=0.0)
    with pytest.raises(TypeError, match="temperature"):
        to_book("textbrewer_kd_ce", (2, 3), temperature=torch.ones(2))
    with pytest.raises(ValueError, match="beta"):
        to_book("trl_gkd", (2, 3), beta=1.5)
    with pytest.raises(ValueError, match="weight_soft_loss"):
        to_book("liger_fused_linear_jsd", (2, 3), weight_soft_loss=-1.0)
    with pytest.raises(ValueError, match="both 0"):
        to_book("liger_fused_linear_jsd", (2, 3), weight_soft_loss=0.0, weight_hard_loss=0.0)
    with pytest.raises(ValueError, match="shape"):
        to_book("book", (0, 3), T=1.0, alpha=0.5)
    with pytest.raises(ValueError, match="shape"):
        translate((3,), 1.0, alpha=0.5)
    with pytest.raises(ValueError, match="alpha_on"):
        translate((2, 3), 1.0, alpha=0.5, alpha_on="both")
    with pytest.raises(ValueError, match="soft_reduction"):
        translate((2, 3), 1.0, alpha=0.5, soft_reduction="batch")
    with pytest.raises(ValueError, match="alpha"):
        translate((2, 3), 1.0, alpha=1.2)
    with pytest.raises(ValueError, match="soft_loss"):
        book_loss(
            _logits((2, 3), 0), _logits((2, 3), 1),
            T=1.0, alpha=1.0, divergence="jsd", soft_loss="cross_entropy",
        )
    with pytest.raises(ValueError, match="target"):
        book_loss(_logits((2, 3), 0), _logits((2, 3), 1), T=1.0, alpha=0.5, divergence="reverse_kl")


def test_convention_validates_and_is_frozen():
    with pytest.raises(ValueError, match="weighting"):
        Convention(name="x", weighting="soft")
    with pytest.raises(ValueError, match="beta_convention"):
        Convention(name="x", soft_form="jsd")
    with pytest.raises(ValueError, match="roles"):
        Convention(name="x", weighting="separate")
    with pytest.raises(ValueError, match="defaults"):
        Convention(name="x", defaults={"temp": 1.0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["book"].alpha_on = "hard"
    with pytest.raises(TypeError):
        PRESETS["book"].keywords["T"] = "alpha"
    with pytest.raises(TypeError):
        PRESETS["new"] = PRESETS["book"]


# ---- optional: the libraries' own code ------------------------------------------------------------------

LIBS = Path(os.environ.get("KDBOOK_CONVENTION_LIBS", "/tmp/conv-libs"))


@pytest.fixture(scope="module")
def libs_on_path():
    if not LIBS.is_dir():
        pytest.skip(f"{LIBS} is missing (pip install --no-deps --target {LIBS} ...: module docstring)")
    if str(LIBS) not in sys.path:
        sys.path.append(str(LIBS))  # appended, so it never shadows the project's own packages
    return LIBS


def _function_from_file(path: Path, name: str):
    """Run one function's definition from a library file whose module imports too much to import."""
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # the library's own invalid escapes in docstrings
        warnings.simplefilter("ignore", DeprecationWarning)
        tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            node.decorator_list = []
            namespace = {"torch": torch, "F": F}
            # Running the installed library's own definition is the point of this test.
            code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec")
            exec(code, namespace)  # noqa: S102
            return namespace[name]
    pytest.skip(f"{name} not found in {path}")


def test_against_installed_torchdistill(libs_on_path):
    mid_level = pytest.importorskip("torchdistill.losses.mid_level", reason="torchdistill is not installed")
    shape, T, alpha = (7, 6), 4.0, 0.3
    z_s, z_t, y = _logits(shape, 50), _logits(shape, 51, 2.0), _labels((7,), 6, 52)
    loss = mid_level.KDLoss("s", "o", "t", "o", temperature=T, alpha=alpha)
    translation = to_book("torchdistill_kd", shape, temperature=T, alpha=alpha)
    _check(lambda z: loss({"s": {"o": z}}, {"t": {"o": z_t}}, y), translation, z_s, z_t, y)


def test_against_installed_trl_generalized_jsd_loss(libs_on_path):
    generalized_jsd_loss = _function_from_file(
        libs_on_path / "trl" / "experimental" / "gkd" / "gkd_trainer.py", "generalized_jsd_loss"
    )
    shape, T = (2, 4, 6), 2.0
    z_s, z_t = _logits(shape, 60), _logits(shape, 61, 2.0)
    labels = torch.zeros(2, 4, dtype=torch.long)
    for beta in (0.0, 0.4, 1.0):
        translation = to_book("trl_gkd", shape, temperature=T, beta=beta)
        _check(
            lambda z, beta=beta: generalized_jsd_loss(z, z_t, labels=labels, beta=beta, temperature=T),
            translation, z_s, z_t, None, rtol=1e-10,
        )
        translation = to_book("trl_gkd_no_labels", shape, temperature=T, beta=beta)
        _check(
            lambda z, beta=beta: generalized_jsd_loss(z, z_t, beta=beta, temperature=T),
            translation, z_s, z_t, None, rtol=1e-10,
        )


def test_against_installed_liger_chunked_jsd(libs_on_path):
    chunked = pytest.importorskip("liger_kernel.chunked_loss", reason="liger-kernel is not installed")
    N, H, V, T, beta = 10, 4, 7, 2.0, 0.3
    hidden_s, hidden_t = _logits((N, H), 70), _logits((N, H), 71)
    weight_s, weight_t = _logits((V, H), 72), _logits((V, H), 73)
    y = _labels((N,), V, 74)
    loss = chunked.LigerFusedLinearJSDLoss(
        weight_hard_loss=0.2, weight_soft_loss=0.8, beta=beta, temperature=T, compiled=False
    )
    hidden = hidden_s.clone().requires_grad_(True)
    liger_value = loss(hidden, weight_s, hidden_t, weight_t, y)
    translation = to_book(
        "liger_fused_linear_jsd", (N, V), temperature=T, beta=beta, weight_hard_loss=0.2, weight_soft_loss=0.8
    )
    book_value = translation.scale * book_loss(
        hidden_s @ weight_s.T, hidden_t @ weight_t.T, y, **translation.settings
    )
    # Liger computes its hard cross-entropy in float32
    torch.testing.assert_close(liger_value.double(), book_value, rtol=1e-6, atol=1e-7)


def test_against_installed_textbrewer_kd_ce_loss(libs_on_path):
    kd_ce_loss = _function_from_file(libs_on_path / "textbrewer" / "losses.py", "kd_ce_loss")
    kd_mse_loss = _function_from_file(libs_on_path / "textbrewer" / "losses.py", "kd_mse_loss")
    shape, T = (2, 5, 7), 4.0
    z_s, z_t = _logits(shape, 80), _logits(shape, 81, 2.0)
    translation = to_book("textbrewer_kd_ce", shape, temperature=T)
    _check(lambda z: kd_ce_loss(z, z_t, T), translation, z_s, z_t, None)
    # kd_mse_loss: the temperature is only a factor 1/T^2 on the mean squared logit difference
    _close(kd_mse_loss(z_s, z_t, T), ((z_s - z_t) ** 2).mean() / T**2)
