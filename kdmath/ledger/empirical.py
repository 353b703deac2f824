"""The sources' empirical claims, decided by their stated tests on the committed records.

An empirical claim has no proof to check. :mod:`kdmath.ledger.stated_tests` states, for each one,
the test that decides it, fixed before the runs: the hypothesis, the effect that matters, the arms,
the interval and the decision rule. This module reads the sample a test needs (the committed
replicates of its experiment, ``results/replicates/<name>-<config>-seed<N>.json``: independent runs,
teacher included, each with its own seed; or, where none are committed, the one record
``results/<name>-<config>.json``) and applies the rule: Student's t interval over the replicates'
paired differences, and an outcome that can be *inconclusive*.

Outcomes are ``supported``, ``contradicted``, ``mixed`` (groups of one test disagree),
``inconclusive`` (the interval holds 0, or fewer than two replicates) and ``not run yet``. The
verdict in the ledger stays *empirical*: an outcome holds for the experiment's setting, and says so.

The module also keeps the helpers chapter 10 reads single runs with: the binomial scale of an error
count, :math:`\\sigma(E) = \\sqrt{E (1 - E / 10\\,000)}`, and the settings one run cannot tell
from the best (:func:`close_to_best`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

from ..output import fmt

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
MIXED = "mixed"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run yet"
OUTCOMES = (SUPPORTED, CONTRADICTED, MIXED, INCONCLUSIVE, NOT_RUN)

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


def t_quantile(probability: float, df: int) -> float:
    """The ``probability`` quantile of Student's t distribution with ``df`` degrees of freedom.

    Solved by bisection on the distribution function, written with the regularised incomplete beta
    function: for :math:`t > 0`, :math:`F(t) = 1 - \\tfrac12 I_{df/(df + t^2)}(df/2, 1/2)`.
    """
    import mpmath

    if isinstance(df, bool) or not isinstance(df, int) or df < 1:
        raise ValueError(f"df must be a positive int, got {df!r}")
    if not 0.5 <= probability < 1:
        raise ValueError(f"probability must lie in [0.5, 1), got {probability!r}")

    def cdf(x):
        return 1 - mpmath.betainc(df / 2, 0.5, 0, df / (df + x * x), regularized=True) / 2

    low, high = 0.0, 1.0
    while cdf(high) < probability:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if cdf(middle) < probability else (low, middle)
    return (low + high) / 2


@dataclass(frozen=True)
class PairedInterval:
    """The mean of ``n`` paired differences, its 95% t interval, and the effect detectable with 80% power."""

    n: int
    mean: float
    lower: float
    upper: float
    detectable: float


def paired_interval(differences: list[float]) -> PairedInterval:
    """Student's t interval (95%) of the mean of ``differences``, and the mean difference a two-sided 5%
    test would detect with 80% power, :math:`(t_{0.975} + t_{0.8})\\, s/\\sqrt n`."""
    if not isinstance(differences, (list, tuple)) or len(differences) < 2:
        raise ValueError(f"differences must be a list of at least two numbers, got {differences!r}")
    n = len(differences)
    mean = sum(differences) / n
    spread = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    scale = spread / math.sqrt(n)
    half = t_quantile(0.975, n - 1) * scale
    detectable = (t_quantile(0.975, n - 1) + t_quantile(0.8, n - 1)) * scale
    return PairedInterval(n, mean, mean - half, mean + half, detectable)


def replicate_settings(experiment: str, config: str, seed: int) -> dict:
    """The settings of replicate ``seed`` of ``experiment``'s named ``config`` (as ``run_experiment(seed=...)`` sets them)."""
    from ..experiments import EXPERIMENTS, with_seed

    return with_seed(EXPERIMENTS[experiment].configs[config], seed)


