"""The GPU path: the same code as on the CPU, run on CUDA (skipped where there is no GPU).

The chapters and experiments choose ``cuda`` when it is available (``kdmath.trainer.default_device``)
and take no other branch; these tests check that the library behaves the same there: the losses
and their closed-form gradients agree with the CPU's in float64, and an experiment runs there and
records the GPU. The trainer's tests (``tests/test_kdmath_trainer.py``) run on both devices: on
CUDA, training uses bfloat16 autocast, learns, and resumes bit-exactly from a checkpoint.
On a machine with a GPU, ``make test`` also executes every chapter there (nbval and the book build
use the default device).
"""

from __future__ import annotations

import pytest
import torch

import kdmath
from kdmath import trainer
from kdmath.experiments import run_experiment

from .test_kdmath_data import SHARED
from .test_kdmath_text import SHARED as TEXT
from .test_kdmath_experiments import TINY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the GPU path is tested where there is one")

CUDA = torch.device("cuda")


def test_default_device_is_the_gpu():
    assert trainer.default_device().type == "cuda"


@pytest.mark.parametrize("T, alpha", [(1.0, 0.5), (4.0, 0.9), (20.0, 1.0)])
def test_losses_and_closed_form_gradients_agree_with_the_cpu(T, alpha):
    generator = torch.Generator().manual_seed(0)
    z_s = torch.randn(64, 10, generator=generator, dtype=torch.float64) * 3
    z_t = torch.randn(64, 10, generator=generator, dtype=torch.float64) * 3
    y = torch.randint(0, 10, (64,), generator=generator)
    for function in (kdmath.kd_loss, kdmath.kd_grad):
        on_cpu = function(z_s, z_t, y, T=T, alpha=alpha)
        on_gpu = function(z_s.to(CUDA), z_t.to(CUDA), y.to(CUDA), T=T, alpha=alpha)
        assert on_gpu.device.type == "cuda"
        torch.testing.assert_close(on_gpu.cpu(), on_cpu, rtol=1e-12, atol=1e-14)
    leaf = z_s.to(CUDA).requires_grad_(True)
    kdmath.kd_loss(leaf, z_t.to(CUDA), y.to(CUDA), T=T, alpha=alpha).backward()
    torch.testing.assert_close(leaf.grad.cpu(), kdmath.kd_grad(z_s, z_t, y, T=T, alpha=alpha), rtol=1e-10, atol=1e-13)


@pytest.mark.skipif(not SHARED.is_dir(), reason="no local copy of MNIST")
def test_an_experiment_runs_on_the_gpu_and_records_it(tmp_path):
    record = run_experiment("hinton_mnist", TINY, device="cuda", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    assert record["hardware"]["device"] == "cuda" and record["hardware"]["gpu"]
    assert all(0 <= e <= 10_000 for e in record["results"]["test_errors"].values())


@pytest.mark.skipif(not TEXT.is_dir(), reason="no local copy of Tiny Shakespeare")
@pytest.mark.parametrize("name", ["lm_token_kd", "lm_divergences", "lm_vocabulary"])
def test_the_language_model_experiments_run_on_the_gpu(tmp_path, name):
    record = run_experiment(name, "quick", device="cuda", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    assert record["hardware"]["device"] == "cuda" and record["hardware"]["gpu"]
    assert record["results"]["teacher"]["val_loss"] > 0
