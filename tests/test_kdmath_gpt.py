"""kdmath.gpt: the causal transformer against a naive float64 re-implementation, its masking, tying,
initialisation, parameter count and sampling."""

from __future__ import annotations

import math

import pytest
import torch

from kdmath.gpt import GPT, GPTConfig, sample

TINY = GPTConfig(vocab_size=64, context=16, n_layer=2, n_head=2, d_model=32)


def _model(config=TINY, seed=0):
    return GPT(config, generator=torch.Generator().manual_seed(seed))


def _ids(shape, seed=1, vocab=64):
    return torch.randint(0, vocab, shape, generator=torch.Generator().manual_seed(seed))


def _layer_norm(x, module):
    mean = x.mean(-1, keepdim=True)
    variance = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(variance + module.eps) * module.weight + module.bias


def _naive_forward(model, ids):
    """The module docstring's equations, position by position, in float64, with an explicit causal loop."""
    config = model.config
    heads, d_head = config.n_head, config.d_model // config.n_head
    B, L = ids.shape
    h = model.token_embedding.weight[ids] + model.position_embedding.weight[:L]
    hidden = [h]
    for block in model.blocks:
        u = _layer_norm(h, block.ln_attention)
        qkv = u @ block.attention.qkv.weight.T + block.attention.qkv.bias
        q, k, v = qkv.split(config.d_model, dim=-1)
        attended = torch.zeros_like(u)
        for b in range(B):
            for head in range(heads):
                columns = slice(head * d_head, (head + 1) * d_head)
                for i in range(L):
                    scores = torch.stack(
                        [q[b, i, columns] @ k[b, j, columns] for j in range(i + 1)]
                    ) / math.sqrt(d_head)
                    weights = torch.softmax(scores, 0)
                    attended[b, i, columns] = sum(weights[j] * v[b, j, columns] for j in range(i + 1))
        a = h + attended @ block.attention.proj.weight.T + block.attention.proj.bias
        u = _layer_norm(a, block.ln_mlp)
        h = (
            a
            + torch.nn.functional.gelu(u @ block.fc.weight.T + block.fc.bias) @ block.proj.weight.T
            + block.proj.bias
        )
        hidden.append(h)
    return _layer_norm(h, model.ln_final) @ model.token_embedding.weight.T, hidden


def test_forward_matches_a_naive_float64_computation():
    model = _model(GPTConfig(vocab_size=64, context=16, n_layer=2, n_head=4, d_model=32)).double()
    with torch.no_grad():  # non-trivial biases and LayerNorm parameters, so that their roles are checked too
        for name, parameter in model.named_parameters():
            if "bias" in name or "ln_" in name:
                parameter.add_(
                    0.1
                    * torch.randn(
                        parameter.shape,
                        generator=torch.Generator().manual_seed(len(name)),
                        dtype=torch.float64,
                    )
                )
    ids = _ids((2, 7))
    logits, hidden = model(ids, return_hidden=True)
    expected_logits, expected_hidden = _naive_forward(model, ids)
    torch.testing.assert_close(logits, expected_logits, rtol=1e-10, atol=1e-10)
    for got, expected in zip(hidden, expected_hidden, strict=True):
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_changing_a_later_token_leaves_earlier_logits_unchanged():
    model = _model()
    ids = _ids((3, 16))
    changed = ids.clone()
    changed[:, 9] = (changed[:, 9] + 1) % 64
    before, after = model(ids), model(changed)
    torch.testing.assert_close(before[:, :9], after[:, :9], rtol=0, atol=1e-6)
    assert (before[:, 9:] - after[:, 9:]).abs().amax(-1).min() > 1e-4  # every later position sees the change


def test_return_hidden_shapes_and_final_projection():
    config = GPTConfig(vocab_size=64, context=16, n_layer=3, n_head=2, d_model=32)
    model = _model(config)
    logits, hidden = model(_ids((2, 5)), return_hidden=True)
    assert logits.shape == (2, 5, 64)
    assert len(hidden) == config.n_layer + 1 and all(h.shape == (2, 5, 32) for h in hidden)
    torch.testing.assert_close(model.head(model.ln_final(hidden[-1])), logits)
    torch.testing.assert_close(model(_ids((2, 5)), last_only=True), logits[:, -1:])


def test_tied_embeddings_share_one_matrix():
    tied = _model()
    assert tied.head.weight is tied.token_embedding.weight
    untied = _model(GPTConfig(vocab_size=64, context=16, d_model=32, tie_embeddings=False))
    assert untied.head.weight.data_ptr() != untied.token_embedding.weight.data_ptr()
    assert not torch.equal(untied.head.weight, untied.token_embedding.weight)
    # The tied matrix's gradient is the sum of its two roles' gradients in an untied copy.
    with torch.no_grad():
        untied.load_state_dict({**tied.state_dict(), "head.weight": tied.token_embedding.weight.clone()})
    ids = _ids((2, 8))
    tied(ids).square().sum().backward()
    untied(ids).square().sum().backward()
    torch.testing.assert_close(
        tied.token_embedding.weight.grad, untied.token_embedding.weight.grad + untied.head.weight.grad
    )


