"""Self-distillation and progressive distillation on MNIST (source 004): the generations family.

* ``born_again``: born-again networks (Furlanello et al., 2018). Generation 0 is a network trained on the
  labels; generation :math:`g \\ge 1` is the same architecture, from the same initialisation, distilled from
  generation :math:`g - 1` on the same images. The record holds every generation's test errors, so a reader
  sees whether each generation improves on the last and where it stops.
* ``ta_chain``: teaching assistants (Mirzadeh et al., 2020). From the 1200-1200 teacher down to a small
  student, either directly or through a chain of assistants of decreasing width, each distilled from the
  one before; every network of the chain sees the same images and the same number of epochs. The record
  holds the direct student's and the chain's final student's errors, and every assistant's.
"""

from __future__ import annotations

import torch

from ..trainer import predict_logits
from . import Context, Hypothesis, register
from .mnist import BRIEF_TEACHER, _fit, _subset, _teacher

__all__ = ["HYPOTHESES"]



@register(
    "born_again",
    "Generations of one network, each distilled from the one before (generation 0 on the labels), on the same images",
    {
        "quick": {"n_train": 2_000, "seed": 0, "generations": 2, "hidden": [64, 64],
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "T": 4.0, "alpha": 0.5},
        "medium": {"n_train": 10_000, "seed": 0, "generations": 4, "hidden": [300, 300],
                   "student": {"epochs": 20, "lr": 0.05, "lr_decay": 0.95}, "T": 4.0, "alpha": 0.5},
        "full": {"n_train": None, "seed": 0, "generations": 5, "hidden": [800, 800],
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "T": 4.0, "alpha": 0.5},
    },
)
def born_again(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    images, labels = _subset(context, settings["n_train"], 100 + seed)
    model = {"hidden": tuple(settings["hidden"])}
    soft = {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]}
    network, history = _fit(context, "generation-0", model, settings["student"], images, labels, seed=seed)
    errors = [history.test_errors[-1]]
    for generation in range(1, settings["generations"] + 1):
        teacher_logits = predict_logits(network, images)
        network, history = _fit(context, f"generation-{generation}", model, soft, images, labels,
                                teacher_logits=teacher_logits, seed=seed)
        errors.append(history.test_errors[-1])
    return {"test_errors": errors}


@register(
    "ta_chain",
    "From the 1200-1200 teacher to a small student, directly or through teaching assistants of decreasing width",
    {
        "quick": {"n_teacher": 3_000, "n_student": 2_000, "seed": 0, "teacher": BRIEF_TEACHER["quick"],
                  "student": {"epochs": 3, "lr": 0.05, "lr_decay": 0.95}, "assistants": [128, 32], "width": 8,
                  "T": 4.0, "alpha": 0.9},
        "medium": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": BRIEF_TEACHER["medium"],
                   "student": {"epochs": 20, "lr": 0.05, "lr_decay": 0.95}, "assistants": [300, 100], "width": 30,
                   "T": 4.0, "alpha": 0.9},
        "full": {"n_teacher": None, "n_student": 10_000, "seed": 0, "teacher": BRIEF_TEACHER["full"],
                 "student": {"epochs": 100, "lr": 0.05, "lr_decay": 0.98}, "assistants": [300, 100], "width": 30,
                 "T": 4.0, "alpha": 0.9},
    },
)
def ta_chain(settings: dict, context: Context) -> dict:
    seed = settings.get("seed", 0)
    teacher, teacher_history = _teacher(context, {**settings, "n_train": settings["n_teacher"]})
    images, labels = _subset(context, settings["n_student"], 100 + seed)
    soft = {**settings["student"], "T": settings["T"], "alpha": settings["alpha"]}
    student_model = {"hidden": (settings["width"],) * 2}
    teacher_logits = predict_logits(teacher, images)
    _, direct = _fit(context, "direct", student_model, soft, images, labels, teacher_logits=teacher_logits, seed=seed)
    chain, logits = [], teacher_logits
    for width in settings["assistants"]:
        assistant, history = _fit(context, f"assistant-{width}", {"hidden": (width, width)}, soft, images, labels,
                                  teacher_logits=logits, seed=seed)
        chain.append({"width": width, "test_errors": history.test_errors[-1]})
        logits = predict_logits(assistant, images)
    _, through = _fit(context, "through-chain", student_model, soft, images, labels, teacher_logits=logits, seed=seed)
    _, alone = _fit(context, "labels", student_model, settings["student"], images, labels, seed=seed)
    return {"teacher_errors": teacher_history.test_errors[-1], "assistants": chain,
            "direct_errors": direct.test_errors[-1], "chain_errors": through.test_errors[-1],
            "labels_errors": alone.test_errors[-1]}


def _first_generation_gain(records):
    return {"": [r["results"]["test_errors"][0] - r["results"]["test_errors"][1] for r in records]}


# Source 004's advice on assistants is a claim of the registry (004-ta-advice): its stated test, not a hypothesis of
# the book, reads ta_chain's replicates.
HYPOTHESES = (
    Hypothesis("born-again-improves",
               "The first born-again generation makes fewer test errors than generation 0, the same network trained on "
               "the labels.",
               "born_again", _first_generation_gain, unit="errors"),
)
