"""kdmath.lm_trainer: windows, the four objectives against float64 formulas, learning on a learnable
stream, bit-exact resumption, evaluation, and argument checks."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from kdmath import lm_trainer
from kdmath.gpt import GPT, GPTConfig, sample
from kdmath.lm_trainer import (
    LMTrainConfig,
    eval_windows,
    random_windows,
    teacher_student_kl,
    train_lm,
    validation_loss,
)

VOCAB, CONTEXT = 64, 16
STUDENT = GPTConfig(vocab_size=VOCAB, context=CONTEXT, n_layer=2, n_head=2, d_model=32)
TEACHER = GPTConfig(vocab_size=VOCAB, context=CONTEXT, n_layer=2, n_head=2, d_model=48)


def _model(config=STUDENT, seed=0):
    return GPT(config, generator=torch.Generator().manual_seed(seed))


def _pattern_stream(period=12, repeats=200, seed=0):
    """A repeating random pattern: a stream that a tiny model learns in a few dozen steps."""
    pattern = torch.randint(0, VOCAB, (period,), generator=torch.Generator().manual_seed(seed))
    return pattern.repeat(repeats)


def _random_stream(n=2000, seed=0):
    return torch.randint(0, VOCAB, (n,), generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def teacher():
    """A teacher trained on the pattern stream (labels), so that it knows the pattern."""
    model = _model(TEACHER, seed=11)
    train_lm(model, _pattern_stream(), LMTrainConfig(steps=60, lr=1e-2))
    model.zero_grad(set_to_none=True)
    return model


def _batch(seed=0, batch_size=4, stream=None):
    return random_windows(
        _random_stream() if stream is None else stream,
        batch_size,
        CONTEXT,
        torch.Generator().manual_seed(seed),
    )


def _log_probs(logits, T):
    return torch.log_softmax(logits.detach().double() / T, dim=-1)


def _naive_divergence(name, student_logits, teacher_logits, T, beta=0.5):
    """Per-position divergences from probabilities, in float64."""
    log_q, log_p = _log_probs(student_logits, T), _log_probs(teacher_logits, T)
    p, q = log_p.exp(), log_q.exp()
    if name == "forward_kl":
        return (p * (log_p - log_q)).sum(-1)
    if name == "reverse_kl":
        return (q * (log_q - log_p)).sum(-1)
    m = beta * p + (1 - beta) * q
    return beta * (p * (p / m).log()).sum(-1) + (1 - beta) * (q * (q / m).log()).sum(-1)


def _naive_ce(logits, targets):
    return -_log_probs(logits, 1.0).gather(-1, targets[..., None]).squeeze(-1)


def _step_loss(student, teacher, config, inputs, targets, generator=None, projections=None):
    projections = torch.nn.ModuleList() if projections is None else projections
    generator = torch.Generator().manual_seed(0) if generator is None else generator
    return lm_trainer._step_loss(student, teacher, projections, inputs, targets, config, generator)


# ---------------------------------------------------------------------------------------------- windows


def test_random_windows_are_shifted_slices_of_the_stream():
    tokens = torch.arange(100) * 3
    inputs, targets = random_windows(tokens, 8, CONTEXT, torch.Generator().manual_seed(0))
    again = random_windows(tokens, 8, CONTEXT, torch.Generator().manual_seed(0))
    assert inputs.shape == targets.shape == (8, CONTEXT)
    assert torch.equal(inputs, again[0]) and torch.equal(targets, again[1])
    starts = inputs[:, 0] // 3
    assert torch.equal(inputs, (starts[:, None] + torch.arange(CONTEXT)) * 3)
    assert torch.equal(targets, inputs + 3)
    # Every start from 0 to len - context - 1 occurs, and no window runs off the end.
    short = torch.arange(CONTEXT + 2)
    first = random_windows(short, 200, CONTEXT, torch.Generator().manual_seed(1))[0][:, 0]
    assert set(first.tolist()) == {0, 1}


def test_eval_windows_are_fixed_non_overlapping_and_spread():
    tokens = torch.arange(170)
    inputs, targets = eval_windows(tokens, CONTEXT)
    count = 169 // CONTEXT
    assert inputs.shape == (count, CONTEXT)
    for j in range(count):
        assert torch.equal(inputs[j], torch.arange(j * CONTEXT, (j + 1) * CONTEXT))
        assert torch.equal(targets[j], inputs[j] + 1)
    some, _ = eval_windows(tokens, CONTEXT, max_windows=3)
    assert some[:, 0].tolist() == [0, 3 * CONTEXT, 6 * CONTEXT]  # windows floor(i * 10 / 3)
    assert torch.equal(eval_windows(tokens, CONTEXT, max_windows=50)[0], inputs)


# ---------------------------------------------------------------------------------------------- objectives


def test_labels_and_token_kd_match_float64_formulas(teacher):
    student = _model()
    inputs, targets = _batch()
    labels = _step_loss(student, None, LMTrainConfig(steps=1), inputs, targets)
    torch.testing.assert_close(
        labels.double(), _naive_ce(student(inputs), targets).mean(), rtol=1e-5, atol=1e-6
    )
    for name in ("forward_kl", "reverse_kl", "jsd"):
        config = LMTrainConfig(steps=1, objective="token_kd", alpha=0.3, T=2.5, divergence=name, beta=0.3)
        loss = _step_loss(student, teacher, config, inputs, targets)
        s, t = student(inputs), teacher(inputs)
        expected = (
            0.7 * _naive_ce(s, targets) + 0.3 * 2.5**2 * _naive_divergence(name, s, t, 2.5, 0.3)
        ).mean()
        torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-6)
    # alpha = 0 is the labels objective
    no_soft = _step_loss(
        student, teacher, LMTrainConfig(steps=1, objective="token_kd", alpha=0.0), inputs, targets
    )
    torch.testing.assert_close(no_soft, labels)


def test_teacher_argmax_is_labels_cross_entropy_on_the_teachers_argmax(teacher):
    student = _model()
    inputs, targets = _batch(seed=3)
    hard = _step_loss(student, teacher, LMTrainConfig(steps=1, objective="teacher_argmax"), inputs, targets)
    argmax = teacher(inputs).argmax(-1)
    assert not torch.equal(argmax, targets)  # random data: the teacher's labels are not the data's
    assert torch.equal(hard, _step_loss(student, None, LMTrainConfig(steps=1), inputs, argmax))


def test_on_policy_scores_the_students_continuation_and_masks_the_prompt(teacher):
    student = _model()
    inputs, targets = _batch(seed=5)
    P, T = 5, 2.0
    config = LMTrainConfig(
        steps=1, objective="on_policy", prompt_length=P, T=T, divergence="reverse_kl", sample_T=1.3
    )
    loss = _step_loss(student, teacher, config, inputs, targets, torch.Generator().manual_seed(7))
    # Replay the generator by hand: one coin, then the student's sample.
    generator = torch.Generator().manual_seed(7)
    assert torch.rand((), generator=generator) < 1.0
    sequence = sample(student, inputs[:, :P], CONTEXT - P, T=1.3, generator=generator)
    assert torch.equal(sequence[:, :P], inputs[:, :P]) and not torch.equal(sequence[:, P:], inputs[:, P:])
    per_position = _naive_divergence("reverse_kl", student(sequence), teacher(sequence), T)
    # Position i predicts token i + 1: the generated tokens P .. L-1 were drawn at positions P-1 .. L-2.
    expected = T**2 * per_position[:, P - 1 : CONTEXT - 1].mean()
    torch.testing.assert_close(loss.double(), expected, rtol=1e-5, atol=1e-6)
    assert not math.isclose(loss.item(), T**2 * per_position.mean().item(), rel_tol=1e-3)
    # With on_policy_fraction = 0 every step is a token_kd step on the data.
    off = LMTrainConfig(steps=1, objective="on_policy", on_policy_fraction=0.0, alpha=0.4, T=T)
    token_kd = LMTrainConfig(steps=1, objective="token_kd", alpha=0.4, T=T)
    assert torch.equal(
        _step_loss(student, teacher, off, inputs, targets),
        _step_loss(student, teacher, token_kd, inputs, targets),
    )


def test_hidden_term_matches_its_formula(teacher):
    student = _model()
    inputs, targets = _batch(seed=2)
    layer_map = ((1, 2), (0, 0))
    config = LMTrainConfig(steps=1, objective="token_kd", hidden_weight=0.7, layer_map=layer_map)
    projections = lm_trainer._make_projections(student, teacher, config, torch.Generator().manual_seed(0))
    assert [tuple(p.weight.shape) for p in projections] == [(48, 32), (48, 32)]
    with_hidden = _step_loss(student, teacher, config, inputs, targets, projections=projections)
    without = _step_loss(student, teacher, LMTrainConfig(steps=1, objective="token_kd"), inputs, targets)
    _, h_s = student(inputs, return_hidden=True)
    _, h_t = teacher(inputs, return_hidden=True)
    terms = []
    for projection, (a, b) in zip(projections, layer_map):
        mapped = h_s[a].double() @ projection.weight.double().T + projection.bias.double()
        terms.append(((mapped - h_t[b].double()) ** 2).sum(-1).mean() / 48)
    torch.testing.assert_close((with_hidden - without).double(), 0.7 * sum(terms) / 2, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "settings",
    [
        {"objective": "token_kd", "alpha": 0.3, "T": 2.5, "divergence": "forward_kl"},
        {"objective": "token_kd", "alpha": 1.0, "T": 0.7, "divergence": "reverse_kl"},
        {"objective": "token_kd", "alpha": 0.6, "divergence": "jsd", "beta": 0.2},
        {"objective": "on_policy", "T": 2.0, "prompt_length": 5, "divergence": "reverse_kl"},
        {"objective": "token_kd", "alpha": 0.5, "hidden_weight": 0.3, "layer_map": ((2, 1),)},
    ],
)
@pytest.mark.parametrize("tie", [True, False])
def test_the_fused_loss_trains_as_the_loss_on_the_logits(settings, tie, teacher):
    """fused_loss=True (kdmath.linear_kd_loss on the final hidden states and the heads' weights) and
    fused_loss=False (the divergences on materialised logits) give, in float64, the same step loss,
    the same gradients and, after a few AdamW steps, the same parameters, to rounding."""
    import dataclasses

    student_config = dataclasses.replace(STUDENT, tie_embeddings=tie)
    teacher64 = _model(TEACHER, seed=11)
    teacher64.load_state_dict(teacher.state_dict())
    teacher64.double()
    inputs, targets = _batch(seed=9)
    results = []
    for fused in (True, False):
        config = LMTrainConfig(steps=4, epochs=2, batch_size=4, lr=1e-2, fused_loss=fused, **settings)
        student = _model(student_config, seed=5).double()
        projections = lm_trainer._make_projections(student, teacher64, config, torch.Generator().manual_seed(0))
        loss = _step_loss(student, teacher64, config, inputs, targets, torch.Generator().manual_seed(3),
                          projections.double())
        loss.backward()
        grads = {name: p.grad.clone() for name, p in student.named_parameters()}
        student = _model(student_config, seed=5).double()
        history = train_lm(student, _random_stream(), config, teacher=teacher64)
        results.append((loss.detach(), grads, student.state_dict(), history.train_loss))
    (loss, grads, state, logged), (loss_naive, grads_naive, state_naive, logged_naive) = results
    torch.testing.assert_close(loss, loss_naive, rtol=1e-12, atol=1e-12)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, grads_naive[name], rtol=1e-9, atol=1e-12, msg=name)
    for name, value in state.items():
        torch.testing.assert_close(value, state_naive[name], rtol=1e-9, atol=1e-11, msg=name)
    assert logged == pytest.approx(logged_naive, rel=1e-6)


@pytest.mark.parametrize("objective", ["labels", "token_kd", "teacher_argmax", "on_policy"])
def test_each_objective_learns_the_pattern(objective, teacher):
    stream = _pattern_stream()
    student = _model(seed=4)
    before, teacher_flag = validation_loss(student, stream), teacher.training
    config = LMTrainConfig(
        steps=40,
        epochs=2,
        lr=1e-2,
        objective=objective,
        on_policy_fraction=0.5,
        hidden_weight=0.1 if objective == "token_kd" else 0.0,
        layer_map=((2, 2),),
    )
    history = train_lm(
        student, stream, config, teacher=None if objective == "labels" else teacher, eval_tokens=stream
    )
    assert len(history.train_loss) == len(history.val_loss) == 2
    assert history.train_loss[1] < history.train_loss[0]
    assert history.val_loss[-1] == validation_loss(student, stream)
    assert before > 4.0 and history.val_loss[-1] < 0.5 * before, (objective, before, history)
    # The teacher ran in evaluation mode without gradients, and is handed back as it was given.
    assert teacher.training == teacher_flag and all(
        p.requires_grad and p.grad is None for p in teacher.parameters()
    )


# ---------------------------------------------------------------------------------------------- resumption


class _Interrupted(Exception):
    pass


def test_resumed_run_equals_the_uninterrupted_run_bit_for_bit(tmp_path, monkeypatch, teacher):
    stream = _pattern_stream(period=20)
    config_model = GPTConfig(vocab_size=VOCAB, context=CONTEXT, n_layer=2, n_head=2, d_model=32, dropout=0.1)
    config = LMTrainConfig(
        steps=12,
        epochs=4,
        batch_size=4,
        warmup=2,
        weight_decay=0.1,
        objective="on_policy",
        on_policy_fraction=0.5,
        hidden_weight=0.1,
        layer_map=((2, 2),),
        seed=3,
    )
    whole = _model(config_model, seed=1)
    history = train_lm(
        whole,
        stream,
        config,
        teacher=teacher,
        checkpoint=tmp_path / "whole.pt",
        eval_tokens=stream,
        eval_max_windows=4,
    )

    real_save = lm_trainer._atomic_save

    def save_then_stop(state, path):
        real_save(state, path)
        if state["epoch"] == 2:
            raise _Interrupted

    monkeypatch.setattr(lm_trainer, "_atomic_save", save_then_stop)
    path = tmp_path / "split.pt"
    with pytest.raises(_Interrupted):
        train_lm(
            _model(config_model, seed=1),
            stream,
            config,
            teacher=teacher,
            checkpoint=path,
            eval_tokens=stream,
            eval_max_windows=4,
        )
    monkeypatch.setattr(lm_trainer, "_atomic_save", real_save)
    resumed = _model(config_model, seed=99)  # other weights: the checkpoint must replace them
    torch.manual_seed(12345)  # other global RNG state: the checkpoint must restore it (dropout)
    resumed_history = train_lm(
        resumed, stream, config, teacher=teacher, checkpoint=path, eval_tokens=stream, eval_max_windows=4
    )
    assert resumed_history == history and len(history.train_loss) == 4
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    whole_state, split_state = torch.load(tmp_path / "whole.pt"), torch.load(path)
    for name, a in whole_state["projections"].items():
        assert torch.equal(a, split_state["projections"][name]), name
    # The schedule ends at 0.1 lr.
    assert math.isclose(split_state["optimiser"]["param_groups"][0]["lr"], 0.1 * config.lr)
    with pytest.raises(ValueError, match="different config"):
        train_lm(resumed, stream, LMTrainConfig(steps=12, epochs=4), checkpoint=path)


def test_learning_rate_schedule():
    factors = [lm_trainer._lr_factor(step, 10, 2) for step in range(10)]
    assert factors[:2] == [0.5, 1.0] and factors[2] == 1.0 and math.isclose(factors[-1], 0.1)
    assert all(a > b for a, b in itertools.pairwise(factors[2:]))
    assert math.isclose(lm_trainer._lr_factor(6, 10, 2), 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 4 / 7)))


# ---------------------------------------------------------------------------------------------- evaluation


def test_validation_loss_matches_a_float64_loop():
    model = _model()
    model.train()
    tokens = _random_stream(500)
    loss = validation_loss(model, tokens, batch_size=7)
    assert model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, 500 - CONTEXT, CONTEXT):
        window = tokens[start : start + CONTEXT + 1]
        total += float(_naive_ce(model(window[None, :-1]), window[None, 1:]).sum())
        count += CONTEXT
    assert math.isclose(loss, total / count, rel_tol=1e-6)
    assert math.isclose(
        validation_loss(model, tokens, context=8, max_windows=5),
        float(_naive_ce(model(eval_windows(tokens, 8, 5)[0]), eval_windows(tokens, 8, 5)[1]).mean()),
        rel_tol=1e-6,
    )


def test_teacher_student_kl_matches_float64_formulas(teacher):
    student = _model()
    tokens = _random_stream(300)
    result = teacher_student_kl(student, teacher, tokens, T=2.0, max_windows=10, batch_size=3)
    inputs, _ = eval_windows(tokens, CONTEXT, 10)
    s, t = student(inputs), teacher(inputs)
    assert math.isclose(
        result["forward_kl"], float(_naive_divergence("forward_kl", s, t, 2.0).mean()), rel_tol=1e-5
    )
    assert math.isclose(
        result["reverse_kl"], float(_naive_divergence("reverse_kl", s, t, 2.0).mean()), rel_tol=1e-5
    )
    same = teacher_student_kl(teacher, teacher, tokens, max_windows=4)
    assert abs(same["forward_kl"]) < 1e-6 and abs(same["reverse_kl"]) < 1e-6


# ---------------------------------------------------------------------------------------------- errors


def test_config_rejects_bad_values():
    from kdmath.divergences import DIVERGENCES

    assert lm_trainer.DIVERGENCE_NAMES == DIVERGENCES
    for kwargs, error, match in [
        ({"steps": 0}, ValueError, "steps"),
        ({"epochs": 5, "steps": 4}, ValueError, "epochs"),
        ({"batch_size": 1.5}, ValueError, "batch_size"),
        ({"lr": 0.0}, ValueError, "lr"),
        ({"weight_decay": -1.0}, ValueError, "weight_decay"),
        ({"warmup": 11}, ValueError, "warmup"),
        ({"grad_clip": 0.0}, ValueError, "grad_clip"),
        ({"seed": -1}, ValueError, "seed"),
        ({"objective": "kd"}, ValueError, "objective"),
        ({"T": 0.0}, ValueError, "T"),
        ({"alpha": 1.5}, ValueError, "alpha"),
        ({"divergence": "kl"}, ValueError, "divergence"),
        ({"beta": -0.1}, ValueError, "beta"),
        ({"hidden_weight": 1.0}, ValueError, "layer_map"),
        ({"hidden_weight": math.nan}, ValueError, "hidden_weight"),
        ({"layer_map": ((1, -1),)}, ValueError, "layer_map"),
        ({"layer_map": 3}, TypeError, "layer_map"),
        ({"on_policy_fraction": 2.0}, ValueError, "on_policy_fraction"),
        ({"prompt_length": 0}, ValueError, "prompt_length"),
        ({"sample_T": -1.0}, ValueError, "sample_T"),
        ({"fused_loss": 1}, TypeError, "fused_loss"),
    ]:
        with pytest.raises(error, match=match):
            LMTrainConfig(**({"steps": 10} | kwargs))
    assert LMTrainConfig(steps=1, layer_map=[[1, 2]]).layer_map == ((1, 2),)


def test_train_lm_rejects_bad_arguments(teacher):
    stream = _random_stream(200)
    student = _model()
    cases = [
        ({"config": LMTrainConfig(steps=1, objective="token_kd")}, ValueError, "needs a teacher"),
        (
            {
                "config": LMTrainConfig(steps=1, objective="token_kd"),
                "teacher": _model(GPTConfig(65, context=16)),
            },
            ValueError,
            "vocab_size",
        ),
        (
            {
                "config": LMTrainConfig(steps=1, objective="token_kd"),
                "teacher": _model(GPTConfig(64, context=8)),
            },
            ValueError,
            "context",
        ),
        (
            {
                "config": LMTrainConfig(
                    steps=1, objective="token_kd", hidden_weight=1.0, layer_map=((3, 0),)
                ),
                "teacher": teacher,
            },
            ValueError,
            "layer_map",
        ),
        (
            {"config": LMTrainConfig(steps=1, objective="on_policy", prompt_length=16), "teacher": teacher},
            ValueError,
            "prompt_length",
        ),
        ({"config": {"steps": 1}}, TypeError, "config"),
        ({"config": LMTrainConfig(steps=1), "train_tokens": stream.float()}, TypeError, "train_tokens"),
        ({"config": LMTrainConfig(steps=1), "train_tokens": stream[:16]}, ValueError, "train_tokens"),
    ]
    for kwargs, error, match in cases:
        arguments = {"train_tokens": stream} | kwargs
        with pytest.raises(error, match=match):
            train_lm(student, arguments.pop("train_tokens"), arguments.pop("config"), **arguments)
    with pytest.raises(TypeError, match="student"):
        train_lm(torch.nn.Linear(2, 2), stream, LMTrainConfig(steps=1))
    with pytest.raises(ValueError, match="context"):
        validation_loss(student, stream, context=17)


# ------------------------------------------------------------------------------ sequence-level data


def test_sequences_are_drawn_as_whole_rows_and_the_prompt_is_left_out_of_the_loss():
    sequences = torch.randint(0, VOCAB, (10, CONTEXT + 1), generator=torch.Generator().manual_seed(3))
    inputs, targets = lm_trainer.random_rows(sequences, 6, torch.Generator().manual_seed(0))
    for row_in, row_target in zip(inputs, targets):
        full = torch.cat([row_in, row_target[-1:]])
        assert any(torch.equal(full, row) for row in sequences)  # a whole row, never a window across two
        assert torch.equal(row_in[1:], row_target[:-1])
    student, config = _model(), LMTrainConfig(steps=1, prompt_length=5)
    loss = lm_trainer._step_loss(student, None, torch.nn.ModuleList(), inputs, targets, config,
                                 torch.Generator().manual_seed(0), skip_prompt=True)
    with torch.no_grad():
        per_position = _naive_ce(student(inputs).double(), targets)
    assert torch.isclose(loss.double(), per_position[:, 4:].mean(), rtol=1e-5)  # targets 0..3 are prompt tokens
    assert not torch.isclose(loss.double(), per_position.mean(), rtol=1e-5)


def test_training_on_sequences_learns_them_and_refuses_a_wrong_shape_or_objective(teacher):
    pattern = _pattern_stream()[: CONTEXT + 1]
    sequences = pattern.repeat(8, 1)
    student = _model()
    before = validation_loss(student, _pattern_stream())
    train_lm(student, sequences, LMTrainConfig(steps=40, lr=1e-2, prompt_length=4))
    assert validation_loss(student, _pattern_stream()) < before / 2
    with pytest.raises(ValueError, match="train_tokens"):
        train_lm(_model(), sequences[:, :-1], LMTrainConfig(steps=1))
    with pytest.raises(ValueError, match="objective 'labels'"):
        train_lm(_model(), sequences, LMTrainConfig(steps=1, objective="token_kd"), teacher=teacher)
