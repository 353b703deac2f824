"""The MNIST family: Hinton, Vinyals and Dean (2015, section 3), and the source notes' claims on MNIST.

Each experiment trains what it needs with :mod:`kdmath.trainer` on the MNIST tensors of the
:class:`~kdmath.experiments.Context` and returns its numbers; teachers are cached in the checkpoint
directory, keyed by their configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib

import torch

from ..models import MLP
from ..trainer import TrainConfig, evaluate, predict_logits, train
from . import Context, register

# --- shared pieces -------------------------------------------------------------------------


def _subset(context: Context, n: int | None, seed: int, keep=None):
    """The first ``n`` examples of a fixed random order of the training set (optionally only ``keep``)."""
    order = torch.randperm(len(context.train_labels), generator=torch.Generator().manual_seed(1000 + seed)).to(context.device)
    if keep is not None:
        order = order[keep(context.train_labels[order])]
    if n is not None:
        order = order[:n]
    return context.train_images[order], context.train_labels[order]


def _train_config(settings: dict, **overrides) -> TrainConfig:
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    return TrainConfig(**{key: value for key, value in {**settings, **overrides}.items() if key in fields})


def teacher_fingerprint(teacher_logits) -> dict:
    """What a distilled student's checkpoint key records of its teacher: a hash of the targets themselves, so that a
    student of another teacher (another configuration, seed or device) is never taken from the cache."""
    if teacher_logits is None:
        return {}
    data = teacher_logits.detach().float().cpu().contiguous().numpy().tobytes()
    return {"teacher": hashlib.sha256(data).hexdigest()[:16]}


def _fit(context: Context, tag: str, model_settings: dict, train_settings: dict, images, labels, teacher_logits=None, seed=0):
    """Train one model (resuming from its checkpoint if there is one) and return it with its history."""
    torch.manual_seed(seed)
    model = MLP(**model_settings).to(context.device)
    config = _train_config(train_settings, seed=seed)
    checkpoint = context.checkpoint(tag, {"model": model_settings, "train": dataclasses.asdict(config), "n": len(labels),
                                          "first": labels[:32].tolist(), "distilled": teacher_logits is not None,
                                          **teacher_fingerprint(teacher_logits)})
    history = train(model, images, labels, config, teacher_logits=teacher_logits, test_images=context.test_images,
                    test_labels=context.test_labels, checkpoint=checkpoint, progress=context.progress, description=tag)
    return model, history


TEACHER_MODEL = {"hidden": (1200, 1200), "dropout": 0.5, "input_dropout": 0.2}


def _teacher(context: Context, settings: dict):
    teacher_settings = settings["teacher"]
    images, labels = _subset(context, settings.get("n_train"), settings.get("seed", 0))
    model, history = _fit(context, "teacher", TEACHER_MODEL, teacher_settings, images, labels, seed=settings.get("seed", 0))
    return model, history


def _errors_by_class(model, context: Context, bias_shift: dict | None = None) -> tuple[int, dict]:
    logits = predict_logits(model, context.test_images)
    if bias_shift:
        for cls, shift in bias_shift.items():
            logits[:, int(cls)] += shift
    wrong = logits.argmax(-1) != context.test_labels
    per_class = {str(c): int(wrong[context.test_labels == c].sum()) for c in range(10)}
    return int(wrong.sum()), per_class


# --- the experiments -----------------------------------------------------------------------

_TEACHER_QUICK = {"epochs": 3, "lr": 0.05, "lr_decay": 0.95, "jitter": 2, "max_norm": 15.0}
_TEACHER_MEDIUM = {"epochs": 30, "lr": 0.05, "lr_decay": 0.95, "jitter": 2, "max_norm": 15.0}
_TEACHER_FULL = {"epochs": 300, "lr": 0.05, "lr_decay": 0.99, "jitter": 2, "max_norm": 15.0}
# A third of the full training with the same final learning rate (0.05 * 0.97^100 is 0.05 * 0.99^300 to within 4%):
# what a two-core CPU does in about 40 minutes.
_TEACHER_LONG = {"epochs": 100, "lr": 0.05, "lr_decay": 0.97, "jitter": 2, "max_norm": 15.0}

# The teacher of the later families (beyond, mechanisms, generations): a medium teacher of 12 epochs, so that a
# replicate, teacher included, stays affordable on a two-core CPU.
BRIEF_TEACHER = {
    "quick": {"epochs": 2, "lr": 0.05, "lr_decay": 0.95, "jitter": 2, "max_norm": 15.0},
    "medium": {"epochs": 12, "lr": 0.05, "lr_decay": 0.9, "jitter": 2, "max_norm": 15.0},
    "full": {"epochs": 100, "lr": 0.05, "lr_decay": 0.97, "jitter": 2, "max_norm": 15.0},
}

@register(
    "hinton_mnist",
    "Teacher 1200-1200 (dropout, max-norm, jitter); student 800-800 on labels; the same student distilled at T = 20",
    {
        "quick": {"n_train": 10_000, "seed": 0, "teacher": _TEACHER_QUICK,
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "T": 20.0, "alpha": 0.9},
        "medium": {"n_train": None, "seed": 0, "teacher": _TEACHER_MEDIUM,
                   "student": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95}, "T": 20.0, "alpha": 0.9},
        "full": {"n_train": None, "seed": 0, "teacher": _TEACHER_FULL,
                 "student": {"epochs": 200, "lr": 0.05, "lr_decay": 0.99}, "T": 20.0, "alpha": 0.9},
        "long": {"n_train": None, "seed": 0, "teacher": _TEACHER_LONG,
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "T": 20.0, "alpha": 0.9},
    },
)
def hinton_mnist(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, settings)
    images, labels = _subset(context, settings.get("n_train"), seed)
    teacher_logits = predict_logits(teacher, images)
    student_model = {"hidden": (800, 800)}
    _, scratch_history = _fit(context, "student", student_model, settings["student"], images, labels, seed=seed)
    _, distilled_history = _fit(context, "distilled", student_model, {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]},
                                images, labels, teacher_logits=teacher_logits, seed=seed)
    return {
        "test_errors": {"teacher": teacher_history.test_errors[-1], "student": scratch_history.test_errors[-1],
                        "distilled": distilled_history.test_errors[-1]},
        "paper_test_errors": {"teacher": 67, "student": 146, "distilled": 74},
        "history": {"teacher": teacher_history.as_dict(), "student": scratch_history.as_dict(), "distilled": distilled_history.as_dict()},
    }


@register(
    "scratch_vs_distill",
    "Source 003's example 3: a teacher on all the data, a student on 10,000 examples with and without distillation (alpha = 0.7, T = 3), over seeds",
    {
        "quick": {"n_teacher": 10_000, "n_student": 2_000, "seeds": [0, 1], "seed": 0, "teacher": _TEACHER_QUICK,
                  "student": {"epochs": 5, "lr": 0.05, "lr_decay": 0.95}, "hidden": [100, 100], "T": 3.0, "alpha": 0.7},
        "medium": {"n_teacher": None, "n_student": 10_000, "seeds": [0, 1, 2], "seed": 0, "teacher": _TEACHER_MEDIUM,
                   "student": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95}, "hidden": [300, 300], "T": 3.0, "alpha": 0.7},
        "full": {"n_teacher": None, "n_student": 10_000, "seeds": [0, 1, 2, 3, 4], "seed": 0, "teacher": _TEACHER_FULL,
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "hidden": [300, 300], "T": 3.0, "alpha": 0.7},
    },
)
def scratch_vs_distill(settings: dict, context: Context) -> dict:
    teacher, teacher_history = _teacher(context, {**settings, "n_train": settings["n_teacher"]})
    rows = []
    for seed in settings["seeds"]:
        images, labels = _subset(context, settings["n_student"], 100 + seed)
        teacher_logits = predict_logits(teacher, images)
        model = {"hidden": tuple(settings["hidden"])}
        _, scratch = _fit(context, f"scratch-s{seed}", model, settings["student"], images, labels, seed=seed)
        _, distilled = _fit(context, f"distilled-s{seed}", model, {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]},
                            images, labels, teacher_logits=teacher_logits, seed=seed)
        rows.append({"seed": seed, "scratch_errors": scratch.test_errors[-1], "distilled_errors": distilled.test_errors[-1]})
    scratch_errors = torch.tensor([r["scratch_errors"] for r in rows], dtype=torch.float64)
    distilled_errors = torch.tensor([r["distilled_errors"] for r in rows], dtype=torch.float64)
    return {
        "teacher_errors": teacher_history.test_errors[-1],
        "runs": rows,
        "scratch_accuracy_mean": float(1 - scratch_errors.mean() / len(context.test_labels)),
        "distilled_accuracy_mean": float(1 - distilled_errors.mean() / len(context.test_labels)),
        "scratch_errors_std": float(scratch_errors.std()) if len(rows) > 1 else 0.0,
        "distilled_errors_std": float(distilled_errors.std()) if len(rows) > 1 else 0.0,
        "distilled_better_in": int((distilled_errors < scratch_errors).sum()),
    }


@register(
    "temperature_sweep",
    "Students of 300 and 30 units per layer distilled at several temperatures (the paper: above 8 all alike at 300 units, 2.5 to 4 best at 30)",
    {
        "quick": {"n_train": 10_000, "seed": 0, "teacher": _TEACHER_QUICK, "widths": [300, 30], "temperatures": [1.0, 2.5, 4.0, 8.0, 20.0],
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "alpha": 0.9},
        "medium": {"n_train": None, "seed": 0, "teacher": _TEACHER_MEDIUM, "widths": [300, 30],
                   "temperatures": [1.0, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0],
                   "student": {"epochs": 20, "lr": 0.05, "lr_decay": 0.95}, "alpha": 0.9},
        "full": {"n_train": None, "seed": 0, "teacher": _TEACHER_FULL, "widths": [300, 30],
                 "temperatures": [1.0, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0, 30.0],
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "alpha": 0.9},
    },
)
def temperature_sweep(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, settings)
    images, labels = _subset(context, settings.get("n_train"), seed)
    teacher_logits = predict_logits(teacher, images)
    table = {}
    for width in settings["widths"]:
        row = {}
        for T in settings["temperatures"]:
            _, history = _fit(context, f"w{width}-T{T:g}", {"hidden": (width, width)}, {**settings["student"], "T": T, "alpha": settings["alpha"]},
                              images, labels, teacher_logits=teacher_logits, seed=seed)
            row[f"{T:g}"] = history.test_errors[-1]
        table[str(width)] = row
    return {"teacher_errors": teacher_history.test_errors[-1], "test_errors": table}


@register(
    "omitted_class",
    "Transfer set without any 3 (paper: 206 errors, 133 on the 1010 test 3s; +3.5 on the bias of 3: 109 errors, 14 on 3s), "
    "and a transfer set of only 7s and 8s (paper: 47.3% error; 13.2% after lowering the biases of 7 and 8 by 7.6)",
    {
        "quick": {"n_train": 10_000, "seed": 0, "teacher": _TEACHER_QUICK, "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95},
                  "T": 20.0, "alpha": 1.0, "bias_three": 3.5, "bias_seven_eight": -7.6},
        "medium": {"n_train": None, "seed": 0, "teacher": _TEACHER_MEDIUM, "student": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95},
                   "T": 20.0, "alpha": 1.0, "bias_three": 3.5, "bias_seven_eight": -7.6},
        "full": {"n_train": None, "seed": 0, "teacher": _TEACHER_FULL, "student": {"epochs": 200, "lr": 0.05, "lr_decay": 0.99},
                 "T": 20.0, "alpha": 1.0, "bias_three": 3.5, "bias_seven_eight": -7.6},
    },
)
def omitted_class(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, settings)
    student = {"hidden": (800, 800)}
    soft = {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]}
    out = {"teacher_errors": teacher_history.test_errors[-1]}
    # Hinton et al. train these students on the teacher's soft targets alone (alpha = 1)
    images, labels = _subset(context, settings.get("n_train"), seed, keep=lambda y: y != 3)
    model, _ = _fit(context, "no-threes", student, soft, images, labels, teacher_logits=predict_logits(teacher, images), seed=seed)
    errors, per_class = _errors_by_class(model, context)
    shifted, shifted_per_class = _errors_by_class(model, context, {3: settings["bias_three"]})
    shifts = [0.5 * k for k in range(0, 21)]
    best = min(shifts, key=lambda b: _errors_by_class(model, context, {3: b})[0])
    out["without_threes"] = {"errors": errors, "errors_on_threes": per_class["3"], "test_threes": int((context.test_labels == 3).sum()),
                             "bias_shift": settings["bias_three"], "errors_after_shift": shifted,
                             "errors_on_threes_after_shift": shifted_per_class["3"], "best_shift": best,
                             "errors_at_best_shift": _errors_by_class(model, context, {3: best})[0],
                             "paper": {"errors": 206, "errors_on_threes": 133, "errors_after_shift": 109, "errors_on_threes_after_shift": 14}}
    images, labels = _subset(context, settings.get("n_train"), seed, keep=lambda y: (y == 7) | (y == 8))
    model, _ = _fit(context, "only-7-8", student, soft, images, labels, teacher_logits=predict_logits(teacher, images), seed=seed)
    n_test = len(context.test_labels)
    errors, _ = _errors_by_class(model, context)
    shift = settings["bias_seven_eight"]
    shifted, _ = _errors_by_class(model, context, {7: shift, 8: shift})
    out["only_sevens_and_eights"] = {"error_rate": errors / n_test, "bias_shift": shift, "error_rate_after_shift": shifted / n_test,
                                     "paper": {"error_rate": 0.473, "error_rate_after_shift": 0.132}}
    return out


@register(
    "soft_targets_regularizer",
    "A student trained on 3% of the training set with hard labels versus with the teacher's soft targets (the MNIST analogue of the paper's speech table)",
    {
        "quick": {"n_train": 10_000, "fraction": 0.03, "seed": 0, "teacher": _TEACHER_QUICK, "hidden": [800, 800],
                  "student": {"epochs": 10, "lr": 0.05, "lr_decay": 0.95}, "T": 20.0, "alpha": 1.0},
        "medium": {"n_train": None, "fraction": 0.03, "seed": 0, "teacher": _TEACHER_MEDIUM, "hidden": [800, 800],
                   "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "T": 20.0, "alpha": 1.0},
        "full": {"n_train": None, "fraction": 0.03, "seed": 0, "teacher": _TEACHER_FULL, "hidden": [1200, 1200],
                 "student": {"epochs": 300, "lr": 0.05, "lr_decay": 0.99}, "T": 20.0, "alpha": 1.0},
    },
)
def soft_targets_regularizer(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, settings)
    n_small = int(round(settings["fraction"] * 60_000))
    images, labels = _subset(context, n_small, 200 + seed)
    model = {"hidden": tuple(settings["hidden"])}
    _, hard = _fit(context, "small-hard", model, settings["student"], images, labels, seed=seed)
    _, soft = _fit(context, "small-soft", model, {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]}, images, labels,
                   teacher_logits=predict_logits(teacher, images), seed=seed)
    return {"n_small": n_small, "teacher_errors": teacher_history.test_errors[-1],
            "hard_labels": {"final_errors": hard.test_errors[-1], "best_errors": min(hard.test_errors)},
            "soft_targets": {"final_errors": soft.test_errors[-1], "best_errors": min(soft.test_errors)},
            "history": {"hard_labels": hard.as_dict(), "soft_targets": soft.as_dict()},
            "paper_speech_frame_accuracy": {"hard_3pct": 0.445, "soft_3pct": 0.570}}


@register(
    "alpha_sweep",
    "A 10,000-example student distilled at T = 3 with the soft term's weight alpha from 0 (labels only) to 1 (soft targets only)",
    {
        "quick": {"n_teacher": 10_000, "n_student": 2_000, "seed": 0, "teacher": _TEACHER_QUICK, "hidden": [100, 100],
                  "alphas": [0.0, 0.5, 0.9, 1.0], "T": 3.0, "student": {"epochs": 5, "lr": 0.05, "lr_decay": 0.95}},
        "medium": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": _TEACHER_MEDIUM, "hidden": [300, 300],
                   "alphas": [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0], "T": 3.0, "student": {"epochs": 30, "lr": 0.05, "lr_decay": 0.95}},
        "full": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": _TEACHER_FULL, "hidden": [300, 300],
                 "alphas": [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.95, 1.0], "T": 3.0, "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}},
    },
)
def alpha_sweep(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, {**settings, "n_train": settings["n_teacher"]})
    images, labels = _subset(context, settings["n_student"], 100 + seed)
    teacher_logits = predict_logits(teacher, images)
    errors = {}
    for alpha in settings["alphas"]:
        _, history = _fit(context, f"alpha{alpha:g}", {"hidden": tuple(settings["hidden"])}, {**settings["student"], "T": settings["T"], "alpha": alpha},
                          images, labels, teacher_logits=teacher_logits if alpha > 0 else None, seed=seed)
        errors[f"{alpha:g}"] = history.test_errors[-1]
    return {"teacher_errors": teacher_history.test_errors[-1], "test_errors": errors}
