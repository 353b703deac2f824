"""The tests of the sources' empirical claims, stated before any run.

Every empirical claim of the registry has one :class:`StatedTest`: the hypothesis in measurable form,
the effect that matters, the arms and their replicates, the interval, and the experiment whose
records decide it (or why none has run). The decision rule is the same for all, and can say
"inconclusive":

- each replicate (an independent run of the whole experiment, teacher included, with its own seed)
  gives one *paired difference* :math:`d_s`, oriented so that the claim predicts :math:`d_s > 0`
  (in test errors out of 10,000, the arms sharing the seed);
- with :math:`n \\ge 2` replicates, the 95% interval is Student's t interval
  :math:`\\bar d \\pm t_{0.975,\\,n-1}\\, s/\\sqrt n`;
- **supported** if the interval lies above 0, **contradicted** if it lies below 0, **inconclusive**
  otherwise, and always with fewer than two replicates (one run decides nothing);
- a claim tested in several groups (the widths of a sweep) is supported if every group supports it,
  contradicted if every group contradicts it, and **mixed** if the groups disagree;
- each outcome reports the effect the run could have detected: the mean difference that a two-sided
  5% test finds with 80% power, :math:`(t_{0.975,\\,n-1} + t_{0.8,\\,n-1})\\, s/\\sqrt n`, beside the
  effect that matters.

A claim about one quantity of one model (the teacher's top-256 mass) has no replicates to pair: its
experiment records the estimate and a 95% percentile-bootstrap interval over the positions of the
text, oriented so that the claim predicts a positive value, and the same rule reads that interval
(rule ``recorded interval``).

A statistic turns an experiment's record into paired differences, by group. The temperature claims
compare, in each replicate, the error of the temperature in the claimed range that is best on
average over the replicates with that of the best temperature outside it (chosen the same way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ._claim import Claim

# A statistic: the replicates' records -> {group: [paired difference per replicate]} (rule PAIRED_T), or
# -> {group: (estimate, lower, upper)}, an interval the experiment computed and recorded (rule RECORD_INTERVAL).
Statistic = Callable[[list[dict]], dict]
PAIRED_T = "paired t"
RECORD_INTERVAL = "recorded interval"
RULES = (PAIRED_T, RECORD_INTERVAL)


@dataclass(frozen=True)
class StatedTest:
    """The test of one empirical claim, fixed before its records were made.

    ``experiment`` and ``statistic`` name what decides it; ``why_not_run`` says, for a claim no
    experiment of the book can run yet, what the test needs.
    """

    claim_id: str
    hypothesis: str
    effect: str
    effect_size: float | None
    arms: str
    experiment: str | None = None
    config: str = "medium"
    statistic: Statistic | None = None
    why_not_run: str | None = None
    unit: str = "errors"  # of the differences and the effect: "errors" (of 10,000 test images), "nats per token"
    rule: str = PAIRED_T

    def __post_init__(self):
        if (self.experiment is None) == (self.why_not_run is None):
            raise ValueError(f"test of {self.claim_id}: give an experiment or the reason none has run, not both")
        if self.experiment is not None and self.statistic is None:
            raise ValueError(f"test of {self.claim_id}: an experiment needs a statistic")
        if self.rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}, got {self.rule!r}")


def _runs(records: list[dict]) -> list[dict]:
    return [run for record in records for run in record["results"]["runs"]]


def scratch_minus_distilled(records: list[dict]) -> dict[str, list[float]]:
    """Errors of the student trained from scratch minus those of the distilled one, per run."""
    return {"": [run["scratch_errors"] - run["distilled_errors"] for run in _runs(records)]}


def hard_minus_soft(records: list[dict]) -> dict[str, list[float]]:
    """Final errors of the hard-label student minus those of the soft-target one, per replicate."""
    return {"": [r["results"]["hard_labels"]["final_errors"] - r["results"]["soft_targets"]["final_errors"] for r in records]}


def _best_on_average(rows: list[dict], settings: list[str]) -> str:
    return min(settings, key=lambda s: (sum(row[s] for row in rows) / len(rows), float(s)))


def range_beats_outside(low: float, high: float) -> Statistic:
    """Per width: errors of the best T outside [low, high] minus those of the best T inside, per replicate."""

    def statistic(records: list[dict]) -> dict[str, list[float]]:
        groups = {}
        for width in records[0]["results"]["test_errors"]:
            rows = [r["results"]["test_errors"][width] for r in records]
            inside = [t for t in rows[0] if low <= float(t) <= high]
            outside = [t for t in rows[0] if not low <= float(t) <= high]
            if not inside or not outside:
                raise ValueError(f"the sweep at width {width} needs temperatures inside and outside [{low:g}, {high:g}]")
            best_in, best_out = _best_on_average(rows, inside), _best_on_average(rows, outside)
            groups[f"{width} units (T = {best_in} against T = {best_out})"] = [row[best_out] - row[best_in] for row in rows]
        return groups

    statistic.__name__ = f"range_{low:g}_{high:g}_beats_outside"
    return statistic


def both_terms_beat_either(records: list[dict]) -> dict[str, list[float]]:
    """Errors of the better end (alpha 0 or 1) minus those of the best weight strictly between, per replicate."""
    rows = [r["results"]["test_errors"] for r in records]
    inner = [a for a in rows[0] if 0 < float(a) < 1]
    best = _best_on_average(rows, inner)
    end = _best_on_average(rows, [a for a in rows[0] if float(a) in (0.0, 1.0)])
    return {f"alpha = {best} against alpha = {end}": [row[end] - row[best] for row in rows]}


def lm_range_beats_outside(low: float, high: float) -> Statistic:
    """Validation loss of the best T outside [low, high] minus that of the best T inside, per replicate (nats per token)."""

    def statistic(records: list[dict]) -> dict[str, list[float]]:
        rows = [{T: arm["val_loss"] for T, arm in r["results"]["sweep"].items()} for r in records]
        inside = [t for t in rows[0] if low <= float(t) <= high]
        outside = [t for t in rows[0] if not low <= float(t) <= high]
        if not inside or not outside:
            raise ValueError(f"the sweep needs temperatures inside and outside [{low:g}, {high:g}]")
        best_in, best_out = _best_on_average(rows, inside), _best_on_average(rows, outside)
        return {f"T = {best_in} against T = {best_out}": [row[best_out] - row[best_in] for row in rows]}

    statistic.__name__ = f"lm_range_{low:g}_{high:g}_beats_outside"
    return statistic


def argmax_minus_distribution(records: list[dict]) -> dict[str, list[float]]:
    """Validation loss of the student on the teacher's argmax tokens minus that on its distributions, per replicate."""
    return {"": [r["results"]["arms"]["teacher_argmax"]["val_loss"] - r["results"]["arms"]["soft_T1"]["val_loss"]
                 for r in records]}


