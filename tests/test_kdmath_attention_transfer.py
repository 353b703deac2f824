"""Spatial attention transfer: the maps and the distance against hand computations, their invariances, the trainer's
term, and the attention_transfer experiment in miniature."""

from __future__ import annotations

import math

import pytest
import torch

import kdmath.experiments.attention  # noqa: F401  (registers attention_transfer)
from kdmath.convnet import ConvNet
from kdmath.experiments import run_experiment
from kdmath.experiments.attention import ARMS
from kdmath.feature_training import AttentionTransfer
from kdmath.features import spatial_attention_loss, spatial_attention_map
from kdmath.trainer import TrainConfig, train


def test_the_map_is_the_normalised_sum_over_channels_of_the_powered_activations():
    one_channel = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    # Q = (1, 4, 9, 16), ||Q|| = sqrt(1 + 16 + 81 + 256)
    torch.testing.assert_close(spatial_attention_map(one_channel), torch.tensor([[1.0, 4.0, 9.0, 16.0]]) / math.sqrt(354))
    two_channels = torch.tensor([[[[1.0, 0.0], [0.0, 2.0]], [[0.0, -1.0], [1.0, 1.0]]]])
    # p = 2: Q = (1 + 0, 0 + 1, 0 + 1, 4 + 1); p = 1: Q = (1, 1, 1, 3), the absolute values summed
    torch.testing.assert_close(spatial_attention_map(two_channels), torch.tensor([[1.0, 1.0, 1.0, 5.0]]) / math.sqrt(28))
    torch.testing.assert_close(spatial_attention_map(two_channels, p=1), torch.tensor([[1.0, 1.0, 1.0, 3.0]]) / math.sqrt(12))
    # a map that is zero everywhere stays zero rather than 0 / 0
    assert torch.equal(spatial_attention_map(torch.zeros(1, 3, 2, 2)), torch.zeros(1, 4))


def test_the_loss_in_both_forms_against_a_hand_computation():
    # example 1: q_s = (1, 1, 1, 1) / 2, q_t = (1, 0, 0, 0): d = ||(-1/2, 1/2, 1/2, 1/2)|| = 1
    # example 2: q_s = (1, 0, 0, 0), q_t = (0, 1, 0, 0): d = sqrt(2)
    student = torch.tensor([[[[1.0, 1.0], [1.0, 1.0]]], [[[1.0, 0.0], [0.0, 0.0]]]])  # (2, 1, 2, 2)
    teacher = torch.zeros(2, 3, 2, 2)  # three channels against the student's one
    teacher[0, 1, 0, 0] = 2.0
    teacher[1, 2, 0, 1] = -3.0
    paper = spatial_attention_loss(student, teacher)
    code = spatial_attention_loss(student, teacher, form="code")
    torch.testing.assert_close(paper, torch.tensor((1.0 + math.sqrt(2.0)) / 2))
    # the code's mean of squared differences over B * H * W = 2 * 4 entries: (1 + 2) / 8
    torch.testing.assert_close(code, torch.tensor(3.0 / 8.0))


def test_the_two_forms_are_related_as_the_docstring_says():
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(1, 3, 5, 4, generator=generator), torch.randn(1, 7, 5, 4, generator=generator)
    paper = spatial_attention_loss(student, teacher)
    # one example: the code's form is the paper's squared, over the H * W = 20 positions
    torch.testing.assert_close(spatial_attention_loss(student, teacher, form="code"), paper ** 2 / 20)
    student, teacher = torch.randn(6, 3, 5, 4, generator=generator), torch.randn(6, 7, 5, 4, generator=generator)
    paper = spatial_attention_loss(student, teacher)
    code = spatial_attention_loss(student, teacher, form="code")
    assert float(code) >= float(paper) ** 2 / 20  # Jensen
    assert 0.0 < float(paper) <= math.sqrt(2.0)  # non-negative unit vectors are at most sqrt(2) apart


