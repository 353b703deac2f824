"""kdmath.ledger.empirical: the rules that read the sources' empirical claims off experiment records."""

import json
import math

import pytest

from kdmath import ledger
from kdmath.experiments import EXPERIMENTS
from kdmath.ledger import empirical
from kdmath.ledger.empirical import CONTRADICTED, INCONCLUSIVE, MIXED, NOT_RUN, SUPPORTED


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


def test_t_quantile_inverts_the_distribution_and_tends_to_the_normal():
    import mpmath

    for df in (1, 4, 9, 30):
        for p in (0.8, 0.975):
            q = empirical.t_quantile(p, df)
            assert abs(1 - mpmath.betainc(df / 2, 0.5, 0, df / (df + q * q), regularized=True) / 2 - p) < 1e-12
    assert abs(empirical.t_quantile(0.975, 1) - math.tan(math.pi * 0.475)) < 1e-9  # Cauchy: closed form
    normal = float(mpmath.sqrt(2) * mpmath.erfinv(0.95))
    assert abs(empirical.t_quantile(0.975, 100_000) - normal) < 1e-4
    assert empirical.t_quantile(0.975, 5) > empirical.t_quantile(0.975, 50) > normal
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="df"):
            empirical.t_quantile(0.975, bad)
    with pytest.raises(ValueError, match="probability"):
        empirical.t_quantile(0.2, 3)


def test_paired_interval():
    interval = empirical.paired_interval([1.0, 2.0, 3.0, 4.0])
    half = empirical.t_quantile(0.975, 3) * math.sqrt(5 / 3) / 2
    assert interval.n == 4 and interval.mean == 2.5
    assert abs(interval.lower - (2.5 - half)) < 1e-12 and abs(interval.upper - (2.5 + half)) < 1e-12
    assert interval.detectable > interval.upper - interval.mean  # 80% power needs more than the half-width
    with pytest.raises(ValueError, match="differences"):
        empirical.paired_interval([1.0])


def write(directory, name, config, payload):
    (directory / f"{name}-{config}.json").write_text(json.dumps(payload))


def replicate(experiment, seed, results, config="medium"):
    return dict(record(experiment, results, config), seed=seed)


def write_replicates(directory, experiment, rows, config="medium"):
    (directory / "replicates").mkdir(exist_ok=True)
    for seed, results in enumerate(rows):
        path = directory / "replicates" / f"{experiment}-{config}-seed{seed}.json"
        path.write_text(json.dumps(replicate(experiment, seed, results, config)))


def svd_runs(pairs):
    return [{"runs": [{"seed": s, "scratch_errors": a, "distilled_errors": b}]} for s, (a, b) in enumerate(pairs)]


@pytest.mark.parametrize("pairs, status", [
    ([(300, 250), (310, 262), (305, 251), (298, 249)], SUPPORTED),
    ([(250, 300), (262, 310), (251, 305), (249, 298)], CONTRADICTED),
    ([(300, 250), (250, 300), (305, 301), (298, 299)], INCONCLUSIVE),  # the interval holds 0
    ([(300, 250)], INCONCLUSIVE),  # one run decides nothing
])
def test_the_decision_rule_can_say_supported_contradicted_or_inconclusive(tmp_path, pairs, status):
    write_replicates(tmp_path, "scratch_vs_distill", svd_runs(pairs))
    outcome = empirical.assess("003-ex3-outcome", tmp_path)
    assert outcome.status == status, outcome
    assert f"{len(pairs)} replicate" in outcome.evidence and "the effect that matters: 50 errors" in outcome.evidence


def test_a_sweep_is_judged_per_width_and_mixed_when_widths_disagree(tmp_path):
    # at 300 units T = 3 (inside 2-5) beats T = 8 in every replicate; at 30 units T = 1 (outside) wins
    rows = [{"teacher_errors": 100, "test_errors": {"300": {"3": 100 + s, "8": 140 + 2 * s}, "30": {"1": 300 - s, "3": 340}}}
            for s in range(4)]
    write_replicates(tmp_path, "temperature_sweep", rows)
    outcome = empirical.assess("003-medium-T", tmp_path)
    assert outcome.status == MIXED, outcome
    assert "300 units (T = 3 against T = 8): supported" in outcome.evidence
    assert "30 units (T = 3 against T = 1): contradicted" in outcome.evidence