def load_replicates(experiment: str, config: str, results_dir: str | os.PathLike | None = None) -> list[dict]:
    """The sample a stated test reads, in the order of the seeds: the replicates
    ``replicates/<experiment>-<config>-seed<N>.json``, together with the single record
    ``<experiment>-<config>.json`` when its settings are those of a replicate whose seed is not among them
    (the committed run is then one replicate, not a copy of one)."""
    directory = default_results_dir() if results_dir is None else Path(results_dir)
    found = []
    for path in (directory / "replicates").glob(f"{experiment}-{config}-seed*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("experiment") != experiment or record.get("config_name") != config:
            raise ValueError(f"replicate {path.name} holds {record.get('experiment')}-{record.get('config_name')}")
        found.append(record)
    seeds = [record["seed"] for record in found]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"the replicates of {experiment}-{config} repeat a seed: {sorted(seeds)}")
    single = load_all_records(directory).get((experiment, config))
    if single is not None and single["seed"] not in seeds:
        try:
            is_replicate = single["config"] == replicate_settings(experiment, config, single["seed"])
        except KeyError:  # an experiment or configuration this kdmath does not define
            is_replicate = False
        if is_replicate or not found:
            found.append(single)
    return sorted(found, key=lambda record: record["seed"])


_DIGITS = {"errors": (2, 1), "points": (2, 2)}  # (mean, interval) decimals by unit; 3 and 3 otherwise (nats per token)


def judge(differences: list[float], unit: str = "errors") -> tuple[str, str]:
    """The decision rule on paired differences (the claim predicts them positive): the status and the evidence."""
    return _judge(differences, unit)


def _judge(differences: list[float], unit: str = "errors") -> tuple[str, str]:
    if len(differences) < 2:
        return INCONCLUSIVE, f"{len(differences)} replicate: too few for an interval"
    interval = paired_interval(differences)
    status = SUPPORTED if interval.lower > 0 else CONTRADICTED if interval.upper < 0 else INCONCLUSIVE
    mean_digits, digits = _DIGITS.get(unit, (3, 3))
    return status, (f"{interval.n} replicates: mean difference {fmt(interval.mean, mean_digits)} {unit}, 95% interval "
                    f"[{fmt(interval.lower, digits)}, {fmt(interval.upper, digits)}]; detectable with 80% power: "
                    f"{fmt(interval.detectable, digits)} {unit}")


def _judge_recorded(interval: tuple[float, float, float], unit: str) -> tuple[str, str]:
    estimate, lower, upper = interval
    status = SUPPORTED if lower > 0 else CONTRADICTED if upper < 0 else INCONCLUSIVE
    return status, (f"estimate {fmt(estimate, 3)} {unit}, 95% bootstrap interval [{fmt(lower, 3)}, {fmt(upper, 3)}]")


def assess(claim_id: str, results_dir: str | os.PathLike | None = None) -> Outcome:
    """The outcome of ``claim_id``'s stated test (:mod:`kdmath.ledger.stated_tests`) on the committed records."""
    from .stated_tests import stated_test

    if not isinstance(claim_id, str):
        raise TypeError(f"claim_id must be a str, got {type(claim_id).__name__}")
    test = stated_test(claim_id)
    if test.experiment is None:
        return Outcome(claim_id, "", NOT_RUN, None, f"not run: it needs {test.why_not_run}")
    records = load_replicates(test.experiment, test.config, results_dir)
    if not records:
        return Outcome(claim_id, test.experiment, NOT_RUN, None, f"no committed record of {test.experiment}-{test.config}")
    from .stated_tests import RECORD_INTERVAL

    groups = test.statistic(records)
    if test.rule == RECORD_INTERVAL:
        judged = {group: _judge_recorded(interval, test.unit) for group, interval in groups.items()}
    else:
        judged = {group: _judge(differences, test.unit) for group, differences in groups.items()}
    statuses = {status for status, _ in judged.values()}
    status = statuses.pop() if len(statuses) == 1 else MIXED if {SUPPORTED, CONTRADICTED} <= statuses else INCONCLUSIVE
    evidence = "; ".join(f"{group}: {s}, {text}" if group else text for group, (s, text) in judged.items())
    matters = "" if test.effect_size is None else f" (the effect that matters: {fmt(test.effect_size, 0 if test.unit == 'errors' else 2)} {test.unit})"
    return Outcome(claim_id, test.experiment, status, test.config, evidence + matters)


def assess_all(results_dir: str | os.PathLike | None = None) -> dict[str, Outcome]:
    """:func:`assess` for every empirical claim that an experiment of the book tests, in the order of the stated tests."""
    from .stated_tests import STATED_TESTS

    return {test.claim_id: assess(test.claim_id, results_dir) for test in STATED_TESTS if test.experiment is not None}
