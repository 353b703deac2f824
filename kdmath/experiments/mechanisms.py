"""Why distillation works (source 003, section 4), measured on MNIST: the mechanisms family.

``soft_target_mechanisms`` trains one teacher and, on one transfer set, four students that share
their initialisation, their images and their order of batches, and differ only in their targets:

* ``hard``: the labels (cross-entropy);
* ``smooth``: uniform label smoothing, the targets :math:`(1-\\varepsilon)\\,e_y + \\varepsilon/K`, with
  :math:`\\varepsilon` matched so that the average weight on the true class equals the distilled
  student's at ``T = 1`` (below). It is trained as :func:`kdmath.kd_loss` at ``T = 1`` with a
  uniform teacher (logits all 0) and ``alpha = epsilon``: by chapter 5's identity that is label
  smoothing, up to a constant in the loss;
* ``kd_T1``: distillation at ``T = 1`` with weight ``alpha`` on the soft term, the targets
  :math:`(1-\\alpha)\\,e_y + \\alpha\\,p` (chapter 5);
* ``kd_high``: distillation at ``T = T_high`` (20, Hinton's) with the same ``alpha``.

Matching: the distilled targets put :math:`1 - \\alpha + \\alpha p_y` on the true class, on average
:math:`1 - \\alpha(1 - \\bar p_y)` over the transfer set; the smoothed ones :math:`1 - \\varepsilon(1 - 1/K)`.
So :math:`\\varepsilon = \\alpha (1 - \\bar p_y) / (1 - 1/K)`.

``noisy_labels`` corrupts a known share of the training labels (each to another class, drawn uniformly),
trains the teacher on the corrupted labels, and compares a student trained on them with the same student
distilled from that teacher; it also records how often the teacher's prediction on a corrupted image is
its true class.

The record of ``soft_target_mechanisms`` holds, per student, its test errors, its expected calibration error (15 bins), its
top-1 agreement with every other model and with the teacher, and the largest eigenvalue of the
Hessian of the labels' cross-entropy on a fixed batch of training images (its sharpness, measured
the same way for every student). For the teacher: the mass its soft targets put on the wrong
classes of the test images (median with a 95% percentile-bootstrap interval, and means at several
temperatures), and the average soft target of each class (which classes it confuses). Per student, how
often its most likely wrong class on a test image is the teacher's, against the teacher's most frequent
wrong class for that label (``second_choice_agreement``): for the student on the labels, which never saw
the teacher, a gap is input-dependent structure in the teacher's soft targets that an independent
network finds too.
"""

from __future__ import annotations

import torch

from ..diagnostics import (
    expected_calibration_error,
    mean_soft_targets_by_class,
    second_choice_agreement,
    top1_agreement,
    top_hessian_eigenvalue,
    wrong_class_mass,
)
from ..trainer import predict_logits
from . import Context, Hypothesis, register, student_difference
from .mnist import BRIEF_TEACHER, TEACHER_MODEL, _fit, _subset, _teacher

__all__ = ["ARMS", "HYPOTHESES", "corrupt_labels"]

ARMS = ("hard", "smooth", "kd_T1", "kd_high")



def _bootstrap_median(values: torch.Tensor, resamples: int, seed: int) -> dict:
    """The median of ``values`` with a 95% percentile-bootstrap interval (``resamples`` draws)."""
    generator = torch.Generator().manual_seed(seed)
    values = values.double().cpu()
    draws = torch.randint(0, len(values), (resamples, len(values)), generator=generator)
    medians = values[draws].median(dim=1).values
    return {"median": float(values.median()), "lower": float(medians.quantile(0.025)),
            "upper": float(medians.quantile(0.975))}


def _sharpness(model, images, labels, settings, seed) -> float:
    model.eval()
    parameters = [p for p in model.parameters() if p.requires_grad]

    def loss():
        return torch.nn.functional.cross_entropy(model(images).double(), labels)

    return top_hessian_eigenvalue(loss, parameters, iterations=settings["sharpness_iterations"], tolerance=1e-3,
                                  generator=torch.Generator().manual_seed(seed))