def test_replicates_take_precedence_over_the_single_record(tmp_path):
    write(tmp_path, "scratch_vs_distill", "medium", record("scratch_vs_distill", {"runs": [
        {"seed": 0, "scratch_errors": 300, "distilled_errors": 200}]}))
    assert empirical.assess("003-ex3-outcome", tmp_path).status == INCONCLUSIVE  # one run only
    write_replicates(tmp_path, "scratch_vs_distill", svd_runs([(300, 250), (310, 262), (305, 251)]))
    assert len(empirical.load_replicates("scratch_vs_distill", "medium", tmp_path)) == 3
    (tmp_path / "replicates" / "scratch_vs_distill-medium-seed2.json").write_text(
        json.dumps(replicate("scratch_vs_distill", 1, {"runs": []})))
    with pytest.raises(ValueError, match="repeat a seed"):
        empirical.load_replicates("scratch_vs_distill", "medium", tmp_path)


def test_the_committed_run_counts_as_a_replicate_when_its_settings_are_one(tmp_path):
    rows = {"teacher_errors": 100, "test_errors": {"300": {"3": 100, "8": 140}}}
    single = dict(sweep(rows["test_errors"]), config=empirical.replicate_settings("temperature_sweep", "medium", 0))
    write(tmp_path, "temperature_sweep", "medium", single)
    (tmp_path / "replicates").mkdir()
    for seed in (1, 2):
        path = tmp_path / "replicates" / f"temperature_sweep-medium-seed{seed}.json"
        path.write_text(json.dumps(dict(replicate("temperature_sweep", seed, rows), config={"other": seed})))
    assert [r["seed"] for r in empirical.load_replicates("temperature_sweep", "medium", tmp_path)] == [0, 1, 2]
    # a single run with other settings (a different design) is not a replicate
    write(tmp_path, "temperature_sweep", "medium", dict(single, config={"seeds": [0, 1, 2]}))
    assert [r["seed"] for r in empirical.load_replicates("temperature_sweep", "medium", tmp_path)] == [1, 2]


def test_every_empirical_claim_has_a_stated_test():
    from kdmath.ledger.stated_tests import STATED_TESTS, stated_test

    empirical_ids = {c.id for c in ledger.CLAIMS if c.verdict == ledger.EMPIRICAL}
    assert {test.claim_id for test in STATED_TESTS} == empirical_ids
    for test in STATED_TESTS:
        assert test.hypothesis and test.effect and test.arms
        assert (test.experiment in EXPERIMENTS) if test.experiment else test.why_not_run
    assert stated_test("003-variance").experiment == "soft_targets_regularizer"
    with pytest.raises(ValueError, match="claim_id"):
        stated_test("000-gradient")


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


def test_assess_arguments_and_missing_runs(tmp_path):
    with pytest.raises(ValueError, match="claim_id"):
        empirical.assess("000-gradient")
    with pytest.raises(TypeError, match="claim_id"):
        empirical.assess(3)
    outcome = empirical.assess("003-medium-T", tmp_path)
    assert outcome.status == NOT_RUN and outcome.config is None
    assert empirical.assess("003-ex3-extra-knowledge").status == NOT_RUN  # no experiment of the book runs it yet
    with pytest.raises(ValueError, match="status"):
        empirical.Outcome("x", "y", "likely", None, "")


def test_committed_replicates_decide_the_claims_they_test():
    """The repository commits replicates of the experiments that test claims, and the rule applies to them."""
    outcomes = empirical.assess_all()
    assert {claim_id for claim_id, o in outcomes.items() if o.status == SUPPORTED} >= {"003-ex3-outcome", "003-variance"}
    for claim_id, outcome in outcomes.items():
        assert outcome.status != NOT_RUN and outcome.config == "medium", (claim_id, outcome)
        claim = ledger.by_id()[claim_id]
        assert claim.verdict == ledger.EMPIRICAL and "stated test" in claim.note, claim_id


