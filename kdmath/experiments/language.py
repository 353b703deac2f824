r"""The language-model family: a GPT teacher and a smaller student on Tiny Shakespeare (chapters 11 to 13).

Every experiment trains (or reuses, from the checkpoint directory) one teacher on the training text
with the next-token cross-entropy, then trains students from it, each for the same number of steps on
the same windows of text, and measures them on the validation text:

- ``val_loss``: the mean next-token cross-entropy on the validation text, in nats per token (its
  exponential is the perplexity);
- ``forward_kl`` and ``reverse_kl``: :math:`\mathrm{KL}(p_t\|p_s)` and :math:`\mathrm{KL}(p_s\|p_t)` at
  :math:`T = 1`, averaged over the validation tokens.

A *replicate* (``run_experiment(..., seed=N)``) re-draws every student: its initialisation, its
windows of text and its samples. The teacher is one model, trained once with ``teacher["seed"]``: the
claims these experiments test are about distilling a given teacher, so the inference is conditional on
it. The experiments:

- ``lm_token_kd``: students on the labels alone, on the teacher's argmax tokens, and distilled
  token by token (:math:`(1-\alpha)\,\mathrm{CE} + \alpha T^2 \mathrm{KL}`) at several temperatures;
- ``lm_divergences``: students distilled with the forward KL, the reverse KL and the generalised
  Jensen-Shannon divergence, sequence-level (on the teacher's samples) and on-policy (on their own
  samples), with the exposure-bias measurement: the student's KL to the teacher on the data's
  prefixes against on its own;
- ``lm_vocabulary``: the teacher's top-:math:`k` mass on the validation text, and the top-:math:`k`
  and importance-sampled estimates of the KL against the exact one, on the real distributions.
"""

from __future__ import annotations

import dataclasses
import time

import torch

from ..gpt import GPT, GPTConfig, sample
from ..lm_trainer import LMTrainConfig, eval_windows, teacher_student_kl, train_lm, validation_loss
from . import Context, Hypothesis, register

__all__ = ["DIVERGENCE_ARMS", "TOKEN_KD_ARMS", "HYPOTHESES", "Hypothesis", "exposure_bias", "teacher_samples"]

# --- configurations ------------------------------------------------------------------------

_VOCAB = 2048  # the committed tokenizer's (kdmath.bpe.shakespeare_tokenizer)

_TEACHER_QUICK = {"model": {"context": 32, "n_layer": 1, "n_head": 2, "d_model": 32},
                  "train": {"steps": 30, "epochs": 1, "batch_size": 8, "lr": 3e-3, "warmup": 5}, "seed": 0}
_TEACHER_MEDIUM = {"model": {"context": 64, "n_layer": 4, "n_head": 4, "d_model": 128, "dropout": 0.1},
                   "train": {"steps": 3000, "epochs": 6, "batch_size": 32, "lr": 3e-3, "warmup": 100,
                             "weight_decay": 0.1}, "seed": 0}
_TEACHER_FULL = {"model": {"context": 256, "n_layer": 6, "n_head": 6, "d_model": 384, "dropout": 0.1},
                 "train": {"steps": 5000, "epochs": 10, "batch_size": 64, "lr": 1e-3, "warmup": 200}, "seed": 0}

_STUDENT_QUICK = {"model": {"context": 32, "n_layer": 1, "n_head": 1, "d_model": 16},
                  "train": {"steps": 12, "epochs": 1, "batch_size": 8, "lr": 3e-3, "warmup": 2}}
_STUDENT_MEDIUM = {"model": {"context": 64, "n_layer": 2, "n_head": 2, "d_model": 64},
                   "train": {"steps": 400, "epochs": 2, "batch_size": 16, "lr": 3e-3, "warmup": 40}}
_STUDENT_FULL = {"model": {"context": 256, "n_layer": 3, "n_head": 4, "d_model": 192},
                 "train": {"steps": 3000, "epochs": 6, "batch_size": 64, "lr": 1e-3, "warmup": 200}}

# Validation windows (of the model's context) that the measurements average over; None: all of them.
_EVAL_QUICK, _EVAL_MEDIUM, _EVAL_FULL = 8, None, None