def test_scaling_the_features_leaves_the_maps_and_the_loss_unchanged():
    generator = torch.Generator().manual_seed(1)
    features = torch.randn(3, 4, 6, 6, generator=generator, dtype=torch.float64)
    teacher = torch.randn(3, 9, 6, 6, generator=generator, dtype=torch.float64)
    for p in (1, 2, 4):
        for c in (3.7, -0.2):
            torch.testing.assert_close(spatial_attention_map(c * features, p), spatial_attention_map(features, p))
            torch.testing.assert_close(spatial_attention_loss(c * features, teacher, p),
                                       spatial_attention_loss(features, teacher, p))
    # every channel repeated three times multiplies Q by 3: the same map, so a distance of 0
    tripled = features.repeat(1, 3, 1, 1)
    assert float(spatial_attention_loss(features, tripled)) == pytest.approx(0.0, abs=1e-7)
    maps = spatial_attention_map(features)
    torch.testing.assert_close(maps.norm(dim=1), torch.ones(3, dtype=torch.float64))
    assert bool((maps >= 0).all())


def test_identical_maps_give_zero_loss_and_finite_zero_gradients():
    features = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(2), requires_grad=True)
    for form in ("paper", "code"):
        features.grad = None
        loss = spatial_attention_loss(features, features.detach().clone(), form=form)
        loss.backward()
        assert float(loss.detach()) == 0.0 and torch.equal(features.grad, torch.zeros_like(features))


def test_bad_arguments_are_refused_by_name():
    a = torch.rand(2, 3, 4, 4)
    with pytest.raises(ValueError, match="teacher_features"):
        spatial_attention_loss(a, torch.rand(2, 3, 2, 2))  # spatial sizes differ
    with pytest.raises(ValueError, match="teacher_features"):
        spatial_attention_loss(a, torch.rand(3, 3, 4, 4))  # batch sizes differ
    with pytest.raises(ValueError, match="form"):
        spatial_attention_loss(a, a, form="squared")
    with pytest.raises(ValueError, match="p"):
        spatial_attention_loss(a, a, p=0)
    with pytest.raises(ValueError, match="features"):
        spatial_attention_map(torch.rand(2, 16))
    with pytest.raises(TypeError, match="student_features"):
        spatial_attention_loss(torch.ones(2, 3, 4, 4, dtype=torch.long), a)
    with pytest.raises(ValueError, match="student_features"):
        spatial_attention_loss(torch.full((2, 3, 4, 4), float("nan")), a)


def _teacher():
    torch.manual_seed(1)
    return ConvNet((4, 6))


def test_the_term_is_the_weighted_mean_of_the_losses_over_the_pairs():
    teacher = _teacher()
    batch = torch.rand(5, 28, 28, generator=torch.Generator().manual_seed(3))
    student_hidden = [torch.rand(5, 2, 28, 28), torch.rand(5, 3, 14, 14)]
    _, teacher_hidden = teacher(batch, return_hidden=True)
    pairs = [(0, 0), (1, 1)]
    for form in ("code", "paper"):
        term = AttentionTransfer(teacher, pairs, weight=7.0, p=2, form=form)
        expected = 7.0 * (spatial_attention_loss(student_hidden[0], teacher_hidden[0], form=form)
                          + spatial_attention_loss(student_hidden[1], teacher_hidden[1], form=form)) / 2
        torch.testing.assert_close(term(batch, student_hidden), expected)
    default = AttentionTransfer(teacher, [(1, 1)])
    assert default.weight == 500.0 and default.form == "code"
    torch.testing.assert_close(default(batch, student_hidden),
                               500.0 * spatial_attention_loss(student_hidden[1], teacher_hidden[1], form="code"))
    assert not any(p.requires_grad for p in teacher.parameters())
    assert list(default.state_dict()) == [] and list(default.parameters()) == []  # nothing of the teacher is saved


