"""kdmath.models and kdmath.trainer: on-device batching, jitter, max-norm, distillation, resumable runs."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from kdmath import trainer
from kdmath.models import MLP
from kdmath.trainer import TrainConfig, jitter_batch, train


# The trainer has one code path; on a machine with a GPU its tests run there too (bfloat16 autocast).
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"))]


def _toy_data(n=512, seed=0):
    """Two classes of 28x28 images that differ in which half is bright: learnable in a few steps."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = 0.1 * torch.rand(n, 28, 28, generator=generator)
    images[labels == 0, :14] += 0.8
    images[labels == 1, 14:] += 0.8
    return images, labels


def test_mlp_shapes_and_errors():
    model = MLP((32, 16), classes=3, dropout=0.5, input_dropout=0.2)
    assert model(torch.zeros(4, 28, 28)).shape == (4, 3)
    with pytest.raises(ValueError, match="pixels"):
        model(torch.zeros(4, 10))
    with pytest.raises(ValueError, match="dropout"):
        MLP((8,), dropout=1.0)
    with pytest.raises(TypeError, match="hidden"):
        MLP(8)
    with pytest.raises(ValueError, match="max_norm"):
        model.apply_max_norm(0.0)


def test_max_norm_rescales_only_long_rows():
    model = MLP((4,), inputs=3, classes=2)
    with torch.no_grad():
        model.layers[0].weight.copy_(torch.tensor([[3.0, 4.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.0, 10.0], [1.0, 1.0, 1.0]]))
    model.apply_max_norm(2.0)
    norms = model.layers[0].weight.norm(dim=1)
    torch.testing.assert_close(norms, torch.tensor([2.0, 0.1, 2.0, 3**0.5]))


def test_jitter_matches_a_per_image_loop():
    generator = torch.Generator().manual_seed(3)
    images = torch.rand(6, 8, 8, generator=generator)
    shifted = jitter_batch(images, 2, torch.Generator().manual_seed(5))
    offsets = torch.randint(0, 5, (2, 6), generator=torch.Generator().manual_seed(5))
    for b in range(6):
        padded = torch.nn.functional.pad(images[b], (2, 2, 2, 2))
        dy, dx = offsets[:, b].tolist()
        torch.testing.assert_close(shifted[b], padded[dy:dy + 8, dx:dx + 8])
    assert jitter_batch(images, 0, generator) is images


def test_config_rejects_bad_values():
    for kwargs, name in [({"epochs": 0}, "epochs"), ({"batch_size": 2.5}, "batch_size"), ({"lr": -1.0}, "lr"),
                         ({"T": 0.0}, "T"), ({"alpha": 1.5}, "alpha"), ({"jitter": -1}, "jitter"),
                         ({"max_norm": 0.0}, "max_norm"), ({"momentum": -0.1}, "momentum")]:
        with pytest.raises(ValueError, match=name):
            TrainConfig(**({"epochs": 1} | kwargs))


@pytest.mark.parametrize("device", DEVICES)
def test_training_learns_and_logs_every_epoch(device):
    images, labels = (t.to(device) for t in _toy_data())
    torch.manual_seed(0)
    model = MLP((16,), classes=2).to(device)
    history = train(model, images, labels, TrainConfig(epochs=3, batch_size=64, lr=0.1), test_images=images[:128],
                    test_labels=labels[:128], progress=False)
    assert len(history.train_loss) == len(history.test_errors) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_errors[-1] == trainer.evaluate(model, images[:128], labels[:128]) == 0


def test_distillation_moves_the_student_towards_the_teacher():
    images, labels = _toy_data()
    teacher_logits = torch.stack([3.0 * (2 * labels.float() - 1), -3.0 * (2 * labels.float() - 1)], dim=1)  # wrong on purpose
    torch.manual_seed(0)
    model = MLP((16,), classes=2)
    train(model, images, labels, TrainConfig(epochs=3, batch_size=64, lr=0.01, alpha=1.0, T=2.0), teacher_logits=teacher_logits,
          progress=False)
    # with alpha = 1 only the teacher counts, and this teacher swaps the classes
    assert trainer.evaluate(model, images, 1 - labels) == 0
    with pytest.raises(ValueError, match="teacher_logits"):
        train(model, images, labels, TrainConfig(epochs=1, alpha=0.5), progress=False)


@pytest.mark.parametrize("device", DEVICES)
def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch, device):
    images, labels = (t.to(device) for t in _toy_data())
    config = TrainConfig(epochs=4, batch_size=64, lr=0.05, jitter=1, seed=7)

    torch.manual_seed(0)
    straight = MLP((16,), classes=2, dropout=0.2).to(device)
    train(straight, images, labels, config, progress=False)

    checkpoint = tmp_path / "run.pt"
    calls = {"n": 0}
    original = trainer._atomic_save

    def save_then_crash(state, path):
        original(state, path)
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # a Colab disconnect after the second epoch

    monkeypatch.setattr(trainer, "_atomic_save", save_then_crash)
    torch.manual_seed(0)
    interrupted = MLP((16,), classes=2, dropout=0.2).to(device)
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, images, labels, config, checkpoint=checkpoint, progress=False)
    monkeypatch.setattr(trainer, "_atomic_save", original)
    assert torch.load(checkpoint, weights_only=False)["epoch"] == 2

    resumed = MLP((16,), classes=2, dropout=0.2).to(device)  # fresh weights: everything comes from the checkpoint
    history = train(resumed, images, labels, config, checkpoint=checkpoint, progress=False)
    assert len(history.train_loss) == 4
    for a, b in zip(straight.parameters(), resumed.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not list(tmp_path.glob("*.part"))

    with pytest.raises(ValueError, match="different config"):
        train(resumed, images, labels, dataclasses.replace(config, lr=0.01), checkpoint=checkpoint, progress=False)
