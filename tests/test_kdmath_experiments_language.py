"""kdmath.experiments.language: the language-model experiments, run in their quick configurations."""

from __future__ import annotations

import math

import pytest
import torch

from kdmath.experiments import EXPERIMENTS, Context, run_experiment
from kdmath.experiments import language
from kdmath.gpt import GPT, GPTConfig
from kdmath.text import load_shakespeare_tokens


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The three experiments' quick runs, sharing one checkpoint directory, and a second run of each."""
    checkpoints = tmp_path_factory.mktemp("checkpoints")
    first = {name: run_experiment(name, "quick", device="cpu", out_dir=None, checkpoint_dir=checkpoints, progress=False)
             for name in ("lm_token_kd", "lm_divergences", "lm_vocabulary")}
    again = run_experiment("lm_divergences", "quick", device="cpu", out_dir=None, checkpoint_dir=checkpoints,
                           progress=False)
    return first, again


def _finite_measures(measures):
    assert measures["val_loss"] > 0 and math.isfinite(measures["val_loss"])
    assert measures["forward_kl"] >= 0 and measures["reverse_kl"] >= 0


def test_the_configurations_grow_and_the_teacher_is_shared():
    for name in ("lm_token_kd", "lm_divergences", "lm_vocabulary"):
        configs = EXPERIMENTS[name].configs
        assert configs["quick"]["teacher"] == language._TEACHER_QUICK
        assert configs["medium"]["teacher"] == language._TEACHER_MEDIUM  # one teacher for the three experiments
        for size in ("medium", "full"):
            assert configs["quick"]["student"]["train"]["steps"] < configs[size]["student"]["train"]["steps"]
        student, teacher = configs["medium"]["student"]["model"], configs["medium"]["teacher"]["model"]
        assert student["n_layer"] < teacher["n_layer"] and student["d_model"] < teacher["d_model"]
    assert EXPERIMENTS["lm_token_kd"].configs["medium"]["temperatures"] == list(language.TEMPERATURES)


def test_token_kd_records_every_arm_and_temperature(runs):
    first, _ = runs
    results = first["lm_token_kd"]["results"]
    assert set(results["arms"]) == set(language.TOKEN_KD_ARMS)
    assert set(results["sweep"]) == {"1", "4"}  # the quick configuration's temperatures
    for measures in [*results["arms"].values(), *results["sweep"].values()]:
        _finite_measures(measures)
    assert results["student_parameters"] < results["teacher"]["parameters"]


def test_divergences_reuse_the_shared_checkpoints_and_repeat_exactly(runs):
    first, again = runs
    assert first["lm_divergences"]["reused_checkpoints"][:1] == ["lm-teacher"]
    assert "lm-labels" in first["lm_divergences"]["reused_checkpoints"]  # trained by lm_token_kd, same settings
    timed = "training_seconds"  # wall-clock: the second run loads every student from its checkpoint
    assert {k: v for k, v in again["results"].items() if k != timed} == {
        k: v for k, v in first["lm_divergences"]["results"].items() if k != timed}
    assert set(again["results"][timed]) == {"teacher_samples", *language.DIVERGENCE_ARMS}
    results = first["lm_divergences"]["results"]
    assert set(results["arms"]) == {*language.DIVERGENCE_ARMS, "labels"}
    assert set(results["exposure"]) == set(results["arms"])
    assert all(v["data"] >= 0 and v["own"] >= 0 for v in results["exposure"].values())
    assert results["pool_sequences"] == EXPERIMENTS["lm_divergences"].configs["quick"]["pool"]
    assert all(isinstance(text, str) and text for texts in results["samples"].values() for text in texts)


def test_vocabulary_measures_obey_their_inequalities(runs):
    first, _ = runs
    results = first["lm_vocabulary"]["results"]
    ks = sorted(int(k) for k in results["top_k_mass"])
    assert set(language.TOP_K) | {results["note_share_k"]} == set(ks) and results["note_share_k"] == 10
    mass = [results["top_k_mass"][str(k)]["mean"] for k in ks]
    assert all(a <= b + 1e-12 for a, b in zip(mass, mass[1:])) and abs(mass[-1] - 1) < 1e-9
    for k in ks:  # merging the tail into one class never increases the divergence
        assert results["top_k_kl"][str(k)]["bucket"] <= results["full_kl"] + 1e-9
    assert abs(results["top_k_kl"]["2048"]["bucket"] - results["full_kl"]) < 1e-9
    median = results["top_256_median"]
    assert median["lower"] <= median["median"] <= median["upper"]
    assert set(results["sampled_kl"]) == {f"{r}, m={m}" for m in (1, 16) for r in ("teacher", "uniform")}


def test_exposure_bias_is_zero_for_a_student_that_is_its_teacher():
    tokens = load_shakespeare_tokens()
    context = Context(device=torch.device("cpu"), checkpoint_dir=None, progress=False, tokens=tokens)
    model = GPT(GPTConfig(vocab_size=2048, context=16, n_layer=1, n_head=1, d_model=16))
    gaps = language.exposure_bias(model, model, context, n=4, seed=0)
    assert gaps == {"data": 0.0, "own": 0.0}


def test_the_layer_map_pairs_every_student_block_with_a_teacher_block_in_proportion():
    assert language.proportional_layer_map(2, 4) == [[1, 2], [2, 4]]
    assert language.proportional_layer_map(3, 6) == [[1, 2], [2, 4], [3, 6]]
    assert language.proportional_layer_map(1, 1) == [[1, 1]]


def test_the_bootstrap_median_covers_the_median_and_is_seeded():
    values = torch.linspace(0, 1, 101)
    estimate, lower, upper = language._bootstrap_median(values, 500, seed=0)
    assert estimate == 0.5 and lower < 0.5 < upper and upper - lower < 0.3
    assert language._bootstrap_median(values, 500, seed=0) == (estimate, lower, upper)


def test_the_books_hypotheses_are_decided_by_the_ledgers_rule():
    def record(labels, soft, shift):
        measures = {"val_loss": 5.0, "forward_kl": 0.3, "reverse_kl": 0.3}
        arms = {arm: dict(measures) for arm in language.TOKEN_KD_ARMS}
        arms["labels"]["val_loss"], arms["soft_T1"]["val_loss"] = labels + shift, soft + shift
        return {"results": {"arms": arms}}

    by_name = {h.name: h for h in language.HYPOTHESES}
    better = [record(5.2, 5.0, 0.01 * s) for s in range(5)]
    worse = [record(5.0, 5.2 + 0.01 * s, 0.0) for s in range(5)]
    status, evidence = by_name["distilled-beats-labels"].decide(better)[""]
    assert status == "supported" and "5 replicates" in evidence and "nats per token" in evidence
    assert by_name["distilled-beats-labels"].decide(worse)[""][0] == "contradicted"
    assert by_name["distilled-beats-labels"].decide(better[:1])[""][0] == "inconclusive"
    assert {h.experiment for h in language.HYPOTHESES} == {"lm_token_kd", "lm_divergences"}
