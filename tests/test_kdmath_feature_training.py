"""kdmath.feature_training and the trainer's auxiliary term: the formulas, FitNets' first stage, resumption."""

from __future__ import annotations

import pytest
import torch

from kdmath import features, trainer
from kdmath.feature_training import HiddenMatching, RelationalDistillation
from kdmath.models import MLP
from kdmath.trainer import TrainConfig, train


def _data(n=256, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.rand(n, 6, 6, generator=g)
    labels = (images.reshape(n, -1)[:, :18].sum(1) > images.reshape(n, -1)[:, 18:].sum(1)).long()
    return images, labels


def _teacher():
    torch.manual_seed(1)
    teacher = MLP((20, 12), inputs=36, classes=2)
    train(teacher, *_data(), TrainConfig(epochs=2, batch_size=32, lr=0.05), progress=False)
    return teacher


def test_mlp_returns_its_hidden_activations():
    torch.manual_seed(0)
    model = MLP((5, 4), inputs=36, classes=3, dropout=0.5).eval()
    images = torch.rand(7, 6, 6)
    logits, hidden = model(images, return_hidden=True)
    assert torch.equal(logits, model(images)) and [tuple(h.shape) for h in hidden] == [(7, 5), (7, 4)]
    first = torch.relu(model.layers[0](images.reshape(7, -1)))
    torch.testing.assert_close(hidden[0], first)
    assert bool((hidden[1] >= 0).all())


def test_hidden_matching_is_its_formula():
    teacher = _teacher()
    term = HiddenMatching(teacher, [(1, 0), (0, 1)], (8, 5), teacher.hidden, weight=0.7,
                          generator=torch.Generator().manual_seed(3))
    batch = torch.rand(10, 6, 6, generator=torch.Generator().manual_seed(4))
    student_hidden = [torch.rand(10, 8), torch.rand(10, 5)]
    _, t = teacher(batch, return_hidden=True)
    expected = []
    for linear, (a, b) in zip(term.maps, [(1, 0), (0, 1)]):
        mapped = student_hidden[a].double() @ linear.weight.double().T + linear.bias.double()
        expected.append(((mapped - t[b].double()) ** 2).sum(1).mean() / t[b].shape[1])
    torch.testing.assert_close(term(batch, student_hidden).double(), 0.7 * sum(expected) / 2, rtol=1e-5, atol=1e-7)
    assert not any(p.requires_grad for p in teacher.parameters())
    assert all(not name.startswith("teacher") for name in term.state_dict())  # the teacher is not saved with it
    with pytest.raises(ValueError, match="layer_map"):
        HiddenMatching(teacher, [(2, 0)], (8, 5), teacher.hidden)
    with pytest.raises(ValueError, match="weight"):
        HiddenMatching(teacher, [(0, 0)], (8, 5), teacher.hidden, weight=-1.0)


def test_relational_distillation_is_its_formula():
    teacher = _teacher()
    term = RelationalDistillation(teacher, distance_weight=2.0, angle_weight=3.0)
    batch = torch.rand(9, 6, 6, generator=torch.Generator().manual_seed(5))
    student_hidden = [torch.rand(9, 4), torch.rand(9, 7)]
    _, t = teacher(batch, return_hidden=True)
    expected = 2.0 * features.rkd_distance_loss(student_hidden[-1], t[-1]) + 3.0 * features.rkd_angle_loss(student_hidden[-1], t[-1])
    torch.testing.assert_close(term(batch, student_hidden), expected)
    # its description, which the experiments' checkpoint keys read, holds its settings
    assert repr(term) != repr(RelationalDistillation(_teacher(), distance_weight=2.0, angle_weight=4.0))


def test_relational_distillation_is_zero_on_a_batch_of_dead_units():
    term = RelationalDistillation(_teacher())
    student = torch.zeros(6, 4, requires_grad=True)
    loss = term(torch.rand(6, 6, 6), [student])
    assert loss.item() == 0.0
    loss.backward()
    assert torch.equal(student.grad, torch.zeros(6, 4))


def test_fitnets_first_stage_trains_only_up_to_the_hint_layer():
    """main_weight = 0: the loss is the hint alone, so the layers above the student's hint layer get no
    gradient and do not move, while those below it and the regressor do."""
    teacher = _teacher()
    torch.manual_seed(2)
    student = MLP((10, 10, 10), inputs=36, classes=2)
    before = {name: p.detach().clone() for name, p in student.named_parameters()}
    hint = HiddenMatching(teacher, [(1, 0)], student.hidden, teacher.hidden)
    regressor = hint.maps[0].weight.detach().clone()
    train(student, *_data(), TrainConfig(epochs=1, batch_size=32, lr=0.05), auxiliary=hint, main_weight=0.0,
          progress=False)
    moved = {name: not torch.equal(p, before[name]) for name, p in student.named_parameters()}
    assert moved["layers.0.weight"] and moved["layers.1.weight"]
    assert not moved["layers.2.weight"] and not moved["layers.3.weight"] and not moved["layers.3.bias"]
    assert not torch.equal(hint.maps[0].weight, regressor)


def test_a_run_with_an_auxiliary_term_resumes_bit_for_bit(tmp_path, monkeypatch):
    teacher = _teacher()
    config = TrainConfig(epochs=3, batch_size=32, lr=0.05, alpha=0.5, T=2.0, seed=4)
    images, labels = _data()
    teacher_logits = teacher(images).detach()

    def fresh():
        torch.manual_seed(0)
        return MLP((10, 10), inputs=36, classes=2), HiddenMatching(teacher, [(1, 1)], (10, 10), teacher.hidden)

    straight, term = fresh()
    train(straight, images, labels, config, teacher_logits=teacher_logits, auxiliary=term, progress=False)

    calls = {"n": 0}
    original = trainer._atomic_save

    def save_then_crash(state, path):
        original(state, path)
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(trainer, "_atomic_save", save_then_crash)
    interrupted, term_interrupted = fresh()
    with pytest.raises(KeyboardInterrupt):
        train(interrupted, images, labels, config, teacher_logits=teacher_logits, auxiliary=term_interrupted,
              checkpoint=tmp_path / "run.pt", progress=False)
    monkeypatch.setattr(trainer, "_atomic_save", original)
    resumed, term_resumed = fresh()
    train(resumed, images, labels, config, teacher_logits=teacher_logits, auxiliary=term_resumed,
          checkpoint=tmp_path / "run.pt", progress=False)
    for a, b in zip([*straight.parameters(), *term.parameters()], [*resumed.parameters(), *term_resumed.parameters()]):
        assert torch.equal(a, b)


def test_the_trainer_checks_its_auxiliary_arguments():
    images, labels = _data(n=32)
    model = MLP((4,), inputs=36, classes=2)
    config = TrainConfig(epochs=1)
    with pytest.raises(TypeError, match="auxiliary"):
        train(model, images, labels, config, auxiliary=lambda b, h: 0.0, progress=False)
    with pytest.raises(ValueError, match="main_weight"):
        train(model, images, labels, config, main_weight=0.5, progress=False)
    with pytest.raises(ValueError, match="main_weight"):
        train(model, images, labels, config, auxiliary=RelationalDistillation(_teacher()), main_weight=-1.0,
              progress=False)