@pytest.mark.parametrize("tie, d_ff, n_layer", [(True, None, 2), (False, None, 2), (True, 40, 3)])
def test_parameter_count_matches_the_hand_formula(tie, d_ff, n_layer):
    V, C, d = 64, 16, 32
    config = GPTConfig(
        vocab_size=V, context=C, n_layer=n_layer, n_head=2, d_model=d, d_ff=d_ff, tie_embeddings=tie
    )
    f = 4 * d if d_ff is None else d_ff
    per_block = 2 * (2 * d) + (3 * d * d + 3 * d) + (d * d + d) + (d * f + f) + (f * d + d)
    expected = V * d + C * d + n_layer * per_block + 2 * d + (0 if tie else V * d)
    assert _model(config).num_parameters() == expected


def test_initialisation_is_seeded_and_follows_the_scheme():
    config = GPTConfig(vocab_size=512, context=16, n_layer=4, n_head=2, d_model=64)
    a, b, c = _model(config, 0), _model(config, 0), _model(config, 1)
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.token_embedding.weight, c.token_embedding.weight)
    assert torch.equal(GPT(config).token_embedding.weight, a.token_embedding.weight)  # None means seed 0
    assert abs(a.token_embedding.weight.std().item() - 0.02) < 0.001
    residual = torch.cat(
        [torch.cat([blk.proj.weight.flatten(), blk.attention.proj.weight.flatten()]) for blk in a.blocks]
    )
    assert abs(residual.std().item() - 0.02 / math.sqrt(2 * 4)) < 0.0005
    for name, parameter in a.named_parameters():
        if name.endswith("bias"):
            assert not parameter.any(), name
        elif "ln_" in name:
            assert torch.equal(parameter, torch.ones_like(parameter)), name


def test_sampling_is_deterministic_given_the_generator():
    model = _model()
    prompt = _ids((3, 4))
    first = sample(model, prompt, 20, generator=torch.Generator().manual_seed(5))
    again = sample(model, prompt, 20, generator=torch.Generator().manual_seed(5))
    other = sample(model, prompt, 20, generator=torch.Generator().manual_seed(6))
    assert first.shape == (3, 24) and torch.equal(first[:, :4], prompt)
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert sample(model, prompt, 0, generator=torch.Generator()).equal(prompt)


def test_sampling_sees_only_the_last_context_tokens():
    model = _model()
    prompt = _ids((2, 30))  # longer than the context of 16
    changed = prompt.clone()
    changed[:, :14] = (changed[:, :14] + 7) % 64  # only tokens before the last 16
    a = sample(model, prompt, 12, T=1.5, generator=torch.Generator().manual_seed(3))
    b = sample(model, changed, 12, T=1.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a[:, 30:], b[:, 30:])
    changed[:, 14] = (changed[:, 14] + 7) % 64  # inside the window: the first step's distribution changes
    logits = model(prompt[:, -16:])[:, -1]
    assert not torch.equal(logits, model(changed[:, -16:])[:, -1])


def test_greedy_and_top_k_one_take_the_argmax_step_by_step():
    model = _model()
    prompt = _ids((2, 3))
    greedy = sample(model, prompt, 20, greedy=True)
    ids = prompt
    for _ in range(20):
        ids = torch.cat([ids, model(ids[:, -16:])[:, -1].argmax(-1, keepdim=True)], dim=1)
    assert torch.equal(greedy, ids)
    assert torch.equal(sample(model, prompt, 20, top_k=1, generator=torch.Generator().manual_seed(0)), greedy)


def test_top_k_restricts_the_support():
    model = _model()
    prompt = _ids((200, 4))
    drawn = sample(model, prompt, 1, T=5.0, top_k=3, generator=torch.Generator().manual_seed(0))[:, -1]
    allowed = model(prompt)[:, -1].topk(3, dim=-1).indices
    assert (drawn[:, None] == allowed).any(-1).all()


def test_sample_restores_the_training_flag_and_rejects_bad_arguments():
    model = _model(GPTConfig(vocab_size=64, context=16, d_model=32, dropout=0.1))
    model.train()
    sample(model, _ids((1, 2)), 3, generator=torch.Generator())
    assert model.training
    for kwargs, error, match in [
        ({"T": 0.0}, ValueError, "T"),
        ({}, TypeError, "generator"),
        ({"generator": torch.Generator(), "top_k": 0}, ValueError, "top_k"),
    ]:
        with pytest.raises(error, match=match):
            sample(model, _ids((1, 2)), 3, **kwargs)
    with pytest.raises(ValueError, match="new_tokens"):
        sample(model, _ids((1, 2)), -1, greedy=True)
    with pytest.raises(TypeError, match="prompt"):
        sample(model, torch.zeros(1, 2), 1, greedy=True)


def test_config_and_forward_reject_bad_inputs():
    for kwargs, match in [
        ({"vocab_size": 0}, "vocab_size"),
        ({"context": 2.0}, "context"),
        ({"n_layer": 0}, "n_layer"),
        ({"d_model": 30, "n_head": 4}, "divisible"),
        ({"dropout": 1.0}, "dropout"),
        ({"d_ff": -1}, "d_ff"),
    ]:
        with pytest.raises(ValueError, match=match):
            GPTConfig(**({"vocab_size": 64} | kwargs))
    with pytest.raises(TypeError, match="tie_embeddings"):
        GPTConfig(64, tie_embeddings=1)
    with pytest.raises(TypeError, match="config"):
        GPT({"vocab_size": 64})
    model = _model()
    with pytest.raises(ValueError, match="context"):
        model(_ids((1, 17)))
    with pytest.raises(TypeError, match="ids"):
        model(torch.zeros(1, 4))
    with pytest.raises(ValueError, match="ids"):
        model(_ids((4,)))