def top_256_median_above(threshold: float) -> Statistic:
    """The teacher's median top-256 mass minus ``threshold``, with the recorded bootstrap interval, shifted alike."""

    def statistic(records: list[dict]) -> dict[str, tuple[float, float, float]]:
        groups = {}
        for record in records:
            median = record["results"]["top_256_median"]
            groups[f"seed {record['seed']}" if len(records) > 1 else ""] = (
                median["median"] - threshold, median["lower"] - threshold, median["upper"] - threshold)
        return groups

    statistic.__name__ = f"top_256_median_above_{threshold:g}"
    return statistic


def smoothing_closer_than_labels(records: list[dict]) -> dict[str, list[float]]:
    """How much closer the student distilled at T = 1 is to the label-smoothed student than to the hard-label one,
    per replicate, in points (percent of the test images; percentage points of calibration error)."""
    agreement, calibration = [], []
    for record in records:
        agree, students = record["results"]["agreement"]["kd_T1"], record["results"]["students"]
        agreement.append(100 * (agree["smooth"] - agree["hard"]))
        ece = {arm: students[arm]["ece"] for arm in ("kd_T1", "smooth", "hard")}
        calibration.append(100 * (abs(ece["kd_T1"] - ece["hard"]) - abs(ece["kd_T1"] - ece["smooth"])))
    return {"top-1 agreement": agreement, "calibration error": calibration}