def lm_token_kd(argmax, soft, sweep_losses):
    return {"arms": {"teacher_argmax": {"val_loss": argmax}, "soft_T1": {"val_loss": soft}},
            "sweep": {T: {"val_loss": loss} for T, loss in sweep_losses.items()}}


def test_language_model_claims_are_judged_in_nats_per_token(tmp_path):
    # argmax worse by ~0.1 nats in every replicate; T = 4 (inside 2-10) beats T = 1 and T = 20 by ~0.03
    rows = [lm_token_kd(5.1 + 0.01 * s, 5.0 + 0.012 * s, {"1": 5.23 + 0.01 * s, "4": 5.2 + 0.011 * s, "20": 5.4})
            for s in range(5)]
    write_replicates(tmp_path, "lm_token_kd", rows)
    hard = empirical.assess("003-pitfall-hard-labels", tmp_path)
    assert hard.status == SUPPORTED, hard
    assert "5 replicates" in hard.evidence and "nats per token" in hard.evidence
    assert "the effect that matters: 0.05 nats per token" in hard.evidence
    temperature = empirical.assess("003-llm-T", tmp_path)
    assert temperature.status == SUPPORTED and "T = 4 against T = 1" in temperature.evidence, temperature
    flipped = [lm_token_kd(5.0, 5.1 + 0.01 * s, {"1": 5.1 - 0.01 * s, "4": 5.2, "20": 5.4}) for s in range(5)]
    write_replicates(tmp_path, "lm_token_kd", flipped)
    assert empirical.assess("003-pitfall-hard-labels", tmp_path).status == CONTRADICTED
    assert empirical.assess("003-llm-T", tmp_path).status == CONTRADICTED


@pytest.mark.parametrize("median, lower, upper, status", [
    (0.995, 0.993, 0.997, SUPPORTED), (0.97, 0.96, 0.98, CONTRADICTED), (0.99, 0.985, 0.995, INCONCLUSIVE)])
def test_the_top_256_mass_is_judged_by_the_recorded_bootstrap_interval(tmp_path, median, lower, upper, status):
    results = {"top_256_median": {"median": median, "lower": lower, "upper": upper, "draws": 2000}}
    write(tmp_path, "lm_vocabulary", "medium", record("lm_vocabulary", results))
    outcome = empirical.assess("003-pp4-mass", tmp_path)
    assert outcome.status == status, outcome
    assert "bootstrap interval" in outcome.evidence and "of probability mass" in outcome.evidence


def test_the_new_stated_statistics_are_oriented_so_that_the_claim_predicts_positive():
    from kdmath.ledger import stated_tests as st

    beyond = {"results": {"widths": {"100": {"fitnet": {"test_errors": 200}, "rkd": {"test_errors": 150}},
                                     "20": {"fitnet": {"test_errors": 400}, "rkd": {"test_errors": 350}}}}}
    assert st.fitnet_minus_rkd_narrowest([beyond]) == {"20 units": [50]}
    depth = {"results": {"depths": {"2": {"logits": {"test_errors": 300}, "hidden": {"test_errors": 290}},
                                    "12": {"logits": {"test_errors": 500}, "hidden": {"test_errors": 440}}}}}
    assert st.hidden_gain_grows_with_depth([depth]) == {"12 layers": [60], "12 layers against 2": [50]}
    chain = {"results": {"direct_errors": 700, "chain_errors": 650}}
    assert st.direct_minus_chain([chain]) == {"": [50]}
    dark = {"results": {"second_choice_agreement": {"hard": {"image": 0.40, "label": 0.25}}}}
    assert st.second_choice_beyond_label([dark])[""] == [pytest.approx(15.0)]
    # a teacher whose median wrong-class mass is 0.4% is 0.6 points below the 1% of the claim
    teacher = {"seed": 0, "results": {"teacher": {"wrong_class_mass_T1": {"median": 0.004, "lower": 0.003,
                                                                        "upper": 0.005}}}}
    estimate, lower, upper = st.wrong_class_mass_below(0.01)([teacher])[""]
    assert (estimate, lower, upper) == pytest.approx((0.6, 0.5, 0.7))