# Arms: name -> the training settings that differ from the student's (LMTrainConfig fields).
TOKEN_KD_ARMS = {
    "labels": {"objective": "labels"},
    "teacher_argmax": {"objective": "teacher_argmax"},
    "soft_T1": {"objective": "token_kd", "alpha": 1.0, "T": 1.0},
    # Pitfall 3 of note 003, on this shallow student: the residual stream after each of its blocks l matched,
    # through a learned map, to the teacher's after block l n_t / n_s (every other layer for 2 and 4 blocks).
    "soft_T1_hidden": {"objective": "token_kd", "alpha": 1.0, "T": 1.0, "hidden_weight": 1.0,
                       "layer_map": "proportional"},
}
TEMPERATURES = (1.0, 2.0, 4.0, 10.0, 20.0)
SWEEP_ALPHA = 0.5
DIVERGENCE_ARMS = {
    "forward_kl": {"objective": "token_kd", "alpha": 1.0, "T": 1.0, "divergence": "forward_kl"},
    "reverse_kl": {"objective": "token_kd", "alpha": 1.0, "T": 1.0, "divergence": "reverse_kl"},
    "jsd": {"objective": "token_kd", "alpha": 1.0, "T": 1.0, "divergence": "jsd", "beta": 0.5},
    "sequence_level": {"objective": "labels"},  # on the teacher's samples
    "on_policy": {"objective": "on_policy", "alpha": 1.0, "T": 1.0, "divergence": "forward_kl",
                  "on_policy_fraction": 1.0},
}
PROMPT_LENGTH = 8  # the tokens of data that every sample continues


def _settings(teacher, student, eval_windows_, **extra) -> dict:
    return {"seed": 0, "teacher": teacher, "student": student, "eval_windows": eval_windows_, **extra}


# --- shared pieces -------------------------------------------------------------------------


def _model(context: Context, model_settings: dict, seed: int) -> GPT:
    config = GPTConfig(vocab_size=_VOCAB, **model_settings)
    return GPT(config, generator=torch.Generator().manual_seed(seed)).to(context.device)


def _fit(context: Context, tag: str, model_settings: dict, train_settings: dict, tokens: torch.Tensor,
         seed: int, teacher: GPT | None = None):
    """Train one GPT (resuming from its checkpoint, if any) and return it with its history."""
    model = _model(context, model_settings, seed)
    config = LMTrainConfig(**{**train_settings, "seed": seed})
    key = {"model": model_settings, "train": dataclasses.asdict(config), "tokens": [len(tokens), tokens[:16].tolist()]}
    checkpoint = context.checkpoint(tag, key)
    history = train_lm(model, tokens, config, teacher=teacher, checkpoint=checkpoint, progress=context.progress,
                       description=tag)
    model.eval()
    return model, history


def _teacher(context: Context, settings: dict) -> tuple[GPT, dict]:
    teacher_settings = settings["teacher"]
    train_tokens = context.tokens.train.to(context.device)
    model, history = _fit(context, "lm-teacher", teacher_settings["model"], teacher_settings["train"], train_tokens,
                          seed=teacher_settings["seed"])
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model, {"val_loss": _val_loss(model, context, settings), "history": history.as_dict(),
                   "parameters": model.num_parameters()}


def _val_loss(model: GPT, context: Context, settings: dict) -> float:
    return validation_loss(model, context.tokens.validation.to(context.device), max_windows=settings["eval_windows"])


def _measure(student: GPT, teacher: GPT, context: Context, settings: dict) -> dict:
    kl = teacher_student_kl(student, teacher, context.tokens.validation.to(context.device),
                            max_windows=settings["eval_windows"])
    return {"val_loss": _val_loss(student, context, settings), "forward_kl": kl["forward_kl"],
            "reverse_kl": kl["reverse_kl"]}