def low_T_agrees_more_with_teacher(records: list[dict]) -> dict[str, list[float]]:
    """Top-1 agreement with the teacher of the student distilled at T = 1 minus that of the one at T = 20, in points."""
    return {"": [100 * (r["results"]["agreement"]["kd_T1"]["teacher"] - r["results"]["agreement"]["kd_high"]["teacher"])
                 for r in records]}


def wrong_class_mass_below(threshold: float) -> Statistic:
    """``threshold`` minus the teacher's median wrong-class mass on the test images, in percentage points of
    probability, with its recorded bootstrap interval turned alike (the claim predicts it positive), one group
    per replicate's teacher."""

    def statistic(records: list[dict]) -> dict[str, tuple[float, float, float]]:
        groups = {}
        for record in records:
            mass = record["results"]["teacher"]["wrong_class_mass_T1"]
            groups[f"seed {record['seed']}" if len(records) > 1 else ""] = tuple(
                100 * (threshold - mass[key]) for key in ("median", "upper", "lower"))
        return groups

    statistic.__name__ = f"wrong_class_mass_below_{threshold:g}"
    return statistic


def second_choice_beyond_label(records: list[dict]) -> dict[str, list[float]]:
    """For the student trained on the labels alone: how often its most likely wrong class on a test image is the
    teacher's, minus how often it is the teacher's most frequent wrong class for that label, per replicate, in points."""
    return {"": [100 * (r["results"]["second_choice_agreement"]["hard"]["image"]
                        - r["results"]["second_choice_agreement"]["hard"]["label"]) for r in records]}


def fitnet_minus_rkd_narrowest(records: list[dict]) -> dict[str, list[float]]:
    """At the narrowest student width: errors with FitNet hints minus errors with relational distillation."""
    width = min(records[0]["results"]["widths"], key=int)
    rows = [r["results"]["widths"][width] for r in records]
    return {f"{width} units": [row["fitnet"]["test_errors"] - row["rkd"]["test_errors"] for row in rows]}


def hidden_gain_grows_with_depth(records: list[dict]) -> dict[str, list[float]]:
    """What hidden-state matching saves (logits' errors minus logits-and-hidden's) on the deepest student, and
    how much more than on the shallowest, per replicate."""
    depths = sorted(records[0]["results"]["depths"], key=int)
    shallow, deep = depths[0], depths[-1]

    def gain(record, depth):
        arms = record["results"]["depths"][depth]
        return arms["logits"]["test_errors"] - arms["hidden"]["test_errors"]

    return {f"{deep} layers": [gain(r, deep) for r in records],
            f"{deep} layers against {shallow}": [gain(r, deep) - gain(r, shallow) for r in records]}


def direct_minus_chain(records: list[dict]) -> dict[str, list[float]]:
    """Errors of the student distilled directly from the teacher minus those of the one at the end of the chain."""
    return {"": [r["results"]["direct_errors"] - r["results"]["chain_errors"] for r in records]}


_MNIST_DIFF = "paired by seed; 95% t interval over the replicates"
_LM_DIFF = ("one teacher (4 layers, 128 wide, vocabulary 2,048) for every replicate; each replicate re-draws the students' "
            "initialisation and text windows; paired by seed; 95% t interval over the replicates")

