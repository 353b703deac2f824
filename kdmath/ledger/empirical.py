"""The sources' empirical claims, read off the committed results of the MNIST experiments.

An empirical claim has no proof to check; what this module does is state, for each claim that an
experiment of :mod:`kdmath.experiments` tests, the rule by which a run supports it, and apply the
rule to the record of the longest configuration run (``full`` if committed, else ``long``, else
``medium``).
The verdict in the ledger stays *empirical*: an outcome holds for that run, with its seeds and
lengths of training, and says so.

The rules, with :math:`E` a count of test errors on the 10,000 MNIST test images and
:math:`\\sigma(E) = \\sqrt{E (1 - E / 10\\,000)}` its binomial scale:

- *a range of temperatures is best* (003 §2.2, 004's table): at each student width, the range
  holds a temperature whose count is within :math:`2\\sigma` of the best count of the sweep
  (a single run cannot tell it from the best); otherwise that width contradicts the claim;
- *distillation beats training from scratch on the same examples* (003, example 3): the
  distilled student makes fewer errors than the student from scratch for every seed;
- *soft targets regularise* (003 §4.3–4.4, tested through its consequence): trained on 3% of the
  data, the soft-target student ends with fewer errors than the hard-label one, and loses less
  between its best epoch and its last.

Outcomes are ``supported``, ``contradicted``, ``mixed`` (some widths or seeds each way) and
``not run yet`` (no committed record).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from ..output import fmt

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
MIXED = "mixed"
NOT_RUN = "not run yet"
OUTCOMES = (SUPPORTED, CONTRADICTED, MIXED, NOT_RUN)

# Longest first: a claim is judged on the longest configuration that has a record.
RECORD_CONFIGS = ("full", "long", "medium")
N_TEST = 10_000
REQUIRED_FIELDS = ("experiment", "config_name", "config", "seed", "results", "seconds", "hardware", "kdmath_version")


@dataclass(frozen=True)
class Outcome:
    """What a committed run says about a claim: the status, the run it comes from, and why."""

    claim_id: str
    experiment: str
    status: str
    config: str | None
    evidence: str

    def __post_init__(self):
        if self.status not in OUTCOMES:
            raise ValueError(f"status must be one of {OUTCOMES}, got {self.status!r}")


def default_results_dir() -> Path:
    """Where the committed records are read from.

    ``$KDBOOK_RESULTS_DIR`` if set; else the repository's ``results/`` when the package runs from a
    clone; else the copy of it installed with the package (``kdmath/records``, as on Colab).
    """
    env = os.environ.get("KDBOOK_RESULTS_DIR")
    if env:
        return Path(env)
    clone = Path(__file__).resolve().parents[2]
    if (clone / "pyproject.toml").is_file() and (clone / "results").is_dir():
        return clone / "results"
    return Path(__file__).resolve().parents[1] / "records"


def binomial_sigma(errors: int, n: int = N_TEST) -> float:
    """The scale :math:`\\sqrt{E (1 - E/n)}` of an error count ``errors`` out of ``n`` test images."""
    if isinstance(errors, bool) or not isinstance(errors, int):
        raise TypeError(f"errors must be an int, got {type(errors).__name__}")
    if not 0 <= errors <= n:
        raise ValueError(f"errors must lie in [0, {n}], got {errors}")
    return math.sqrt(errors * (1 - errors / n))


def load_all_records(results_dir: str | os.PathLike | None = None) -> dict[tuple[str, str], dict]:
    """Every committed record, keyed by ``(experiment, config)``.

    Reads ``<results_dir>/<name>-<config>.json`` for ``config`` in ``full``, ``long``, ``medium``. A file that
    is not a well-formed record of the experiment its name says raises ``ValueError`` naming it.
    """
    if results_dir is not None and not isinstance(results_dir, (str, os.PathLike)):
        raise TypeError(f"results_dir must be a path, got {type(results_dir).__name__}")
    directory = default_results_dir() if results_dir is None else Path(results_dir)
    found: dict[tuple[str, str], dict] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.json")):
        name, _, config = path.stem.rpartition("-")
        if config not in RECORD_CONFIGS:
            continue
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"results file {path.name} is not valid JSON: {error}") from None
        missing = [key for key in REQUIRED_FIELDS if key not in record]
        if missing:
            raise ValueError(f"results file {path.name} lacks the fields {missing}")
        if record["experiment"] != name or record["config_name"] != config:
            raise ValueError(f"results file {path.name} holds {record['experiment']}-{record['config_name']}")
        found[name, config] = record
    return found


def load_records(results_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """The record of the longest committed configuration of each experiment, by experiment name."""
    every = load_all_records(results_dir)
    longest: dict[str, dict] = {}
    for config in reversed(RECORD_CONFIGS):  # shortest first, so that a longer run replaces a shorter one
        longest.update({name: record for (name, c), record in every.items() if c == config})
    return longest


def _check_count(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= N_TEST:
        raise ValueError(f"{what} must be an error count in [0, {N_TEST}], got {value!r}")
    return value


def close_to_best(counts: dict) -> tuple[float, list[float]]:
    """The setting with the fewest errors, and every setting one run cannot tell from it.

    ``counts`` maps settings (numbers, or numbers as text: temperatures, weights) to error counts.
    Returns the best setting (ties go to the smaller) and, in increasing order, the settings whose
    count is within :math:`2\\sigma` of the best count.
    """
    if not isinstance(counts, dict) or not counts:
        raise ValueError(f"counts must be a non-empty dict of error counts, got {counts!r}")
    values = {float(setting): _check_count(e, f"counts[{setting!r}]") for setting, e in counts.items()}
    best = min(values, key=lambda setting: (values[setting], setting))
    margin = 2 * binomial_sigma(values[best])
    return best, sorted(setting for setting, e in values.items() if e - values[best] <= margin)


def temperature_range_best(low: float, high: float, record: dict) -> tuple[str, str]:
    """Whether, at each width of a ``temperature_sweep`` record, some T in [low, high] is within 2 sigma of the best."""
    verdicts, parts = [], []
    for width, row in record["results"]["test_errors"].items():
        best_T, close = close_to_best(row)
        counts = {float(t): e for t, e in row.items()}
        in_range = {t: e for t, e in counts.items() if low <= t <= high}
        if not in_range:
            raise ValueError(f"the sweep at width {width} has no temperature in [{low:g}, {high:g}]")
        range_T = min(in_range, key=lambda t: (in_range[t], t))
        margin = 2 * binomial_sigma(counts[best_T])
        verdicts.append(any(low <= t <= high for t in close))
        parts.append(f"{width} units: best T = {best_T:g} ({counts[best_T]} errors), best in {low:g}–{high:g}: "
                     f"T = {range_T:g} ({in_range[range_T]} errors), 2σ = {fmt(margin, 1)}")
    status = SUPPORTED if all(verdicts) else CONTRADICTED if not any(verdicts) else MIXED
    return status, "; ".join(parts)


def distillation_beats_scratch(record: dict) -> tuple[str, str]:
    """Whether, in a ``scratch_vs_distill`` record, the distilled student wins for every seed."""
    runs = record["results"]["runs"]
    if not runs:
        raise ValueError("the scratch_vs_distill record has no runs")
    wins = [_check_count(r["distilled_errors"], "distilled_errors") < _check_count(r["scratch_errors"], "scratch_errors") for r in runs]
    scratch = sum(r["scratch_errors"] for r in runs) / len(runs)
    distilled = sum(r["distilled_errors"] for r in runs) / len(runs)
    status = SUPPORTED if all(wins) else CONTRADICTED if not any(wins) else MIXED
    gain = 100 * (scratch - distilled) / N_TEST
    return status, (f"distilled better in {sum(wins)} of {len(runs)} seeds; mean test accuracy {fmt(100 - 100 * scratch / N_TEST, 2)}% "
                    f"from scratch, {fmt(100 - 100 * distilled / N_TEST, 2)}% distilled, a gain of {fmt(gain, 2)} points")


def soft_targets_regularise(record: dict) -> tuple[str, str]:
    """Whether, in a ``soft_targets_regularizer`` record, soft targets end better and overfit less than labels."""
    result = record["results"]
    hard, soft = result["hard_labels"], result["soft_targets"]
    hard_final, hard_best = _check_count(hard["final_errors"], "hard final_errors"), _check_count(hard["best_errors"], "hard best_errors")
    soft_final, soft_best = _check_count(soft["final_errors"], "soft final_errors"), _check_count(soft["best_errors"], "soft best_errors")
    better = soft_final < hard_final
    overfits_less = soft_final - soft_best <= hard_final - hard_best
    status = SUPPORTED if better and overfits_less else CONTRADICTED if not better and not overfits_less else MIXED
    return status, (f"{result['n_small']:,} training images: last epoch {hard_final} errors with labels, {soft_final} with soft targets; "
                    f"lost since the best epoch: {hard_final - hard_best} with labels, {soft_final - soft_best} with soft targets")


# claim id -> (experiment, rule). Every id is an empirical claim of the registry (the tests check).
ASSESSMENTS: dict[str, tuple[str, Callable[[dict], tuple[str, str]]]] = {
    "003-medium-T": ("temperature_sweep", partial(temperature_range_best, 2.0, 5.0)),
    "004-T-table": ("temperature_sweep", partial(temperature_range_best, 2.0, 4.0)),
    "003-ex3-outcome": ("scratch_vs_distill", distillation_beats_scratch),
    "003-variance": ("soft_targets_regularizer", soft_targets_regularise),
}


def assess(claim_id: str, records: dict[str, dict] | None = None) -> Outcome:
    """The outcome for ``claim_id`` on ``records`` (default: :func:`load_records` of the committed results)."""
    if not isinstance(claim_id, str):
        raise TypeError(f"claim_id must be a str, got {type(claim_id).__name__}")
    if claim_id not in ASSESSMENTS:
        raise ValueError(f"claim_id must be one of {sorted(ASSESSMENTS)}, got {claim_id!r}")
    if records is None:
        records = load_records()
    elif not isinstance(records, dict):
        raise TypeError(f"records must be a dict from experiment name to record, got {type(records).__name__}")
    experiment, rule = ASSESSMENTS[claim_id]
    record = records.get(experiment)
    if record is None:
        return Outcome(claim_id, experiment, NOT_RUN, None, f"no committed record of {experiment}")
    status, evidence = rule(record)
    return Outcome(claim_id, experiment, status, record["config_name"], evidence)


def assess_all(records: dict[str, dict] | None = None) -> dict[str, Outcome]:
    """:func:`assess` for every claim an experiment tests, in the order of ``ASSESSMENTS``."""
    if records is None:
        records = load_records()
    return {claim_id: assess(claim_id, records) for claim_id in ASSESSMENTS}