def proportional_layer_map(student_layers: int, teacher_layers: int) -> list[list[int]]:
    """Student block ``l`` to teacher block ``l * teacher_layers // student_layers``, for ``l = 1 .. student_layers``."""
    return [[layer, layer * teacher_layers // student_layers] for layer in range(1, student_layers + 1)]


def _student(context: Context, settings: dict, tag: str, arm: dict, teacher: GPT, tokens=None):
    student_settings = settings["student"]
    tokens = context.tokens.train.to(context.device) if tokens is None else tokens
    if arm.get("layer_map") == "proportional":
        arm = {**arm, "layer_map": proportional_layer_map(student_settings["model"]["n_layer"], teacher.config.n_layer)}
    return _fit(context, f"lm-{tag}", student_settings["model"], {**student_settings["train"], **arm}, tokens,
                seed=settings["seed"], teacher=teacher)


def _prompts(context: Context, n: int, seed: int) -> torch.Tensor:
    """``n`` prompts of ``PROMPT_LENGTH`` validation tokens, at seeded random places."""
    validation = context.tokens.validation
    starts = torch.randint(0, len(validation) - PROMPT_LENGTH, (n,), generator=torch.Generator().manual_seed(seed))
    return torch.stack([validation[s:s + PROMPT_LENGTH] for s in starts.tolist()]).to(context.device)


def _samples_text(model: GPT, context: Context, settings: dict, n: int = 2, new_tokens: int = 40) -> list[str]:
    """A few samples (T = 1) from the same prompts, decoded: what a reader can look at."""
    generator = torch.Generator(device=context.device).manual_seed(1234)
    prompts = _prompts(context, n, seed=99)
    out = sample(model, prompts, new_tokens, T=1.0, generator=generator)
    return [context.tokens.tokenizer.decode(row.tolist()) for row in out.cpu()]


# --- lm_token_kd ---------------------------------------------------------------------------


@register(
    "lm_token_kd",
    "A GPT teacher and a smaller student on Tiny Shakespeare: the student on the labels, on the teacher's argmax "
    "tokens, on its full distributions, and distilled with the labels at T = 1, 2, 4, 10, 20 (alpha = 0.5)",
    {
        "quick": _settings(_TEACHER_QUICK, _STUDENT_QUICK, _EVAL_QUICK, temperatures=[1.0, 4.0]),
        "medium": _settings(_TEACHER_MEDIUM, _STUDENT_MEDIUM, _EVAL_MEDIUM, temperatures=list(TEMPERATURES)),
        "full": _settings(_TEACHER_FULL, _STUDENT_FULL, _EVAL_FULL, temperatures=list(TEMPERATURES)),
    },
    data="shakespeare",
)
def lm_token_kd(settings: dict, context: Context) -> dict:
    teacher, teacher_record = _teacher(context, settings)
    arms, histories = {}, {}
    for name, arm in TOKEN_KD_ARMS.items():
        student, history = _student(context, settings, name, arm, teacher)
        arms[name], histories[name] = _measure(student, teacher, context, settings), history.as_dict()
    sweep = {}
    for T in settings["temperatures"]:
        name = f"T={T:g}"
        student, history = _student(context, settings, f"sweep-{name}",
                                    {"objective": "token_kd", "alpha": SWEEP_ALPHA, "T": T}, teacher)
        sweep[f"{T:g}"], histories[name] = _measure(student, teacher, context, settings), history.as_dict()
    return {"teacher": teacher_record, "arms": arms, "sweep_alpha": SWEEP_ALPHA, "sweep": sweep,
            "student_parameters": _model(context, settings["student"]["model"], 0).num_parameters(),
            "history": histories}


# --- lm_divergences ------------------------------------------------------------------------


def teacher_samples(teacher: GPT, prompts: torch.Tensor, length: int, seed: int, batch_size: int = 256) -> torch.Tensor:
    """Sequences of ``length`` tokens: each prompt continued by the teacher at T = 1 (sequence-level data)."""
    generator = torch.Generator(device=prompts.device).manual_seed(seed)
    return torch.cat([sample(teacher, prompts[start:start + batch_size], length - prompts.shape[1], T=1.0,
                             generator=generator) for start in range(0, len(prompts), batch_size)])


def _training_prompts(context: Context, n: int, seed: int) -> torch.Tensor:
    train = context.tokens.train
    starts = torch.randint(0, len(train) - PROMPT_LENGTH, (n,), generator=torch.Generator().manual_seed(seed))
    return torch.stack([train[s:s + PROMPT_LENGTH] for s in starts.tolist()]).to(context.device)


@torch.no_grad()
def exposure_bias(student: GPT, teacher: GPT, context: Context, n: int, seed: int) -> dict:
    r"""The student's KL to the teacher, :math:`\mathrm{KL}(p_t\|p_s)` per token, on the same positions after the
    same prompts: with the data's continuation as the prefix (``data``), and with the student's own sample (``own``)."""
    length = student.config.context
    validation = context.tokens.validation
    starts = torch.randint(0, len(validation) - length, (n,), generator=torch.Generator().manual_seed(seed))
    data = torch.stack([validation[s:s + length] for s in starts.tolist()]).to(context.device)
    generator = torch.Generator(device=context.device).manual_seed(seed)
    own = sample(student, data[:, :PROMPT_LENGTH], length - PROMPT_LENGTH, T=1.0, generator=generator)
    result = {}
    for name, sequences in (("data", data), ("own", own)):
        log_q = student(sequences).float().log_softmax(-1)[:, PROMPT_LENGTH - 1:-1]
        log_p = teacher(sequences).float().log_softmax(-1)[:, PROMPT_LENGTH - 1:-1]
        result[name] = float((log_p.exp() * (log_p - log_q)).sum(-1).mean())
    return result


def _sequence_level_data(context: Context, settings: dict, teacher: GPT, length: int) -> torch.Tensor:
    """The teacher's samples: drawn once for every replicate (cached beside the teacher), the sequence-level data."""
    from ..trainer import _atomic_save

    seed = settings["teacher"]["seed"]
    path = context.checkpoint("lm-pool", {"teacher": settings["teacher"], "pool": settings["pool"], "length": length})
    if path is not None and path.exists():
        return torch.load(path, map_location=context.device, weights_only=True)
    pool = teacher_samples(teacher, _training_prompts(context, settings["pool"], seed=seed), length, seed=seed)
    if path is not None:
        _atomic_save(pool, path)
    return pool


@register(
    "lm_divergences",
    "The same teacher and student: distilled with the forward KL, the reverse KL and the generalised JSD "
    "(beta = 0.5), sequence-level (on the teacher's samples) and on-policy (on its own samples); "
    "the student's KL to the teacher on the data's prefixes and on its own",
    {
        "quick": _settings(_TEACHER_QUICK, _STUDENT_QUICK, _EVAL_QUICK, pool=64, exposure_prompts=8),
        "medium": _settings(_TEACHER_MEDIUM, _STUDENT_MEDIUM, _EVAL_MEDIUM, pool=2048, exposure_prompts=128),
        "full": _settings(_TEACHER_FULL, _STUDENT_FULL, _EVAL_FULL, pool=65536, exposure_prompts=512),
    },
    data="shakespeare",
)
def lm_divergences(settings: dict, context: Context) -> dict:
    teacher, teacher_record = _teacher(context, settings)
    length = settings["student"]["model"]["context"] + 1
    started = time.perf_counter()
    pool = _sequence_level_data(context, settings, teacher, length)
    # Wall-clock seconds (of this machine, shared with whatever else ran): the arms train for equal steps,
    # and these say what the steps cost; the pool's are zero when it came from the cache.
    seconds = {"teacher_samples": round(time.perf_counter() - started, 1)}
    arms, histories, exposure, samples = {}, {}, {}, {}
    for name, arm in DIVERGENCE_ARMS.items():
        tokens = pool if name == "sequence_level" else None
        started = time.perf_counter()
        student, history = _student(context, settings, name, arm, teacher, tokens=tokens)
        seconds[name] = round(time.perf_counter() - started, 1)
        arms[name], histories[name] = _measure(student, teacher, context, settings), history.as_dict()
        exposure[name] = exposure_bias(student, teacher, context, settings["exposure_prompts"], seed=settings["seed"])
        samples[name] = _samples_text(student, context, settings)
    labels, history = _student(context, settings, "labels", TOKEN_KD_ARMS["labels"], teacher)
    arms["labels"], histories["labels"] = _measure(labels, teacher, context, settings), history.as_dict()
    exposure["labels"] = exposure_bias(labels, teacher, context, settings["exposure_prompts"], seed=settings["seed"])
    samples["labels"], samples["teacher"] = _samples_text(labels, context, settings), _samples_text(teacher, context, settings)
    return {"teacher": teacher_record, "arms": arms, "exposure": exposure, "samples": samples,
            "pool_sequences": int(pool.shape[0]), "training_seconds": seconds, "history": histories}


# --- lm_vocabulary -------------------------------------------------------------------------

TOP_K = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048)
SAMPLES_M = (1, 4, 16, 64, 256)
NOTE_SHARE = 256 / 50_000  # note 003's top-256 of a 50,000-token vocabulary


def _bootstrap_median(values: torch.Tensor, draws: int, seed: int) -> tuple[float, float, float]:
    """The median of ``values`` and its 95% percentile-bootstrap interval (``draws`` resamples, seeded)."""
    values = values.cpu()  # the resampling is drawn on the CPU, whatever device measured the values
    generator = torch.Generator().manual_seed(seed)
    index = torch.randint(0, len(values), (draws, len(values)), generator=generator)
    medians = values[index].median(dim=1).values.sort().values
    return float(values.median()), float(medians[int(0.025 * draws)]), float(medians[int(0.975 * draws) - 1])


@torch.no_grad()
def _vocabulary_measurements(student: GPT, teacher: GPT, context: Context, settings: dict) -> dict:
    from ..vocab import sampled_kl, top_k_kl, top_k_mass

    inputs, _ = eval_windows(context.tokens.validation, teacher.config.context, max_windows=settings["positions_windows"])
    inputs = inputs.to(context.device)
    z_t = teacher(inputs).double().flatten(0, 1)
    z_s = student(inputs).double().flatten(0, 1)
    V = z_t.shape[-1]
    # the powers of two, and the note's 0.5% of the vocabulary (256 of 50,000) at this vocabulary
    ks = sorted({*(k for k in TOP_K if k <= V), max(1, round(NOTE_SHARE * V))})
    mass = {k: top_k_mass(z_t, k) for k in ks}
    log_p, log_q = z_t.log_softmax(-1), z_s.log_softmax(-1)
    full = (log_p.exp() * (log_p - log_q)).sum(-1)
    k_99 = (torch.stack([mass[k] for k in ks], -1) < 0.99).sum(-1)  # index of the first k reaching 0.99
    median, lower, upper = _bootstrap_median(mass[256].float(), settings["bootstrap"], seed=settings["seed"])
    generator = torch.Generator(device=context.device).manual_seed(settings["seed"])
    uniform = torch.full_like(z_t, 1.0 / V)
    sampled = {}
    for m in settings["samples_m"]:
        for proposal_name, proposal in (("teacher", None), ("uniform", uniform)):
            draws = torch.stack([sampled_kl(z_s, z_t, m, proposal=proposal, generator=generator)
                                 for _ in range(settings["repeats"])])
            error = draws - full
            sampled[f"{proposal_name}, m={m}"] = {"bias": float(error.mean()), "std": float(draws.std(0).mean()),
                                                  "variance": float(draws.var(0).mean()), "m": m,
                                                  "proposal": proposal_name}
    return {
        "positions": int(z_t.shape[0]), "vocab_size": V, "full_kl": float(full.mean()),
        "note_share_k": max(1, round(NOTE_SHARE * V)),
        "top_k_mass": {str(k): {"mean": float(mass[k].mean()), "median": float(mass[k].median()),
                                "p10": float(mass[k].quantile(0.1))} for k in ks},
        "top_256_median": {"median": median, "lower": lower, "upper": upper, "draws": settings["bootstrap"]},
        "k_for_99_percent": {"median": ks[int(k_99.median())] if int(k_99.median()) < len(ks) else V,
                             "share_above_256": float((mass[256] < 0.99).double().mean())},
        "top_k_kl": {str(k): {"bucket": float(top_k_kl(z_s, z_t, k, tail="bucket").mean()),
                              "renormalize": float(top_k_kl(z_s, z_t, k, tail="renormalize").mean())} for k in ks},
        "sampled_kl": sampled,
    }


@register(
    "lm_vocabulary",
    "The teacher's next-token distributions on the validation text: its top-k mass, and the top-k and "
    "importance-sampled estimates of KL(teacher || distilled student) against the exact one",
    {
        "quick": _settings(_TEACHER_QUICK, _STUDENT_QUICK, _EVAL_QUICK, positions_windows=4, bootstrap=200, repeats=4,
                           samples_m=[1, 16]),
        "medium": _settings(_TEACHER_MEDIUM, _STUDENT_MEDIUM, _EVAL_MEDIUM, positions_windows=128, bootstrap=2000,
                            repeats=16, samples_m=list(SAMPLES_M)),
        "full": _settings(_TEACHER_FULL, _STUDENT_FULL, _EVAL_FULL, positions_windows=256, bootstrap=2000, repeats=16,
                          samples_m=list(SAMPLES_M)),
    },
    data="shakespeare",
)
def lm_vocabulary(settings: dict, context: Context) -> dict:
    teacher, teacher_record = _teacher(context, settings)
    student, _ = _student(context, settings, "soft_T1", TOKEN_KD_ARMS["soft_T1"], teacher)
    return {"teacher": teacher_record, "student": _measure(student, teacher, context, settings),
            **_vocabulary_measurements(student, teacher, context, settings)}


# --- the book's own hypotheses, stated before the medium runs ------------------------------


def _arm_difference(measure: str, worse: str, better: str, table: str = "arms"):
    def statistic(records):
        return {"": [r["results"][table][worse][measure] - r["results"][table][better][measure] for r in records]}

    return statistic


def _exposure_gap(records):
    return {arm: [r["results"]["exposure"][arm]["own"] - r["results"]["exposure"][arm]["data"] for r in records]
            for arm in ("labels", "forward_kl", "on_policy")}


def _gap_closed_by_on_policy(records):
    def gap(record, arm):
        return record["results"]["exposure"][arm]["own"] - record["results"]["exposure"][arm]["data"]

    return {"": [gap(r, "forward_kl") - gap(r, "on_policy") for r in records]}


def _each_wins_on_its_own_measure(records):
    arms = [r["results"]["arms"] for r in records]
    return {"measured by KL(q || p)": [a["forward_kl"]["reverse_kl"] - a["reverse_kl"]["reverse_kl"] for a in arms],
            "measured by KL(p || q)": [a["reverse_kl"]["forward_kl"] - a["forward_kl"]["forward_kl"] for a in arms]}


HYPOTHESES = (
    Hypothesis("distilled-beats-labels",
               "At equal steps, the student distilled on the teacher's distributions (forward KL, T = 1, alpha = 1) "
               "has a lower validation loss than the same student trained on the labels.",
               "lm_token_kd", _arm_difference("val_loss", "labels", "soft_T1")),
    Hypothesis("distilled-closer-to-teacher",
               "The distilled student is closer to its teacher, KL(p_t || p_s) on the validation text, than the "
               "student trained on the labels.",
               "lm_token_kd", _arm_difference("forward_kl", "labels", "soft_T1")),
    Hypothesis("hidden-states-help-a-shallow-student",
               "Adding the hidden-state loss (every other teacher layer) to the logit loss lowers the validation loss "
               "of this two-block student: the shallow half of note 003's pitfall 3.",
               "lm_token_kd", _arm_difference("val_loss", "soft_T1", "soft_T1_hidden")),
    Hypothesis("each-divergence-wins-on-its-own-measure",
               "Trained with the reverse KL, the student has a lower KL(q || p) and a higher KL(p || q) than trained "
               "with the forward KL: mode seeking against mode covering, on the real models.",
               "lm_divergences", _each_wins_on_its_own_measure),
    Hypothesis("exposure-bias",
               "A student's KL to the teacher is larger on its own sampled prefixes than on the data's (same prompts, "
               "same positions): for the student on labels, the token-level distilled one, and the on-policy one.",
               "lm_divergences", _exposure_gap),
    Hypothesis("on-policy-closes-the-gap",
               "The on-policy student's gap between its own prefixes and the data's is smaller than the token-level "
               "distilled student's.",
               "lm_divergences", _gap_closed_by_on_policy),
    Hypothesis("token-level-beats-sequence-level",
               "At equal steps, the token-level distilled student (forward KL) has a lower validation loss than the "
               "student trained on the teacher's samples (sequence-level).",
               "lm_divergences", _arm_difference("val_loss", "sequence_level", "forward_kl")),
)
