"""The beyond family: beyond_logits in miniature."""

from __future__ import annotations

from kdmath.experiments import run_experiment
from kdmath.experiments.beyond import BEYOND_ARMS

TINY = {"n_teacher": 300, "n_student": 200, "seed": 0,
        "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
        "student": {"epochs": 2, "lr": 0.05}, "hint_epochs": 1, "widths": [12], "depth": 3, "T": 4.0, "alpha": 0.9,
        "hidden_weight": 1.0, "layer_map": [[0, 0], [2, 1]], "hint_layer": 1, "rkd": [25.0, 50.0]}


def test_beyond_logits_trains_every_arm_at_equal_epochs_and_reuses_its_checkpoints(tmp_path):
    first = run_experiment("beyond_logits", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    widths = first["results"]["widths"]
    assert set(widths) == {"12"}
    for arms in widths.values():
        assert tuple(arms) == BEYOND_ARMS
        for arm, result in arms.items():
            # FitNets' second stage runs the epochs its first stage (the hint) left
            expected = TINY["student"]["epochs"] - (TINY["hint_epochs"] if arm == "fitnet" else 0)
            assert len(result["history"]["test_errors"]) == expected
            assert result["test_errors"] == result["history"]["test_errors"][-1]
            assert 0 <= result["test_errors"] <= 10_000
    assert first["results"]["teacher_hidden"] == [1200, 1200]
    second = run_experiment("beyond_logits", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    assert second["results"]["widths"] == widths
    # the teacher, the five arms and FitNets' hint stage all come from the cache
    assert len(second["reused_checkpoints"]) == 1 + len(BEYOND_ARMS) + 1


def test_the_layer_map_spreads_the_teacher_over_the_student():
    from kdmath.experiments.beyond import _spread_layer_map

    assert _spread_layer_map(12, 2) == [(5, 0), (11, 1)]
    assert _spread_layer_map(2, 2) == [(0, 0), (1, 1)]
    assert _spread_layer_map(3, 3) == [(0, 0), (1, 1), (2, 2)]


def test_hidden_states_by_depth_in_miniature(tmp_path):
    tiny = {"n_teacher": 300, "n_student": 200, "seed": 0, "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
            "student": {"epochs": 1, "lr": 0.05}, "width": 8, "depths": [2, 4], "T": 4.0, "alpha": 0.9, "hidden_weight": 1.0}
    record = run_experiment("hidden_states_by_depth", tiny, device="cpu", out_dir=None, checkpoint_dir=tmp_path,
                            progress=False)
    depths = record["results"]["depths"]
    assert set(depths) == {"2", "4"} and depths["4"]["layer_map"] == [[1, 0], [3, 1]]
    for depth in depths.values():
        assert 0 <= depth["logits"]["test_errors"] <= 10_000 and 0 <= depth["hidden"]["test_errors"] <= 10_000


def test_beyond_hypotheses_predict_positive_differences_when_the_method_helps():
    from kdmath.experiments.beyond import HYPOTHESES

    def record(labels, logits, fitnet, hidden, rkd):
        arms = {"labels": labels, "logits": logits, "fitnet": fitnet, "hidden": hidden, "rkd": rkd}
        width = {arm: {"test_errors": errors} for arm, errors in arms.items()}
        return {"results": {"widths": {"100": width, "20": width}}}

    # every method better than the logits by 10, 20, 30 errors; the logits better than the labels by 50
    records = [record(300, 250, 240, 230, 220), record(310, 260, 250, 240, 230)]
    gains = {h.name: h.statistic(records) for h in HYPOTHESES}
    assert list(gains["fitnet-beats-logits"]) == ["100 units", "20 units"]
    for name, gain in (("logits-beat-labels", 50), ("fitnet-beats-logits", 10), ("hidden-beats-logits", 20),
                       ("rkd-beats-logits", 30)):
        assert all(value == [gain, gain] for value in gains[name].values())


def test_attention_hypotheses_predict_positive_differences_when_attention_helps():
    from kdmath.experiments.attention import HYPOTHESES

    students = {"labels": 200, "logits": 180, "attention": 190, "attention_logits": 175}
    records = [{"results": {"students": {arm: {"test_errors": e} for arm, e in students.items()}}}] * 2
    gains = {h.name: h.statistic(records)[""] for h in HYPOTHESES}
    assert gains == {"attention-beats-labels": [10, 10], "attention-adds-to-logits": [5, 5]}
