"""kdmath.experiments: the registry, the records it writes, the teacher cache and the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kdmath.experiments import CONFIG_NAMES, EXPERIMENTS, OPTIONAL_CONFIG_NAMES, register, run_experiment
from kdmath.ledger.empirical import REQUIRED_FIELDS

# The main experiment in miniature: 300 training images, one epoch of each network.
TINY = {"n_train": 300, "seed": 0, "teacher": {"epochs": 1, "lr": 0.05, "jitter": 2, "max_norm": 15.0},
        "student": {"epochs": 1, "lr": 0.05}, "T": 20.0, "alpha": 0.9}


def test_every_experiment_has_the_three_configurations_with_the_paper_settings_in_full():
    mnist = {name for name, experiment in EXPERIMENTS.items() if experiment.data == "mnist"}
    assert mnist == {"hinton_mnist", "scratch_vs_distill", "temperature_sweep", "omitted_class",
                     "soft_targets_regularizer", "alpha_sweep", "soft_target_mechanisms", "noisy_labels", "beyond_logits", "hidden_states_by_depth", "attention_transfer",
                     "born_again", "ta_chain"}
    assert set(EXPERIMENTS) - mnist == {"lm_token_kd", "lm_divergences", "lm_vocabulary"}
    assert all(experiment.data == "shakespeare" for name, experiment in EXPERIMENTS.items() if name not in mnist)
    for experiment in (EXPERIMENTS[name] for name in mnist):
        assert tuple(experiment.configs)[:3] == CONFIG_NAMES
        assert set(experiment.configs) <= set(CONFIG_NAMES) | set(OPTIONAL_CONFIG_NAMES)
        quick, full = experiment.configs["quick"], experiment.configs["full"]
        assert quick["student"]["epochs"] < full["student"]["epochs"]
        if "teacher" not in full:  # born-again generations teach each other
            assert experiment.name == "born_again"
            continue
        assert quick["teacher"]["epochs"] < full["teacher"]["epochs"]
        assert full["teacher"]["jitter"] == 2
        if experiment.family != "attention":  # the 1200-1200 teacher of the paper; a ConvNet has no max-norm
            assert full["teacher"]["max_norm"] > 0
    assert EXPERIMENTS["hinton_mnist"].configs["full"]["T"] == 20.0
    hinton = EXPERIMENTS["hinton_mnist"].configs
    assert hinton["medium"]["teacher"]["epochs"] < hinton["long"]["teacher"]["epochs"] < hinton["full"]["teacher"]["epochs"]
    with pytest.raises(ValueError, match="lacks configurations"):
        register("broken", "", {"quick": {}})
    with pytest.raises(ValueError, match="unknown configurations"):
        register("broken", "", {"quick": {}, "medium": {}, "full": {}, "huge": {}})
    with pytest.raises(ValueError, match="data"):
        register("broken", "", {"quick": {}, "medium": {}, "full": {}}, data="imagenet")
    assert "broken" not in EXPERIMENTS


def test_run_experiment_rejects_bad_arguments():
    with pytest.raises(ValueError, match="name"):
        run_experiment("hinton", "quick", out_dir=None)
    with pytest.raises(ValueError, match="config"):
        run_experiment("hinton_mnist", "huge", out_dir=None)
    with pytest.raises(ValueError, match="config"):
        run_experiment("alpha_sweep", "long", out_dir=None)  # only some experiments have a long configuration
    with pytest.raises(TypeError, match="config"):
        run_experiment("hinton_mnist", 3, out_dir=None)


def test_a_run_writes_its_record_and_a_second_run_reuses_every_checkpoint(tmp_path):
    first = run_experiment("hinton_mnist", TINY, device="cpu", out_dir=tmp_path / "results",
                           checkpoint_dir=tmp_path / "checkpoints", progress=False)
    path = tmp_path / "results" / "hinton_mnist-custom.json"
    assert json.loads(path.read_text()) == first
    assert set(REQUIRED_FIELDS) <= set(first) and first["config"] == TINY
    assert first["reused_checkpoints"] == []
    assert first["hardware"]["device"] == "cpu" and first["seconds"] > 0
    errors = first["results"]["test_errors"]
    assert all(isinstance(e, int) and 0 <= e <= 10_000 for e in errors.values())
    assert [p.name for p in (tmp_path / "results").iterdir()] == [path.name]  # no temporary file left behind

    second = run_experiment("hinton_mnist", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path / "checkpoints", progress=False)
    assert second["reused_checkpoints"] == ["teacher", "student", "distilled"]
    assert second["results"] == first["results"]  # the finished runs are loaded, not retrained


def test_command_line_lists_the_experiments():
    listed = subprocess.run([sys.executable, "-m", "kdmath.experiments", "list"], capture_output=True, text=True, check=True)
    assert [line.split(":")[0] for line in listed.stdout.splitlines()] == list(EXPERIMENTS)
    bad = subprocess.run([sys.executable, "-m", "kdmath.experiments", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr


def test_a_distilled_student_of_another_teacher_is_not_taken_from_the_cache(tmp_path):
    """The checkpoint key of a distilled student holds a hash of its teacher's targets: a configuration that changes
    only the teacher trains the student again, while the student on labels alone is reused."""
    first = run_experiment("hinton_mnist", TINY, device="cpu", out_dir=None, checkpoint_dir=tmp_path, progress=False)
    other_teacher = {**TINY, "teacher": {**TINY["teacher"], "lr": 0.02}}
    second = run_experiment("hinton_mnist", other_teacher, device="cpu", out_dir=None, checkpoint_dir=tmp_path,
                            progress=False)
    assert second["reused_checkpoints"] == ["student"]
    assert first["results"]["test_errors"]["student"] == second["results"]["test_errors"]["student"]
