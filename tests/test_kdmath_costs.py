"""Cost arithmetic: FLOPs and parameter counts against explicit torch modules, break-even volumes."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from kdmath import costs


def count(*modules: nn.Module) -> int:
    return sum(p.numel() for module in modules for p in module.parameters())


@pytest.mark.parametrize("d_in,d_out,n", [(256, 768, 1), (3, 5, 7), (768, 256, 64)])
def test_projection_flops_matches_torch_flop_counter(d_in, d_out, n):
    x = torch.randn(n, d_in)
    layer = nn.Linear(d_in, d_out, bias=False)
    with FlopCounterMode(display=False) as counter:
        layer(x)
    assert costs.projection_flops(d_in, d_out, n) == counter.get_total_flops()


def test_projection_weight_shape_maps_student_to_teacher():
    # nn.Linear(d_s, d_t) stores W with shape (d_t, d_s): the source's W_proj in R^{768 x 256}
    layer = nn.Linear(256, 768, bias=False, device="meta")
    assert tuple(layer.weight.shape) == (768, 256)
    assert count(layer) == costs.projection_flops(256, 768) // 2


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 64).map(lambda h: 8 * h), mult=st.integers(1, 8), bias=st.booleans(), norm=st.booleans())
def test_transformer_layer_params_matches_explicit_modules(d, mult, bias, norm):
    attention = nn.MultiheadAttention(d, num_heads=8, bias=bias, device="meta")
    ffn = (nn.Linear(d, mult * d, bias=bias, device="meta"), nn.Linear(mult * d, d, bias=bias, device="meta"))
    norms = (nn.LayerNorm(d, device="meta"), nn.LayerNorm(d, device="meta")) if norm else ()
    got = costs.transformer_layer_params(d, mult, bias=bias, layer_norm=norm)
    assert got["attention"] == count(attention)
    assert got["ffn"] == count(*ffn)
    assert got["layer_norm"] == count(*norms)
    assert got["total"] == count(attention, *ffn, *norms)


def test_full_layer_matches_torch_transformer_encoder_layer():
    for d, heads, mult in ((768, 12, 4), (256, 4, 4), (64, 2, 3)):
        layer = nn.TransformerEncoderLayer(d, heads, dim_feedforward=mult * d, device="meta")
        assert costs.transformer_layer_params(d, mult, bias=True, layer_norm=True)["total"] == count(layer)


def brute_force_bert(vocab_size, d, n_layers, max_positions, type_vocab_size, pooler, heads=12):
    """Build the modules (on the meta device: shapes only, no memory) and count their parameters."""
    modules = [nn.Embedding(vocab_size, d, device="meta"), nn.Embedding(max_positions, d, device="meta"),
               nn.LayerNorm(d, device="meta")]
    if type_vocab_size:
        modules.append(nn.Embedding(type_vocab_size, d, device="meta"))
    modules += [nn.TransformerEncoderLayer(d, heads, dim_feedforward=4 * d, device="meta") for _ in range(n_layers)]
    if pooler:
        modules.append(nn.Linear(d, d, device="meta"))
    return count(*modules)


def test_bert_params_matches_brute_force_modules():
    base = costs.bert_params(30522, 768, 12, 512)
    assert base == brute_force_bert(30522, 768, 12, 512, 2, True)
    distil = costs.bert_params(30522, 768, 6, 512, type_vocab_size=0, pooler=False)
    assert distil == brute_force_bert(30522, 768, 6, 512, 0, False)
    # the published counts of bert-base-uncased and distilbert-base-uncased, as a second check
    assert (base, distil) == (109_482_240, 66_362_880)
    small = costs.bert_params(1000, 96, 3, 64, type_vocab_size=3)
    assert small == brute_force_bert(1000, 96, 3, 64, 3, True, heads=4)


def test_break_even_and_distillation_cost():
    assert costs.distillation_cost(1e9, 10.0, 1000.0) == pytest.approx(11_000.0)
    tokens = costs.break_even_tokens(11_000.0, 10.0, 0.5)
    assert tokens == pytest.approx(11_000.0 / 9.5e-6)
    # at the break-even volume the saving equals the fixed cost
    assert tokens * (10.0 - 0.5) / 1e6 == pytest.approx(11_000.0)
    assert costs.break_even_tokens(11_000.0, 10.0, 0.5, 4.75) == pytest.approx(2 * tokens)
    assert costs.break_even_tokens(11_000.0, 10.0, 0.5, 9.5) == math.inf
    assert costs.break_even_tokens(11_000.0, 10.0, 0.5, 20.0) == math.inf
    assert costs.break_even_tokens(11_000.0, 1.0, 2.0) == math.inf
    assert costs.break_even_tokens(0.0, 10.0, 0.5) == 0.0


@settings(max_examples=100, deadline=None)
@given(fixed=st.floats(0, 1e7), t=st.floats(0, 100), s=st.floats(0, 100), v1=st.floats(0, 50), v2=st.floats(0, 50))
def test_break_even_grows_with_the_value_loss(fixed, t, s, v1, v2):
    low, high = sorted((v1, v2))
    assert costs.break_even_tokens(fixed, t, s, low) <= costs.break_even_tokens(fixed, t, s, high)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="d_in"):
        costs.projection_flops(0, 4)
    with pytest.raises(TypeError, match="d_out"):
        costs.projection_flops(4, 4.0)
    with pytest.raises(ValueError, match="n_vectors"):
        costs.projection_flops(4, 4, -1)
    with pytest.raises(ValueError, match="d_model"):
        costs.transformer_layer_params(-8)
    with pytest.raises(ValueError, match="ffn_mult"):
        costs.transformer_layer_params(8, 0)
    with pytest.raises(ValueError, match="ffn_mult"):
        costs.transformer_layer_params(7, 0.5)
    with pytest.raises(TypeError, match="bias"):
        costs.transformer_layer_params(8, bias=1)
    with pytest.raises(TypeError, match="layer_norm"):
        costs.transformer_layer_params(8, layer_norm="yes")
    with pytest.raises(ValueError, match="vocab_size"):
        costs.bert_params(0, 8, 1, 4)
    with pytest.raises(ValueError, match="n_layers"):
        costs.bert_params(10, 8, 0, 4)
    with pytest.raises(ValueError, match="max_positions"):
        costs.bert_params(10, 8, 1, 0)
    with pytest.raises(ValueError, match="type_vocab_size"):
        costs.bert_params(10, 8, 1, 4, type_vocab_size=-1)
    with pytest.raises(TypeError, match="pooler"):
        costs.bert_params(10, 8, 1, 4, pooler=None)
    with pytest.raises(ValueError, match="fixed_cost"):
        costs.break_even_tokens(-1.0, 10.0, 0.5)
    with pytest.raises(ValueError, match="teacher_price_per_million"):
        costs.break_even_tokens(1.0, math.nan, 0.5)
    with pytest.raises(ValueError, match="student_price_per_million"):
        costs.break_even_tokens(1.0, 10.0, -0.5)
    with pytest.raises(ValueError, match="value_loss_per_million"):
        costs.break_even_tokens(1.0, 10.0, 0.5, math.inf)
    with pytest.raises(TypeError, match="fixed_cost"):
        costs.break_even_tokens("1", 10.0, 0.5)
    with pytest.raises(ValueError, match="training_tokens"):
        costs.distillation_cost(0, 10.0, 1.0)
    with pytest.raises(ValueError, match="student_training_cost"):
        costs.distillation_cost(1e9, 10.0, -1.0)
    with pytest.raises(ValueError, match="teacher_price_per_million"):
        costs.distillation_cost(1e9, -10.0, 1.0)
