"""kdmath.ledger.empirical: the rules that read the sources' empirical claims off experiment records."""

import json
import math

import pytest

from kdmath import ledger
from kdmath.experiments import EXPERIMENTS
from kdmath.ledger import empirical
from kdmath.ledger.empirical import CONTRADICTED, MIXED, NOT_RUN, SUPPORTED


def record(experiment, results, config="medium"):
    return {"experiment": experiment, "config_name": config, "config": {}, "seed": 0, "results": results,
            "seconds": 1.0, "hardware": {"device": "cpu"}, "kdmath_version": "0"}


def sweep(rows):
    return record("temperature_sweep", {"teacher_errors": 100, "test_errors": rows})


def test_binomial_sigma():
    assert empirical.binomial_sigma(100) == pytest.approx(math.sqrt(99.0))
    assert empirical.binomial_sigma(0) == 0 and empirical.binomial_sigma(10_000) == 0
    with pytest.raises(ValueError, match="errors"):
        empirical.binomial_sigma(-1)
    with pytest.raises(TypeError, match="errors"):
        empirical.binomial_sigma(1.5)


def test_close_to_best():
    # 2 sigma of 100 errors is 19.9; ties go to the smaller setting
    assert empirical.close_to_best({"1": 180, "3": 115, "8": 100, "20": 100, "30": 125}) == (8.0, [3.0, 8.0, 20.0])
    assert empirical.close_to_best({0.5: 7}) == (0.5, [0.5])
    with pytest.raises(ValueError, match="counts"):
        empirical.close_to_best({})
    with pytest.raises(ValueError, match="error count"):
        empirical.close_to_best({"1": 10_001})


def test_temperature_rule_supported_contradicted_mixed():
    # 2 sigma of 100 errors is 19.9: 115 cannot be told from 100, 125 can.
    close = {"1": 180, "3": 115, "8": 100, "20": 101}
    far = {"1": 180, "3": 125, "8": 100, "20": 101}
    best_inside = {"1": 180, "3": 90, "8": 100, "20": 101}
    assert empirical.temperature_range_best(2, 5, sweep({"300": close}))[0] == SUPPORTED
    assert empirical.temperature_range_best(2, 5, sweep({"300": best_inside}))[0] == SUPPORTED
    status, evidence = empirical.temperature_range_best(2, 5, sweep({"300": far}))
    assert status == CONTRADICTED
    assert "best T = 8 (100 errors)" in evidence and "T = 3 (125 errors)" in evidence and "2σ = 19.9" in evidence
    assert empirical.temperature_range_best(2, 5, sweep({"300": far, "30": close}))[0] == MIXED
    with pytest.raises(ValueError, match="no temperature"):
        empirical.temperature_range_best(4.5, 5, sweep({"300": close}))
    with pytest.raises(ValueError, match="error count"):
        empirical.temperature_range_best(2, 5, sweep({"300": {"3": -4, "8": 100}}))


def test_scratch_rule():
    def svd(pairs):
        runs = [{"seed": k, "scratch_errors": s, "distilled_errors": d} for k, (s, d) in enumerate(pairs)]
        return record("scratch_vs_distill", {"runs": runs})

    status, evidence = empirical.distillation_beats_scratch(svd([(300, 250), (310, 260)]))
    assert status == SUPPORTED
    assert "2 of 2 seeds" in evidence and "96.95% from scratch" in evidence and "a gain of 0.50 points" in evidence
    assert empirical.distillation_beats_scratch(svd([(300, 300), (310, 320)]))[0] == CONTRADICTED  # a tie is no win
    assert empirical.distillation_beats_scratch(svd([(300, 250), (310, 320)]))[0] == MIXED
    with pytest.raises(ValueError, match="no runs"):
        empirical.distillation_beats_scratch(svd([]))