@register(
    "soft_target_mechanisms",
    "One teacher; four students on the same images (labels, uniform label smoothing matched to the teacher, "
    "distilled at T = 1 and at T = 20): errors, calibration, agreement, sharpness; the teacher's wrong-class mass "
    "and confusions",
    {
        "quick": {"n_teacher": 5_000, "n_student": 1_000, "seed": 0, "teacher": BRIEF_TEACHER["quick"],
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "hidden": [100, 100], "alpha": 0.5,
                  "T_high": 20.0, "temperatures": [1.0, 4.0, 20.0], "bins": 15, "bootstrap": 200,
                  "sharpness_images": 500, "sharpness_iterations": 10},
        "medium": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": BRIEF_TEACHER["medium"],
                   "student": {"epochs": 20, "lr": 0.05, "lr_decay": 0.95}, "hidden": [300, 300], "alpha": 0.5,
                   "T_high": 20.0, "temperatures": [1.0, 4.0, 20.0], "bins": 15, "bootstrap": 1000,
                   "sharpness_images": 2000, "sharpness_iterations": 30},
        "full": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": BRIEF_TEACHER["full"],
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "hidden": [300, 300], "alpha": 0.5,
                 "T_high": 20.0, "temperatures": [1.0, 4.0, 20.0], "bins": 15, "bootstrap": 2000,
                 "sharpness_images": 5000, "sharpness_iterations": 50},
    },
)
def soft_target_mechanisms(settings: dict, context: Context) -> dict:
    seed, alpha, K = settings.get("seed", 0), settings["alpha"], 10
    teacher, teacher_history = _teacher(context, {**settings, "n_train": settings["n_teacher"]})
    images, labels = _subset(context, settings["n_student"], 100 + seed)
    teacher_logits = predict_logits(teacher, images)
    mean_true = float(torch.softmax(teacher_logits.double(), 1).gather(1, labels[:, None]).mean())
    epsilon = alpha * (1.0 - mean_true) / (1.0 - 1.0 / K)

    test_labels = context.test_labels
    teacher_test = predict_logits(teacher, context.test_images).double().cpu()
    wrong = wrong_class_mass(torch.softmax(teacher_test, 1), test_labels.cpu())
    teacher_report = {
        "test_errors": teacher_history.test_errors[-1],
        "mean_true_class_probability_on_transfer_set": mean_true,
        "wrong_class_mass_T1": _bootstrap_median(wrong, settings["bootstrap"], seed),
        "mean_wrong_class_mass": {f"{T:g}": float(wrong_class_mass(torch.softmax(teacher_test / T, 1), test_labels.cpu()).mean())
                                  for T in settings["temperatures"]},
        "mean_soft_targets_by_class": {f"{T:g}": mean_soft_targets_by_class(torch.softmax(teacher_test / T, 1),
                                                                             test_labels.cpu()).tolist()
                                       for T in settings["temperatures"]},
    }

    model = {"hidden": tuple(settings["hidden"])}
    student = settings["student"]
    uniform = torch.zeros_like(teacher_logits)
    recipes = {
        "hard": (student, None),
        "smooth": ({**student, "T": 1.0, "alpha": epsilon}, uniform),
        "kd_T1": ({**student, "T": 1.0, "alpha": alpha}, teacher_logits),
        "kd_high": ({**student, "T": settings["T_high"], "alpha": alpha}, teacher_logits),
    }
    sharp_images, sharp_labels = images[: settings["sharpness_images"]], labels[: settings["sharpness_images"]]
    test_logits, students = {"teacher": teacher_test}, {}
    for arm, (train_settings, targets) in recipes.items():
        net, history = _fit(context, arm, model, train_settings, images, labels, teacher_logits=targets, seed=seed)
        logits = predict_logits(net, context.test_images).double().cpu()
        test_logits[arm] = logits
        students[arm] = {
            "test_errors": history.test_errors[-1],
            "ece": expected_calibration_error(torch.softmax(logits, 1), test_labels.cpu(), bins=settings["bins"]),
            "sharpness": _sharpness(net, sharp_images, sharp_labels, settings, seed),
            "history": history.as_dict(),
        }
    names = list(test_logits)
    agreement = {a: {b: top1_agreement(test_logits[a], test_logits[b]) for b in names if b != a} for a in names}
    second_choices = {arm: second_choice_agreement(teacher_test, test_logits[arm], test_labels.cpu()) for arm in students}
    return {"epsilon": epsilon, "alpha": alpha, "teacher": teacher_report, "students": students, "agreement": agreement,
            "second_choice_agreement": second_choices, "test_images": len(test_labels)}