STATED_TESTS: tuple[StatedTest, ...] = (
    StatedTest("003-medium-T",
               "On MNIST, at each student width, the best temperature in [2, 5] gives fewer test errors than the best "
               "temperature outside it (1 to 20), each chosen by its mean over the replicates.",
               "10 errors of 10,000 (0.1 points), the size of the gaps between neighbouring temperatures in the paper",
               10, "students of 300 and 30 units per layer, distilled at T = 1, 2, 2.5, 3, 4, 6, 8, 12, 20; " + _MNIST_DIFF,
               "temperature_sweep", statistic=range_beats_outside(2.0, 5.0)),
    StatedTest("004-T-table",
               "Its first row, on MNIST with a well-trained (confident) teacher: at each width, the best temperature in "
               "[2, 4] gives fewer test errors than the best outside it. The other rows need an uncertain teacher and "
               "noisy labels, which no experiment of the book trains.",
               "10 errors of 10,000", 10, "as for 003-medium-T; " + _MNIST_DIFF,
               "temperature_sweep", statistic=range_beats_outside(2.0, 4.0)),
    StatedTest("003-ex3-outcome",
               "A student distilled (alpha = 0.7, T = 3) on 10,000 MNIST images from a teacher trained on all 60,000 makes "
               "fewer test errors than the same network trained on the 10,000 labels alone.",
               "50 errors of 10,000 (0.5 points); the note claims 6 points for an unnamed task", 50,
               "the two students share the seed, the 10,000 images and the initialisation; " + _MNIST_DIFF,
               "scratch_vs_distill", statistic=scratch_minus_distilled),
    StatedTest("002-generalization",
               "'Sometimes' asks for one setting: in the setting of 003's example 3 (above), the distilled student makes "
               "fewer test errors than the same network trained on the labels.",
               "50 errors of 10,000", 50, "as for 003-ex3-outcome; " + _MNIST_DIFF,
               "scratch_vs_distill", statistic=scratch_minus_distilled),
    StatedTest("003-variance",
               "Tested through its consequence: a student trained on 3% of MNIST (1,800 images) on the teacher's soft "
               "targets (T = 20) ends with fewer test errors than the same network on the labels. The variance itself "
               "is not measured.",
               "50 errors of 10,000", 50, "800-800 students sharing the seed and the 1,800 images; " + _MNIST_DIFF,
               "soft_targets_regularizer", statistic=hard_minus_soft),
    StatedTest("002-use-both",
               "On MNIST (10,000 images, T = 3), the best weight strictly between 0 and 1 gives fewer test errors than "
               "the better of the two ends (labels alone, soft targets alone).",
               "10 errors of 10,000", 10, "alpha = 0, 0.1, ..., 1 on the same student and images; " + _MNIST_DIFF,
               "alpha_sweep", statistic=both_terms_beat_either),
    StatedTest("003-low-T",
               "A student distilled at T = 1 is closer, in test predictions (top-1 agreement) and calibration (expected "
               "calibration error), to a student trained with label smoothing of the same average weight on the true "
               "class than to one trained on hard labels.",
               "1 point (of agreement, and of calibration error)", 1.0,
               "hard labels, uniform label smoothing with epsilon matched to the teacher, distilled at T = 1 (alpha = 0.5); "
               "300-300 students sharing the seed, the 10,000 images and the initialisation; 5 replicates; " + _MNIST_DIFF,
               "soft_target_mechanisms", statistic=smoothing_closer_than_labels, unit="points"),
    StatedTest("003-pitfall-layers",
               "On a deep student (12 layers or more), adding a layer-to-layer loss to the logit loss lowers the test "
               "error, more than it does on a shallow one.",
               "50 errors of 10,000 (0.5 points of accuracy)", 50,
               "students 50 units wide, 2 and 12 layers, trained on the logits (T = 4, alpha = 0.9) with and without "
               "hidden-state matching (each of the teacher's two layers paired with the student layer at the same "
               "relative depth, weight 1), sharing the seed, the 10,000 images and the initialisation; 3 replicates; "
               + _MNIST_DIFF, "hidden_states_by_depth", statistic=hidden_gain_grows_with_depth),
    StatedTest("003-pp4-mass",
               "On held-out text, the teacher's 256 most probable tokens hold more than 99% of its next-token mass at "
               "the median position.",
               "the median mass against 0.99", None, "one teacher, positions of the validation text, bootstrap over positions",
               "lm_vocabulary", statistic=top_256_median_above(0.99), unit="of probability mass", rule=RECORD_INTERVAL),
    StatedTest("003-confident-teacher",
               "The trained MNIST teacher's softmax at T = 1 puts less than 1% on the wrong classes for most test images.",
               "the median wrong-class mass against 0.01 (1 point of probability)", None,
               "the teachers of the replicates, bootstrap over test images",
               "soft_target_mechanisms", statistic=wrong_class_mass_below(0.01), unit="points of probability",
               rule=RECORD_INTERVAL),
    StatedTest("003-same-boundaries",
               "A student distilled at T near 1 agrees with its teacher's top-1 prediction on more test images than one "
               "distilled at T = 20.",
               "1 point of agreement", 1.0, "distilled at T = 1 and T = 20 (alpha = 0.5), the students sharing the seed, "
               "images and initialisation; 5 replicates; " + _MNIST_DIFF,
               "soft_target_mechanisms", statistic=low_T_agrees_more_with_teacher, unit="points"),
    StatedTest("003-rkd-forgiving",
               "For a student too narrow to reproduce the teacher's features, a relational loss lowers its test error "
               "more than a feature-matching loss does.",
               "50 errors of 10,000 (0.5 points of accuracy)", 50,
               "students of 4 layers, 100 and 20 units, distilled (T = 4, alpha = 0.9) with FitNet hints (5 of the 20 "
               "epochs on the hint) or with RKD (distance weight 1, angle 2); decided at the narrowest width, 20 units "
               "against the teacher's 1,200; 3 replicates; " + _MNIST_DIFF,
               "beyond_logits", statistic=fitnet_minus_rkd_narrowest),
    StatedTest("003-llm-T",
               "Distilling a language model, the temperature with the lowest validation loss of the student, among 1 to "
               "20, lies in [2, 10], with the best inside the range beating the best outside it.",
               "0.02 nats per token", 0.02, "a sweep of T = 1, 2, 4, 10, 20 (alpha = 0.5) on one teacher and student, "
               "5 seeds; " + _LM_DIFF, "lm_token_kd", statistic=lm_range_beats_outside(2.0, 10.0), unit="nats per token"),
    StatedTest("003-pitfall-hard-labels",
               "A language-model student trained on the teacher's argmax tokens has a higher validation loss than one "
               "trained on the teacher's full distributions.",
               "0.05 nats per token", 0.05, "argmax targets against full distributions (T = 1, no labels), 5 seeds; " + _LM_DIFF,
               "lm_token_kd", statistic=argmax_minus_distribution, unit="nats per token"),
    StatedTest("003-ex3-extra-knowledge",
               "With the student and its 10,000 images fixed, a teacher trained on all 60,000 images gives a better "
               "distilled student than a teacher trained on the same 10,000.",
               "50 errors of 10,000", None, "two teachers, one student recipe, 10 seeds",
               why_not_run="no experiment trains the second teacher yet"),
    StatedTest("004-dark-knowledge",
               "Among test images of one class, the teacher's soft targets vary with the image in a way an independent "
               "network finds too: a student trained on the labels alone, which never saw the teacher, ranks first among "
               "its wrong classes the teacher's most likely wrong class for that image more often than the teacher's "
               "most frequent wrong class for the image's label.",
               "5 points (of the test images)", 5.0,
               "the teacher and the 300-300 student on the labels of each replicate, on the 10,000 test images (the "
               "label's guess fitted on them, which favours it); 5 replicates; " + _MNIST_DIFF,
               "soft_target_mechanisms", statistic=second_choice_beyond_label, unit="points"),
    StatedTest("004-ta-advice",
               "For a student much smaller than its teacher, distilling through a mid-sized assistant gives fewer test "
               "errors than distilling directly.",
               "20 errors of 10,000", 20,
               "a 30-30 student distilled (T = 4, alpha = 0.9) from the 1200-1200 teacher directly, against through "
               "assistants of 300-300 and then 100-100, each distilled from the one before, every network on the same "
               "10,000 images for 20 epochs; 3 replicates; " + _MNIST_DIFF,
               "ta_chain", statistic=direct_minus_chain),
)


def stated_test(claim: Claim | str) -> StatedTest:
    """The stated test of an empirical claim (by claim or id)."""
    claim_id = claim.id if isinstance(claim, Claim) else claim
    found = [test for test in STATED_TESTS if test.claim_id == claim_id]
    if not found:
        raise ValueError(f"claim_id must be an empirical claim with a stated test, got {claim_id!r}")
    return found[0]