def test_regulariser_rule():
    def reg(hard, soft):
        return record("soft_targets_regularizer", {"n_small": 1800, "hard_labels": dict(zip(("final_errors", "best_errors"), hard)),
                                                   "soft_targets": dict(zip(("final_errors", "best_errors"), soft))})

    status, evidence = empirical.soft_targets_regularise(reg((900, 800), (700, 690)))
    assert status == SUPPORTED and "1,800 training images" in evidence and "100 with labels, 10 with soft targets" in evidence
    assert empirical.soft_targets_regularise(reg((700, 690), (900, 800)))[0] == CONTRADICTED
    assert empirical.soft_targets_regularise(reg((900, 890), (800, 700)))[0] == MIXED  # ends better, loses more


def write(directory, name, config, payload):
    (directory / f"{name}-{config}.json").write_text(json.dumps(payload))


def test_load_records_prefers_full_and_ignores_quick(tmp_path):
    medium = sweep({"300": {"3": 100, "8": 110}})
    full = dict(sweep({"300": {"3": 130, "8": 90}}), config_name="full")
    write(tmp_path, "temperature_sweep", "medium", medium)
    write(tmp_path, "scratch_vs_distill", "quick", record("scratch_vs_distill", {"runs": []}, config="quick"))
    assert set(empirical.load_records(tmp_path)) == {"temperature_sweep"}
    assert empirical.load_records(tmp_path)["temperature_sweep"]["config_name"] == "medium"
    write(tmp_path, "temperature_sweep", "long", dict(medium, config_name="long"))
    assert empirical.load_records(tmp_path)["temperature_sweep"]["config_name"] == "long"
    write(tmp_path, "temperature_sweep", "full", full)
    assert empirical.load_records(tmp_path)["temperature_sweep"]["config_name"] == "full"
    outcome = empirical.assess("004-T-table", empirical.load_records(tmp_path))
    assert (outcome.status, outcome.config) == (CONTRADICTED, "full")
    assert empirical.load_records(tmp_path / "absent") == {}
    assert set(empirical.load_all_records(tmp_path)) == {("temperature_sweep", c) for c in ("medium", "long", "full")}
    with pytest.raises(TypeError, match="results_dir"):
        empirical.load_all_records(3)


@pytest.mark.parametrize("payload, message", [
    ("{not json", "not valid JSON"),
    (json.dumps({"experiment": "temperature_sweep"}), "lacks the fields"),
    (json.dumps(record("alpha_sweep", {})), "holds alpha_sweep-medium"),
])
def test_load_records_rejects_bad_files(tmp_path, payload, message):
    (tmp_path / "temperature_sweep-medium.json").write_text(payload)
    with pytest.raises(ValueError, match=message):
        empirical.load_records(tmp_path)


def test_assess_arguments_and_missing_runs():
    with pytest.raises(ValueError, match="claim_id"):
        empirical.assess("000-gradient", {})
    with pytest.raises(TypeError, match="claim_id"):
        empirical.assess(3, {})
    with pytest.raises(TypeError, match="records"):
        empirical.assess("003-medium-T", [])
    outcome = empirical.assess("003-medium-T", {})
    assert outcome.status == NOT_RUN and outcome.config is None
    with pytest.raises(ValueError, match="status"):
        empirical.Outcome("x", "y", "likely", None, "")


def test_assessed_claims_are_empirical_claims_treated_in_chapter_10():
    claims = ledger.by_id()
    for claim_id, (experiment, _) in empirical.ASSESSMENTS.items():
        assert claims[claim_id].verdict == ledger.EMPIRICAL
        assert claims[claim_id].where == "ref:ch10-claims"
        assert "chapter 10" in claims[claim_id].note
        assert experiment in EXPERIMENTS
    untested = [c for c in ledger.CLAIMS if c.verdict == ledger.EMPIRICAL and c.id not in empirical.ASSESSMENTS]
    assert all("will test" not in c.note for c in untested)  # no promise left that nothing keeps


def test_committed_results_decide_every_assessed_claim():
    """The repository commits a run of every experiment that tests a claim, and each rule applies to it."""
    records = empirical.load_records()
    for claim_id, outcome in empirical.assess_all(records).items():
        assert outcome.status in (SUPPORTED, CONTRADICTED, MIXED), (claim_id, outcome)
        assert outcome.config in empirical.RECORD_CONFIGS
