"""The generations family: born_again and ta_chain in miniature."""

from __future__ import annotations

from kdmath.experiments import EXPERIMENTS, run_experiment
from kdmath.experiments.generations import HYPOTHESES


def test_born_again_records_every_generation_and_reuses_them(tmp_path):
    tiny = {"n_train": 300, "seed": 0, "generations": 2, "hidden": [16, 16], "student": {"epochs": 1, "lr": 0.05},
            "T": 4.0, "alpha": 0.5}
    first = run_experiment("born_again", tiny, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    errors = first["results"]["test_errors"]
    assert len(errors) == 3 and all(0 <= e <= 10_000 for e in errors)
    second = run_experiment("born_again", tiny, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    assert second["results"]["test_errors"] == errors
    assert second["reused_checkpoints"] == ["generation-0", "generation-1", "generation-2"]
    (hypothesis,) = HYPOTHESES
    assert hypothesis.statistic([first]) == {"": [errors[0] - errors[1]]}


def test_ta_chain_trains_the_chain_in_order_of_width(tmp_path):
    medium = EXPERIMENTS["ta_chain"].configs["medium"]
    assert medium["assistants"] == sorted(medium["assistants"], reverse=True) and medium["width"] < medium["assistants"][-1]
    tiny = {"n_teacher": 300, "n_student": 200, "seed": 0, "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
            "student": {"epochs": 1, "lr": 0.05}, "assistants": [32, 16], "width": 8, "T": 4.0, "alpha": 0.9}
    record = run_experiment("ta_chain", tiny, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    results = record["results"]
    assert [a["width"] for a in results["assistants"]] == [32, 16]
    for key in ("teacher_errors", "direct_errors", "chain_errors", "labels_errors"):
        assert 0 <= results[key] <= 10_000