def corrupt_labels(labels: torch.Tensor, rate: float, seed: int, classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """The labels with a share ``rate`` of them (chosen by ``seed``) replaced by a different class drawn uniformly,
    and the mask of the corrupted ones. Exactly ``round(rate * n)`` labels change."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"rate must lie in [0, 1), got {rate!r}")
    generator = torch.Generator().manual_seed(seed)
    n = len(labels)
    chosen = torch.randperm(n, generator=generator)[: round(rate * n)]
    shift = torch.randint(1, classes, (len(chosen),), generator=generator)  # never 0: always another class
    noisy = labels.clone().cpu()
    noisy[chosen] = (noisy[chosen] + shift) % classes
    mask = torch.zeros(n, dtype=torch.bool)
    mask[chosen] = True
    return noisy.to(labels.device), mask.to(labels.device)


@register(
    "noisy_labels",
    "Labels corrupted at known rates: a teacher trained on the noisy labels, and a student trained on those labels "
    "directly against the same student distilled from that teacher (note 003's variance reduction)",
    {
        "quick": {"n_train": 1_000, "seed": 0, "rates": [0.0, 0.4], "teacher": {**BRIEF_TEACHER["quick"], "epochs": 3},
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "hidden": [100, 100], "T": 4.0, "alpha": 1.0},
        "medium": {"n_train": 10_000, "seed": 0, "rates": [0.0, 0.2, 0.4],
                   "teacher": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95, "jitter": 2, "max_norm": 15.0},
                   "student": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95}, "hidden": [300, 300], "T": 4.0, "alpha": 1.0},
        "full": {"n_train": None, "seed": 0, "rates": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5],
                 "teacher": {"epochs": 100, "lr": 0.05, "lr_decay": 0.97, "jitter": 2, "max_norm": 15.0},
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "hidden": [300, 300], "T": 4.0, "alpha": 1.0},
    },
)
def noisy_labels(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    images, labels = _subset(context, settings["n_train"], seed)
    model = {"hidden": tuple(settings["hidden"])}
    distilled_settings = {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]}
    rows = {}
    for rate in settings["rates"]:
        noisy, corrupted = corrupt_labels(labels, rate, 10_000 + seed)
        tag = f"r{rate:g}"
        teacher, teacher_history = _fit(context, f"teacher-{tag}", TEACHER_MODEL, settings["teacher"], images, noisy, seed=seed)
        teacher_logits = predict_logits(teacher, images)
        predicted = teacher_logits.argmax(1)
        p_true = torch.softmax(teacher_logits.double(), 1).gather(1, labels[:, None]).squeeze(1)
        _, on_labels = _fit(context, f"labels-{tag}", model, settings["student"], images, noisy, seed=seed)
        _, distilled = _fit(context, f"distilled-{tag}", model, distilled_settings, images, noisy,
                            teacher_logits=teacher_logits, seed=seed)
        n_corrupted = int(corrupted.sum())
        rows[f"{rate:g}"] = {
            "corrupted": n_corrupted,
            "teacher_test_errors": teacher_history.test_errors[-1],
            "labels_test_errors": on_labels.test_errors[-1],
            "distilled_test_errors": distilled.test_errors[-1],
            # how the teacher's targets treat the training images whose label was corrupted
            "teacher_recovers_true_label": float((predicted[corrupted] == labels[corrupted]).double().mean())
            if n_corrupted else None,
            "teacher_mean_true_probability_on_corrupted": float(p_true[corrupted].mean()) if n_corrupted else None,
            "teacher_mean_true_probability_on_clean": float(p_true[~corrupted].mean()),
            "history": {"labels": on_labels.as_dict(), "distilled": distilled.as_dict()},
        }
    return {"rates": rows, "n_train": len(labels)}


# --- the book's own hypotheses, stated before the medium runs ------------------------------


def _denoised_by_the_teacher(records):
    rates = [rate for rate in records[0]["results"]["rates"] if float(rate) > 0]
    return {f"{float(rate):.0%} of labels corrupted": [r["results"]["rates"][rate]["labels_test_errors"]
                                                        - r["results"]["rates"][rate]["distilled_test_errors"]
                                                        for r in records]
            for rate in rates}


def _sharper_with_labels(records):
    students = [r["results"]["students"] for r in records]
    return {f"labels against {arm}": [s["hard"]["sharpness"] - s[arm]["sharpness"] for s in students]
            for arm in ("smooth", "kd_T1", "kd_high")}


HYPOTHESES = (
    Hypothesis("teacher-beats-uniform-smoothing",
               "At T = 1 and the same average weight on the true class, the student distilled from the teacher makes "
               "fewer test errors than the student trained with uniform label smoothing: what the teacher adds is in "
               "where it puts the rest of the mass, not in how much.",
               "soft_target_mechanisms", student_difference("test_errors", "smooth", "kd_T1"), unit="errors"),
    Hypothesis("soft-targets-find-flatter-minima",
               "Note 003's landscape claim read with one measure: the largest eigenvalue of the Hessian of the labels' "
               "cross-entropy (2,000 training images) is larger for the student trained on labels than for each "
               "student trained on softer targets.",
               "soft_target_mechanisms", _sharper_with_labels, unit="(eigenvalue)"),
    Hypothesis("distillation-denoises-labels",
               "Note 003's variance reduction where the noise is known: at every corruption rate above 0, the student "
               "distilled (T = 4, alpha = 1) from a teacher trained on the corrupted labels makes fewer test errors "
               "than the same student trained on those labels.",
               "noisy_labels", _denoised_by_the_teacher, unit="errors"),
    Hypothesis("high-T-students-are-better-calibrated",
               "The student distilled at T = 20 has a lower expected calibration error than the student trained on "
               "labels.",
               "soft_target_mechanisms", student_difference("ece", "hard", "kd_high", scale=100.0), unit="points"),
)