def test_the_term_checks_its_layer_map_when_it_sees_the_networks():
    teacher = _teacher()
    batch = torch.rand(2, 28, 28)
    student_hidden = [torch.rand(2, 2, 28, 28), torch.rand(2, 3, 14, 14)]
    term = AttentionTransfer(teacher, [(0, 2)])  # the teacher has two stages: accepted until evaluated
    with pytest.raises(ValueError, match="layer_map"):
        term(batch, student_hidden)
    with pytest.raises(ValueError, match="teacher_features"):
        AttentionTransfer(teacher, [(0, 1)])(batch, student_hidden)  # 28x28 against 14x14
    for bad in ([], [(0,)], [(0, -1)], [(0, 1.5)]):
        with pytest.raises(ValueError, match="layer_map"):
            AttentionTransfer(teacher, bad)
    with pytest.raises(TypeError, match="layer_map"):
        AttentionTransfer(teacher, "01")
    with pytest.raises(ValueError, match="weight"):
        AttentionTransfer(teacher, [(0, 0)], weight=-1.0)
    with pytest.raises(ValueError, match="form"):
        AttentionTransfer(teacher, [(0, 0)], form="mse")
    with pytest.raises(ValueError, match="p"):
        AttentionTransfer(teacher, [(0, 0)], p=-2)


def test_training_on_the_term_alone_moves_the_student_toward_the_teachers_maps():
    """main_weight = 0: the loss is the attention term alone, so the linear head (after the last stage) gets no
    gradient and does not move, while the term itself falls."""
    teacher = _teacher()
    images = torch.rand(120, 12, 12, generator=torch.Generator().manual_seed(4))
    labels = torch.randint(0, 10, (120,), generator=torch.Generator().manual_seed(5))
    torch.manual_seed(2)
    student = ConvNet((2, 3))
    term = AttentionTransfer(teacher, [(0, 0), (1, 1)], weight=1.0, form="paper")
    head = student.head.weight.detach().clone()
    with torch.no_grad():
        before = float(term(images, student(images, return_hidden=True)[1]))
    train(student, images, labels, TrainConfig(epochs=3, batch_size=20, lr=0.05), auxiliary=term, main_weight=0.0,
          progress=False)
    with torch.no_grad():
        after = float(term(images, student(images, return_hidden=True)[1]))
    assert after < 0.8 * before
    assert torch.equal(student.head.weight, head)


TINY = {"n_teacher": 300, "n_student": 200, "n_test": 200, "seed": 0, "teacher": {"epochs": 1, "lr": 0.1},
        "student": {"epochs": 2, "lr": 0.1}, "teacher_channels": [4, 8], "student_channels": [2, 4],
        "layer_map": [[0, 0], [1, 1]], "T": 4.0, "alpha": 0.9, "at_weight": 500.0, "at_form": "code", "at_p": 2}


def test_the_experiment_records_every_arm_and_reuses_its_checkpoints(tmp_path):
    record = run_experiment("attention_transfer", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path,
                            progress=False)
    results = record["results"]
    assert (results["n_teacher"], results["n_student"], results["test_images"]) == (300, 200, 200)
    assert set(results["students"]) == set(ARMS)
    teacher = results["teacher"]
    assert len(teacher["history"]["test_errors"]) == 1 and teacher["test_errors"] == teacher["history"]["test_errors"][-1]
    for arm in ARMS:
        student = results["students"][arm]
        assert len(student["history"]["train_loss"]) == 2
        assert student["test_errors"] == student["history"]["test_errors"][-1]
        assert 0 <= student["test_errors"] <= 200
        assert all(math.isfinite(loss) for loss in student["history"]["train_loss"])
    # different losses on the same initialisation and batches: the arms' training losses differ
    assert len({tuple(results["students"][arm]["history"]["train_loss"]) for arm in ARMS}) == len(ARMS)
    assert record["reused_checkpoints"] == []
    again = run_experiment("attention_transfer", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path,
                           progress=False)
    assert again["results"] == results
    assert sorted(again["reused_checkpoints"]) == sorted(["conv-teacher", *(f"conv-{arm}" for arm in ARMS)])
