"""The mechanisms family: soft_target_mechanisms in miniature, and the orientation of its hypotheses' statistics."""

from __future__ import annotations

import math

import pytest

from kdmath.experiments import run_experiment
from kdmath.experiments.mechanisms import ARMS, HYPOTHESES

TINY = {"n_teacher": 600, "n_student": 300, "seed": 0,
        "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
        "student": {"epochs": 2, "lr": 0.05}, "hidden": [32, 32], "alpha": 0.5, "T_high": 20.0,
        "temperatures": [1.0, 4.0], "bins": 10, "bootstrap": 50, "sharpness_images": 100, "sharpness_iterations": 5}


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    return run_experiment("soft_target_mechanisms", TINY, device="cpu", out_dir=None,
                          checkpoint_dir=tmp_path_factory.mktemp("checkpoints"), progress=False)


def test_the_record_holds_every_arm_and_its_measures(record):
    results = record["results"]
    assert set(results["students"]) == set(ARMS)
    teacher = results["teacher"]
    # epsilon matches the average weight on the true class of the distilled (T = 1) targets
    mean_true = teacher["mean_true_class_probability_on_transfer_set"]
    assert results["epsilon"] == pytest.approx(0.5 * (1 - mean_true) / (1 - 1 / 10), rel=1e-12)
    for arm in ARMS:
        student = results["students"][arm]
        assert 0 <= student["test_errors"] <= results["test_images"]
        assert 0.0 <= student["ece"] <= 1.0 and math.isfinite(student["sharpness"])
    names = ["teacher", *ARMS]
    for a in names:  # agreement is symmetric, between 0 and 1, and lists every other model
        assert set(results["agreement"][a]) == set(names) - {a}
        for b in set(names) - {a}:
            assert results["agreement"][a][b] == results["agreement"][b][a]
            assert 0.0 <= results["agreement"][a][b] <= 1.0
    mass = teacher["wrong_class_mass_T1"]
    assert mass["lower"] <= mass["median"] <= mass["upper"]
    # softer targets put more mass on the wrong classes; each class's average soft target is a distribution
    assert teacher["mean_wrong_class_mass"]["1"] < teacher["mean_wrong_class_mass"]["4"]
    for row in teacher["mean_soft_targets_by_class"]["4"]:
        assert sum(row) == pytest.approx(1.0, abs=1e-9)
    for arm in ARMS:  # shares of the test images, the label's guess fitted on them
        shares = results["second_choice_agreement"][arm]
        assert set(shares) == {"image", "label"} and all(0.0 <= v <= 1.0 for v in shares.values())


def test_hypotheses_are_oriented_so_that_they_predict_positive_differences(record):
    by_name = {h.name: h for h in HYPOTHESES}
    assert {h.experiment for h in HYPOTHESES} == {"soft_target_mechanisms", "noisy_labels"}
    students = record["results"]["students"]
    one = {"results": {"students": {arm: dict(students[arm]) for arm in ARMS}}}
    one["results"]["students"]["smooth"]["test_errors"] = 120
    one["results"]["students"]["kd_T1"]["test_errors"] = 100
    assert by_name["teacher-beats-uniform-smoothing"].statistic([one]) == {"": [20]}
    for arm, value in (("hard", 9.0), ("smooth", 4.0), ("kd_T1", 5.0), ("kd_high", 1.0)):
        one["results"]["students"][arm]["sharpness"] = value
    assert by_name["soft-targets-find-flatter-minima"].statistic([one]) == {
        "labels against smooth": [5.0], "labels against kd_T1": [4.0], "labels against kd_high": [8.0]}
    one["results"]["students"]["hard"]["ece"], one["results"]["students"]["kd_high"]["ece"] = 0.05, 0.02
    assert by_name["high-T-students-are-better-calibrated"].statistic([one])[""] == [pytest.approx(3.0)]
    # one replicate decides nothing; replicates that agree on a positive difference support it
    from kdmath.ledger.empirical import INCONCLUSIVE, SUPPORTED

    hypothesis = by_name["teacher-beats-uniform-smoothing"]
    assert hypothesis.decide([one])[""][0] == INCONCLUSIVE
    other = {"results": {"students": {arm: dict(one["results"]["students"][arm]) for arm in ARMS}}}
    other["results"]["students"]["smooth"]["test_errors"] = 130
    assert hypothesis.decide([one, other, one])[""][0] == SUPPORTED


def test_the_family_is_the_registering_module():
    from kdmath.experiments import EXPERIMENTS

    families = {name: experiment.family for name, experiment in EXPERIMENTS.items()}
    assert families["soft_target_mechanisms"] == "mechanisms"
    assert families["hinton_mnist"] == "mnist" and families["lm_token_kd"] == "language"


def test_corrupt_labels_changes_exactly_the_share_asked_to_other_classes():
    import torch

    from kdmath.experiments.mechanisms import corrupt_labels

    labels = torch.randint(0, 10, (1000,), generator=torch.Generator().manual_seed(0))
    noisy, mask = corrupt_labels(labels, 0.3, seed=5)
    assert int(mask.sum()) == 300 and bool((noisy[mask] != labels[mask]).all()) and torch.equal(noisy[~mask], labels[~mask])
    again, _ = corrupt_labels(labels, 0.3, seed=5)
    assert torch.equal(noisy, again)
    # every other class is reachable: over many corruptions each offset 1..9 occurs
    assert set(((noisy[mask] - labels[mask]) % 10).tolist()) == set(range(1, 10))
    assert torch.equal(corrupt_labels(labels, 0.0, seed=5)[0], labels)
    with pytest.raises(ValueError, match="rate"):
        corrupt_labels(labels, 1.0, seed=0)


def test_noisy_labels_in_miniature(tmp_path):
    tiny = {"n_train": 300, "seed": 0, "rates": [0.0, 0.4], "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
            "student": {"epochs": 1, "lr": 0.05}, "hidden": [32, 32], "T": 4.0, "alpha": 1.0}
    record = run_experiment("noisy_labels", tiny, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    rates = record["results"]["rates"]
    assert set(rates) == {"0", "0.4"}
    assert rates["0"]["corrupted"] == 0 and rates["0"]["teacher_recovers_true_label"] is None
    assert rates["0.4"]["corrupted"] == 120 and 0.0 <= rates["0.4"]["teacher_recovers_true_label"] <= 1.0
    by_name = {h.name: h for h in HYPOTHESES}
    groups = by_name["distillation-denoises-labels"].statistic([record])
    assert groups == {"40% of labels corrupted": [rates["0.4"]["labels_test_errors"] - rates["0.4"]["distilled_test_errors"]]}
