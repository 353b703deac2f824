r"""Training a :class:`~kdmath.gpt.GPT` on a token stream, with or without a teacher.

A batch is ``batch_size`` random windows of ``context + 1`` consecutive tokens; the first ``context`` are
the inputs and the last ``context`` the next-token targets. With student logits :math:`z_s` and teacher
logits :math:`z_t` at each position, :math:`p = \sigma_T(z_t)`, :math:`q = \sigma_T(z_s)` and a divergence
:math:`D` (``"forward_kl"`` :math:`\mathrm{KL}(p\|q)`, ``"reverse_kl"`` :math:`\mathrm{KL}(q\|p)` or
``"jsd"``, the generalised Jensen-Shannon divergence with weight :math:`\beta`; see
:mod:`kdmath.divergences`), the objectives, each averaged over the positions of the batch, are

* ``"labels"``: :math:`\mathrm{CE}(x_{i+1}, \sigma_1(z_s))`, no teacher;
* ``"token_kd"``: :math:`(1-\alpha)\,\mathrm{CE}(x_{i+1}, \sigma_1(z_s)) + \alpha\,T^2\,D`;
* ``"teacher_argmax"``: :math:`\mathrm{CE}(\arg\max z_t, \sigma_1(z_s))`, the teacher's hard labels;
* ``"on_policy"`` (generalised KD, Agarwal et al. 2024): with probability ``on_policy_fraction`` per step
  the batch is each window's first ``prompt_length`` tokens followed by the student's own sampled
  continuation (temperature ``sample_T``, no gradient through the sampling) and the loss is :math:`T^2 D`
  averaged over the positions whose distribution produced a generated token (positions
  ``prompt_length - 1`` to ``context - 2``; the prompt is masked out); otherwise it is a ``"token_kd"``
  step on the data.

With ``hidden_weight`` :math:`\lambda > 0` every objective gains the hidden-state (FitNets-style) term

.. math::

    \lambda\,\frac{1}{|\mathcal M|}\sum_{(a, b) \in \mathcal M} \frac{1}{N d_t}\sum_{i=1}^{N}
    \big\|W_{ab}\,h_{s,i}^{(a)} - h_{t,i}^{(b)}\big\|^2

over the pairs ``layer_map`` :math:`\mathcal M` of (student, teacher) residual-stream indices (0 is the
embedding, :math:`l` the output of block :math:`l`) and the :math:`N` positions of the batch, with a learned
linear map :math:`W_{ab}: \mathbb R^{d_s} \to \mathbb R^{d_t}` (and a bias) per pair, trained with the
student.

The optimiser is AdamW (betas 0.9, 0.95; weight decay on the matrices, embeddings included, not on biases or
LayerNorm parameters), with a linear warm-up over ``warmup`` steps and then a cosine decay of the learning
rate to ``0.1 * lr`` at the last step; gradients are clipped to norm ``grad_clip``. A checkpoint is written
atomically after every epoch; :func:`train_lm` given the same path resumes from it, and the resumed run
equals the uninterrupted one bit for bit.

Evaluation uses fixed non-overlapping windows (:func:`eval_windows`), so it is deterministic.

**More than one process.** Under ``torchrun --nproc_per_node=N`` (or any initialised
``torch.distributed`` process group: gloo on CPUs, nccl on GPUs), :func:`train_lm` runs unchanged: it
wraps the student in PyTorch's ``DistributedDataParallel``, every process draws the same global batch of
``batch_size`` windows from the same seeded generator and trains on its ``batch_size / N`` share, and
DDP averages the gradients, which is the gradient of the mean over the global batch. So the parameters
equal those of one process on the same global batch, to rounding (``tests/test_kdmath_lm_distributed.py``
checks it for two processes, with the fused loss and tied or untied heads: the head's weight enters
the loss outside DDP's forward, and its gradient is averaged all the same). Only process 0 writes the
checkpoint. The on-policy objective runs too, but
its samples differ from one process's (each process draws its share's); the hidden-state term is not
supported yet.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_temperature, check_weight, working_dtype
from .fused import linear_kd_loss
from .gpt import GPT, sample
from .trainer import _atomic_save

__all__ = [
    "OBJECTIVES",
    "LMHistory",
    "LMTrainConfig",
    "eval_windows",
    "random_windows",
    "random_rows",
    "teacher_student_kl",
    "train_lm",
    "validation_loss",
]

OBJECTIVES = ("labels", "token_kd", "teacher_argmax", "on_policy")
DIVERGENCE_NAMES = ("forward_kl", "reverse_kl", "jsd")


def _check_tokens(tokens: object, name: str, minimum: int) -> torch.Tensor:
    if (
        not isinstance(tokens, torch.Tensor)
        or tokens.is_floating_point()
        or tokens.is_complex()
        or tokens.dtype == torch.bool
    ):
        raise TypeError(
            f"{name} must be an integer tensor of token ids, got {getattr(tokens, 'dtype', type(tokens))}"
        )
    if tokens.dim() != 1:
        raise ValueError(f"{name} must be 1-D (a token stream), got shape {tuple(tokens.shape)}")
    if len(tokens) < minimum:
        raise ValueError(f"{name} has {len(tokens)} tokens, fewer than the {minimum} needed")
    return tokens


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def random_rows(sequences: torch.Tensor, batch_size: int, generator: torch.Generator):
    """``batch_size`` rows drawn uniformly (with replacement) from ``sequences`` ``(N, context + 1)``.

    Returns ``(inputs, targets)``, both ``(batch_size, context)``: each row without its last token, and the row
    shifted by one token. Sequence-level distillation trains on such rows (the teacher's samples), whole.
    """
    batch_size = _positive_int(batch_size, "batch_size")
    rows = sequences[torch.randint(0, len(sequences), (batch_size,), device=sequences.device, generator=generator)]
    return rows[:, :-1], rows[:, 1:]


def random_windows(tokens: torch.Tensor, batch_size: int, context: int, generator: torch.Generator):
    """``batch_size`` windows of ``context + 1`` tokens starting at uniform random offsets.

    Returns ``(inputs, targets)``, both ``(batch_size, context)``: ``targets[b, i] = inputs[b, i + 1]`` for
    ``i < context - 1``, i.e. ``targets`` is the window shifted by one token.
    """
    batch_size, context = _positive_int(batch_size, "batch_size"), _positive_int(context, "context")
    tokens = _check_tokens(tokens, "tokens", context + 1)
    starts = torch.randint(0, len(tokens) - context, (batch_size,), device=tokens.device, generator=generator)
    windows = tokens[starts[:, None] + torch.arange(context + 1, device=tokens.device)]
    return windows[:, :-1], windows[:, 1:]


def eval_windows(tokens: torch.Tensor, context: int, max_windows: int | None = None):
    """Fixed non-overlapping windows: ``(inputs, targets)`` of shape ``(n, context)``.

    The stream holds ``m = (len(tokens) - 1) // context`` windows; window ``j`` is tokens
    ``[j context, (j + 1) context]`` (inputs the first ``context``, targets the last ``context``). With
    ``max_windows < m`` the windows ``floor(i m / max_windows)``, ``i = 0 .. max_windows - 1``, are kept:
    spread evenly over the stream rather than only its beginning.
    """
    context = _positive_int(context, "context")
    tokens = _check_tokens(tokens, "tokens", context + 1)
    count = (len(tokens) - 1) // context
    inputs = tokens[: count * context].view(count, context)
    targets = tokens[1 : count * context + 1].view(count, context)
    if max_windows is not None:
        max_windows = _positive_int(max_windows, "max_windows")
        if max_windows < count:
            keep = torch.arange(max_windows, device=tokens.device) * count // max_windows
            inputs, targets = inputs[keep], targets[keep]
    return inputs, targets


@dataclass(frozen=True)
class LMTrainConfig:
    """Settings of one language-model training run; see the module docstring for the objectives.

    ``steps`` optimiser steps are split into ``epochs`` as evenly as possible (epoch ``e`` ends after
    ``floor((e + 1) steps / epochs)`` steps); a checkpoint is written after each. ``alpha`` is used by
    ``"token_kd"`` (and the data steps of ``"on_policy"``); ``divergence``, ``T`` and ``beta`` by
    ``"token_kd"`` and ``"on_policy"``; ``on_policy_fraction``, ``prompt_length`` and ``sample_T`` by
    ``"on_policy"``. With ``fused_loss`` (the default) those two objectives compute their loss with
    :func:`kdmath.linear_kd_loss` from the final hidden states and the two heads' weights, never
    holding the ``(batch, context, vocabulary)`` logits; ``False`` computes the same value from the
    logits with :mod:`kdmath.divergences` (equal to rounding: tested).
    """

    steps: int
    epochs: int = 1
    batch_size: int = 16
    lr: float = 3e-3
    weight_decay: float = 0.0
    warmup: int = 0
    grad_clip: float | None = 1.0
    seed: int = 0
    objective: str = "labels"
    T: float = 1.0
    alpha: float = 1.0
    divergence: str = "forward_kl"
    beta: float = 0.5
    hidden_weight: float = 0.0
    layer_map: tuple[tuple[int, int], ...] = ()
    on_policy_fraction: float = 1.0
    prompt_length: int = 8
    sample_T: float = 1.0
    fused_loss: bool = True

    def __post_init__(self):
        for name in ("steps", "epochs", "batch_size", "prompt_length"):
            _positive_int(getattr(self, name), name)
        if self.epochs > self.steps:
            raise ValueError(f"epochs ({self.epochs}) must not exceed steps ({self.steps})")
        for name in ("warmup", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        if self.warmup > self.steps:
            raise ValueError(f"warmup ({self.warmup}) must not exceed steps ({self.steps})")
        lr = self.lr
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        for name in ("weight_decay", "hidden_weight"):
            value = getattr(self, name)
            if (
                isinstance(value, bool)
                or not isinstance(value, numbers.Real)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        clip = self.grad_clip
        if clip is not None and (
            isinstance(clip, bool)
            or not isinstance(clip, numbers.Real)
            or not math.isfinite(clip)
            or clip <= 0
        ):
            raise ValueError(f"grad_clip must be None or a finite number > 0, got {clip!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {OBJECTIVES}, got {self.objective!r}")
        if self.divergence not in DIVERGENCE_NAMES:
            raise ValueError(f"divergence must be one of {DIVERGENCE_NAMES}, got {self.divergence!r}")
        if not isinstance(self.fused_loss, bool):
            raise TypeError(f"fused_loss must be a bool, got {type(self.fused_loss).__name__}")
        check_temperature(self.T, "T")
        check_temperature(self.sample_T, "sample_T")
        check_weight(self.alpha, "alpha")
        check_weight(self.beta, "beta")
        check_weight(self.on_policy_fraction, "on_policy_fraction")
        layer_map = self.layer_map
        if isinstance(layer_map, (str, bytes)) or not hasattr(layer_map, "__iter__"):
            raise TypeError(
                f"layer_map must be a sequence of (student, teacher) layer pairs, got {layer_map!r}"
            )
        pairs = []
        for pair in layer_map:
            pair = tuple(pair) if hasattr(pair, "__iter__") else (pair,)
            if len(pair) != 2 or any(
                isinstance(i, bool) or not isinstance(i, numbers.Integral) or i < 0 for i in pair
            ):
                raise ValueError(f"layer_map must hold pairs of non-negative layer indices, got {pair!r}")
            pairs.append((int(pair[0]), int(pair[1])))
        object.__setattr__(self, "layer_map", tuple(pairs))  # a list given is stored as a tuple of tuples
        if self.hidden_weight > 0 and not self.layer_map:
            raise ValueError(
                "hidden_weight > 0 needs a non-empty layer_map of (student, teacher) layer pairs"
            )


@dataclass
class LMHistory:
    """Per-epoch logs: the mean training loss over the epoch's steps, and the validation loss (nats/token)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _lr_factor(step: int, steps: int, warmup: int) -> float:
    """Linear warm-up to 1 over ``warmup`` steps, then a cosine from 1 down to 0.1 at the last step."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(steps - warmup - 1, 1)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def _divergence(name, student_logits, teacher_logits, *, T, beta, mask=None):
    """The mean of ``D`` over the (kept) positions, from :mod:`kdmath.divergences`; no ``T^2`` factor."""
    from .divergences import divergence

    return divergence(name, student_logits, teacher_logits, beta=beta, T=T, mask=mask, normalise="token")


def _hidden_loss(projections, student_hidden, teacher_hidden, layer_map):
    terms = [
        F.mse_loss(projection(student_hidden[a]), teacher_hidden[b])  # mean over positions and d_t
        for projection, (a, b) in zip(projections, layer_map)
    ]
    return torch.stack(terms).mean()


def _step_loss(student, teacher, projections, inputs, targets, config, generator, skip_prompt=False):
    """The loss of one training step (see the module docstring).

    ``skip_prompt`` (sequences of prompt and completion): the cross-entropy leaves out the targets that are
    prompt tokens, the first ``prompt_length - 1``.
    """
    objective, hidden = config.objective, config.hidden_weight > 0
    mask = None
    if objective == "on_policy":
        # One draw per step, even when the fraction is 0 or 1, so that the random stream is the same for all.
        on_policy = bool(
            torch.rand((), device=generator.device, generator=generator) < config.on_policy_fraction
        )
        if on_policy:
            L, P = inputs.shape[1], config.prompt_length
            # the module itself: under DistributedDataParallel `student` is its wrapper
            inputs = sample(getattr(student, "module", student), inputs[:, :P], L - P, T=config.sample_T,
                            generator=generator)
            positions = torch.arange(L, device=inputs.device)
            mask = ((positions >= P - 1) & (positions <= L - 2)).expand(inputs.shape[0], L)
    fused = config.fused_loss and teacher is not None and objective in ("token_kd", "on_policy")
    # `logits` are the final hidden states when fused (see kdmath.linear_kd_loss)
    student_output = student(inputs, return_hidden=hidden, head=not fused)
    logits, student_hidden = student_output if hidden else (student_output, None)
    teacher_logits = teacher_hidden = None
    if teacher is not None and (objective != "labels" or hidden):
        with torch.no_grad():
            teacher_output = teacher(inputs, return_hidden=hidden, head=not fused)
        teacher_logits, teacher_hidden = teacher_output if hidden else (teacher_output, None)
    if fused:
        # `student` may be the DistributedDataParallel wrapper; the weight is its module's own parameter
        student_head = getattr(student, "module", student).head.weight
        if mask is not None:  # on-policy: T^2 D over the positions that produced a generated token
            keep, alpha = torch.where(mask, 0, -100), 1.0
        else:
            keep, alpha = targets, config.alpha
        loss = linear_kd_loss(
            logits, student_head, teacher_logits, teacher.head.weight, keep, T=config.T, alpha=alpha,
            divergence=config.divergence, beta=config.beta, ignore_index=-100,
        )
    elif (vocab := logits.shape[-1]) and objective == "labels" and skip_prompt:
        loss = F.cross_entropy(working_dtype(logits[:, config.prompt_length - 1:].reshape(-1, vocab)),
                               targets[:, config.prompt_length - 1:].reshape(-1))
    elif objective == "labels":
        loss = F.cross_entropy(working_dtype(logits.reshape(-1, vocab)), targets.reshape(-1))
    elif objective == "teacher_argmax":
        loss = F.cross_entropy(working_dtype(logits.reshape(-1, vocab)), teacher_logits.argmax(-1).reshape(-1))
    elif mask is not None:
        loss = config.T**2 * _divergence(
            config.divergence, working_dtype(logits), working_dtype(teacher_logits), T=config.T, beta=config.beta, mask=mask
        )
    else:  # token_kd, or an on_policy step on the data
        loss = (
            config.alpha
            * config.T**2
            * _divergence(
                config.divergence, working_dtype(logits), working_dtype(teacher_logits), T=config.T, beta=config.beta
            )
        )
        if config.alpha < 1.0:
            loss = loss + (1.0 - config.alpha) * F.cross_entropy(
                working_dtype(logits.reshape(-1, vocab)), targets.reshape(-1)
            )
    if hidden:
        loss = loss + config.hidden_weight * _hidden_loss(
            projections, student_hidden, teacher_hidden, config.layer_map
        )
    return loss


def _check_pair(student, teacher):
    if not isinstance(student, GPT):
        raise TypeError(f"student must be a GPT, got {type(student).__name__}")
    if not isinstance(teacher, GPT):
        raise TypeError(f"teacher must be a GPT, got {type(teacher).__name__}")
    if teacher.config.vocab_size != student.config.vocab_size:
        raise ValueError(
            f"teacher's vocab_size ({teacher.config.vocab_size}) differs from the student's "
            f"({student.config.vocab_size})"
        )
    if teacher.config.context < student.config.context:
        raise ValueError(
            f"teacher's context ({teacher.config.context}) is shorter than the student's "
            f"({student.config.context})"
        )


def _check_models(student, teacher, config):
    if teacher is None:
        if not isinstance(student, GPT):
            raise TypeError(f"student must be a GPT, got {type(student).__name__}")
        if config.objective != "labels" or config.hidden_weight > 0:
            raise ValueError(f"objective {config.objective!r} (or hidden_weight > 0) needs a teacher")
        return
    _check_pair(student, teacher)
    for a, b in config.layer_map:
        if a > student.config.n_layer or b > teacher.config.n_layer:
            raise ValueError(
                f"layer_map pair {(a, b)} is out of range: the student has residual streams "
                f"0..{student.config.n_layer}, the teacher 0..{teacher.config.n_layer}"
            )
    if config.objective == "on_policy" and config.prompt_length >= student.config.context:
        raise ValueError(
            f"prompt_length ({config.prompt_length}) must be shorter than the student's context "
            f"({student.config.context}) so that something is generated"
        )


def _make_projections(student, teacher, config, generator) -> nn.ModuleList:
    """One linear map d_s -> d_t per layer pair, drawn from the training generator (as the GPT's weights)."""
    projections = nn.ModuleList()
    if config.hidden_weight > 0:
        d_s, d_t = student.config.d_model, teacher.config.d_model
        for _ in config.layer_map:
            projection = nn.Linear(d_s, d_t)
            with torch.no_grad():
                bound = 1.0 / math.sqrt(d_s)
                draw = torch.empty(d_t, d_s, device=generator.device).uniform_(
                    -bound, bound, generator=generator
                )
                projection.weight.copy_(draw)
                projection.bias.zero_()
            projections.append(projection)
    return projections


def train_lm(
    student: GPT,
    train_tokens: torch.Tensor,
    config: LMTrainConfig,
    *,
    teacher: GPT | None = None,
    checkpoint: str | os.PathLike | None = None,
    progress: bool = False,
    description: str = "training",
    eval_tokens: torch.Tensor | None = None,
    eval_every_epoch: bool = True,
    eval_max_windows: int | None = None,
) -> LMHistory:
    """Train ``student`` in place on ``train_tokens`` by ``config.objective``.

    ``train_tokens`` is a 1-D stream (batches are random windows of it) or, for sequence-level
    distillation, a 2-D tensor of sequences ``(N, context + 1)``, each a prompt of ``config.prompt_length``
    tokens and its completion (batches are random rows; objective ``"labels"``, whose cross-entropy then
    leaves out the targets inside the prompt).

    The teacher (needed by every objective but ``"labels"``, and by ``hidden_weight > 0``) runs in evaluation
    mode without gradients and is not changed. With ``eval_tokens`` the validation loss
    (:func:`validation_loss`, on at most ``eval_max_windows`` windows) is logged after every epoch, or only
    after the last when ``eval_every_epoch`` is False. With ``checkpoint`` a checkpoint is written atomically
    after every epoch; called again with the same path, training resumes there (a checkpoint written with
    another config raises ``ValueError``). The randomness (windows, the on-policy coin, sampling, projection
    initialisation) comes from a generator seeded with ``config.seed``; the global RNG is seeded with it too,
    for dropout, and both states are checkpointed.
    """
    if not isinstance(config, LMTrainConfig):
        raise TypeError(f"config must be an LMTrainConfig, got {type(config).__name__}")
    _check_models(student, teacher, config)
    context = student.config.context
    device = next(student.parameters()).device
    sequences = isinstance(train_tokens, torch.Tensor) and train_tokens.dim() == 2
    if sequences:
        if train_tokens.shape[1] != context + 1 or train_tokens.is_floating_point() or train_tokens.dtype == torch.bool:
            raise ValueError(f"train_tokens given as sequences must be integer ids of shape (N, context + 1 = "
                             f"{context + 1}), got {train_tokens.dtype} {tuple(train_tokens.shape)}")
        if config.objective != "labels":
            raise ValueError(f"train_tokens given as sequences are trained on with objective 'labels', not "
                             f"{config.objective!r}")
        train_tokens = train_tokens.to(device)
    else:
        train_tokens = _check_tokens(train_tokens, "train_tokens", context + 1).to(device)
    if eval_tokens is not None:
        eval_tokens = _check_tokens(eval_tokens, "eval_tokens", context + 1).to(device)
    teacher_was_training = teacher is not None and teacher.training
    if teacher is not None:
        teacher.eval()

    torch.manual_seed(config.seed)
    generator = torch.Generator(device=device).manual_seed(config.seed)
    # in the student's dtype, so that a float64 student trains its hidden term in float64 too
    dtype = student.token_embedding.weight.dtype
    projections = _make_projections(student, teacher, config, generator).to(device, dtype)
    parameters = [*student.parameters(), *projections.parameters()]
    world, rank = _process_group()
    forward_model = student
    if world > 1:
        if config.batch_size % world:
            raise ValueError(f"batch_size ({config.batch_size}) must be a multiple of the number of processes ({world})")
        if config.hidden_weight > 0:
            raise ValueError("hidden_weight > 0 is not supported under DistributedDataParallel yet")
        from torch.nn.parallel import DistributedDataParallel

        forward_model = DistributedDataParallel(student, device_ids=[device.index] if device.type == "cuda" else None)
    optimiser = torch.optim.AdamW(
        [
            {"params": [p for p in parameters if p.dim() >= 2], "weight_decay": config.weight_decay},
            {"params": [p for p in parameters if p.dim() < 2], "weight_decay": 0.0},
        ],
        lr=config.lr,
        betas=(0.9, 0.95),
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: _lr_factor(step, config.steps, config.warmup)
    )
    history, start_epoch = LMHistory(), 0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and path.exists():
        state = torch.load(path, map_location=device, weights_only=False)
        if state["config"] != dataclasses.asdict(config):
            raise ValueError(
                f"checkpoint {path} was written with a different config; delete it or pass another path"
            )
        student.load_state_dict(state["model"])
        projections.load_state_dict(state["projections"])
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"].cpu())
        torch.set_rng_state(state["cpu_rng"].cpu())
        if device.type == "cuda" and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"].cpu(), device)
        history = LMHistory(**state["history"])
        start_epoch = state["epoch"]

    from tqdm.auto import tqdm

    boundaries = [(epoch + 1) * config.steps // config.epochs for epoch in range(config.epochs)]
    first_step = boundaries[start_epoch - 1] if start_epoch else 0
    bar = tqdm(total=config.steps, initial=first_step, desc=description, disable=not progress)
    step = first_step
    for epoch in range(start_epoch, config.epochs):
        student.train()
        total, count = torch.zeros((), device=device, dtype=torch.float64), 0
        while step < boundaries[epoch]:
            if sequences:
                inputs, targets = random_rows(train_tokens, config.batch_size, generator)
            else:
                inputs, targets = random_windows(train_tokens, config.batch_size, context, generator)
            if world > 1:  # every process drew the same global batch; each trains on its share
                share = slice(rank * config.batch_size // world, (rank + 1) * config.batch_size // world)
                inputs, targets = inputs[share], targets[share]
            loss = _step_loss(forward_model, teacher, projections, inputs, targets, config, generator,
                              skip_prompt=sequences)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip is not None:
                nn.utils.clip_grad_norm_(parameters, config.grad_clip)
            optimiser.step()
            scheduler.step()
            total += loss.detach().double()
            count += 1
            step += 1
            bar.update(1)
        if world > 1:
            torch.distributed.all_reduce(total)
            total /= world
        history.train_loss.append(float(total) / count)
        if eval_tokens is not None and (eval_every_epoch or epoch == config.epochs - 1):
            history.val_loss.append(validation_loss(student, eval_tokens, max_windows=eval_max_windows))
        bar.set_postfix(loss=f"{history.train_loss[-1]:.4f}")
        if path is not None and rank == 0:
            _atomic_save(
                {
                    "config": dataclasses.asdict(config),
                    "epoch": epoch + 1,
                    "model": student.state_dict(),
                    "projections": projections.state_dict(),
                    "optimiser": optimiser.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(),
                    "cpu_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                    "history": history.as_dict(),
                },
                path,
            )
        if path is not None and world > 1:
            torch.distributed.barrier()  # no process starts the next epoch before the checkpoint is written
    bar.close()
    if teacher is not None:
        teacher.train(teacher_was_training)
    return history


def _process_group() -> tuple[int, int]:
    """``(world size, rank)`` of the initialised ``torch.distributed`` process group, else ``(1, 0)``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_world_size(), torch.distributed.get_rank()
    return 1, 0


def _windows_for(model, tokens, context, max_windows):
    context = model.config.context if context is None else _positive_int(context, "context")
    if context > model.config.context:
        raise ValueError(f"context ({context}) exceeds the model's context ({model.config.context})")
    device = next(model.parameters()).device
    return eval_windows(_check_tokens(tokens, "tokens", context + 1).to(device), context, max_windows)


@torch.no_grad()
def validation_loss(
    model: GPT,
    tokens: torch.Tensor,
    *,
    context: int | None = None,
    max_windows: int | None = None,
    batch_size: int = 64,
) -> float:
    """The mean next-token cross-entropy (nats per token) over :func:`eval_windows` of ``tokens``.

    ``context`` defaults to the model's. Evaluation mode inside; the training flag is restored.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT, got {type(model).__name__}")
    batch_size = _positive_int(batch_size, "batch_size")
    inputs, targets = _windows_for(model, tokens, context, max_windows)
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for start in range(0, len(inputs), batch_size):
            logits = model(inputs[start : start + batch_size]).float()
            total += float(
                F.cross_entropy(
                    logits.flatten(0, 1), targets[start : start + batch_size].flatten(), reduction="sum"
                )
            )
    finally:
        model.train(was_training)
    return total / targets.numel()


@torch.no_grad()
def teacher_student_kl(
    student: GPT,
    teacher: GPT,
    tokens: torch.Tensor,
    *,
    T: float = 1.0,
    max_windows: int | None = None,
    batch_size: int = 64,
) -> dict[str, float]:
    """Mean per-token ``forward_kl`` = KL(p || q) and ``reverse_kl`` = KL(q || p) in nats, at ``T``.

    ``p`` is the teacher's and ``q`` the student's next-token distribution on :func:`eval_windows` of
    ``tokens`` at the student's context. Both models run in evaluation mode; their flags are restored.
    """
    _check_pair(student, teacher)
    T = check_temperature(T)
    batch_size = _positive_int(batch_size, "batch_size")
    inputs, _ = _windows_for(student, tokens, None, max_windows)
    flags = student.training, teacher.training
    student.eval()
    teacher.eval()
    try:
        forward = reverse = 0.0
        for start in range(0, len(inputs), batch_size):
            batch = inputs[start : start + batch_size]
            student_logits, teacher_logits = student(batch).float(), teacher(batch).float()
            positions = batch.numel()
            forward += positions * float(
                _divergence("forward_kl", student_logits, teacher_logits, T=T, beta=0.5)
            )
            reverse += positions * float(
                _divergence("reverse_kl", student_logits, teacher_logits, T=T, beta=0.5)
            )
    finally:
        student.train(flags[0])
        teacher.train(flags[1])
    return {"forward_kl": forward / inputs.numel(), "reverse_kl": reverse / inputs.numel()}
