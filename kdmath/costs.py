r"""Cost arithmetic for distillation: FLOPs, parameter counts, and when distilling pays off.

Plain numbers in, plain numbers out (no tensors). Conventions:

* a multiply-add counts as **2 FLOPs**, so a projection :math:`\mathbb{R}^{d_\mathrm{in}} \to
  \mathbb{R}^{d_\mathrm{out}}` applied to :math:`n` vectors costs
  :math:`2\, d_\mathrm{in} d_\mathrm{out}\, n` FLOPs (forward pass only; a backward pass costs
  about twice that again);
* a transformer layer of width :math:`d` with FFN width :math:`m d` has :math:`4d^2` attention
  weights (:math:`W_Q, W_K, W_V, W_O`) and :math:`2 m d^2` FFN weights, plus :math:`4d` and
  :math:`m d + d` biases and two layer norms of :math:`2d` parameters each when present;
* prices are in currency units per million tokens; the break-even volume is

  .. math::

      N^\ast = \frac{C_\mathrm{fixed}}{(c_\mathrm{teacher} - c_\mathrm{student} - v)/10^6}

  tokens, with :math:`v` the value lost per million tokens by serving the student, and
  :math:`N^\ast = \infty` when the net saving per token is not positive.
"""

from __future__ import annotations

import math
import numbers


def _positive_int(value: object, name: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def _real(value: object, name: str, *, allow_zero: bool = True) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be finite and {'>= 0' if allow_zero else '> 0'}, got {value}")
    return value


def projection_flops(d_in: int, d_out: int, n_vectors: int = 1) -> int:
    r"""Return :math:`2\, d_\mathrm{in}\, d_\mathrm{out}\, n`, the forward FLOPs of a linear map on ``n_vectors`` vectors.

    A multiply-add counts as two FLOPs; the bias (``d_out`` additions per vector) is not
    counted. All arguments are positive ints.
    """
    d_in = _positive_int(d_in, "d_in")
    d_out = _positive_int(d_out, "d_out")
    n_vectors = _positive_int(n_vectors, "n_vectors")
    return 2 * d_in * d_out * n_vectors


def transformer_layer_params(
    d_model: int, ffn_mult: int = 4, bias: bool = False, layer_norm: bool = False
) -> dict[str, int]:
    r"""Return the parameter counts of one transformer layer of width ``d_model``.

    ``"attention"``: :math:`4d^2` (:math:`W_Q, W_K, W_V, W_O`), plus :math:`4d` with ``bias``;
    ``"ffn"``: :math:`2\,d\,(m d)` for the two FFN matrices, plus :math:`m d + d` with ``bias``;
    ``"layer_norm"``: :math:`4d` (two layer norms, scale and shift) with ``layer_norm``, else 0;
    ``"total"``: their sum. ``m = ffn_mult`` is a positive number with ``m * d_model`` an integer.
    """
    d = _positive_int(d_model, "d_model")
    if isinstance(ffn_mult, bool) or not isinstance(ffn_mult, numbers.Real):
        raise TypeError(f"ffn_mult must be a real number, got {type(ffn_mult).__name__}")
    if not math.isfinite(ffn_mult) or ffn_mult <= 0:
        raise ValueError(f"ffn_mult must be finite and > 0, got {ffn_mult}")
    d_ff = ffn_mult * d
    if d_ff != int(d_ff):
        raise ValueError(f"ffn_mult * d_model must be an integer (the FFN width), got {d_ff}")
    d_ff = int(d_ff)
    for flag, name in ((bias, "bias"), (layer_norm, "layer_norm")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    attention = 4 * d * d + (4 * d if bias else 0)
    ffn = 2 * d * d_ff + (d_ff + d if bias else 0)
    norms = 4 * d if layer_norm else 0
    return {"attention": attention, "ffn": ffn, "layer_norm": norms, "total": attention + ffn + norms}


def bert_params(
    vocab_size: int,
    d_model: int,
    n_layers: int,
    max_positions: int,
    type_vocab_size: int = 2,
    ffn_mult: int = 4,
    pooler: bool = True,
) -> int:
    r"""Return the parameter count of a BERT-style encoder.

    Embeddings :math:`(V + P + V_\mathrm{type})\,d` plus their layer norm :math:`2d`; per
    layer :func:`transformer_layer_params` with biases and both layer norms; with ``pooler``
    a dense layer :math:`d^2 + d`. No output (language-model) head: in BERT its matrix is
    tied to the word embeddings. ``type_vocab_size=0`` means no token-type embedding.
    """
    V = _positive_int(vocab_size, "vocab_size")
    d = _positive_int(d_model, "d_model")
    n_layers = _positive_int(n_layers, "n_layers")
    P = _positive_int(max_positions, "max_positions")
    types = _positive_int(type_vocab_size, "type_vocab_size", allow_zero=True)
    if not isinstance(pooler, bool):
        raise TypeError(f"pooler must be a bool, got {type(pooler).__name__}")
    layer = transformer_layer_params(d, ffn_mult, bias=True, layer_norm=True)["total"]
    embeddings = (V + P + types) * d + 2 * d
    return embeddings + n_layers * layer + (d * d + d if pooler else 0)


def break_even_tokens(
    fixed_cost: float,
    teacher_price_per_million: float,
    student_price_per_million: float,
    value_loss_per_million: float = 0.0,
) -> float:
    r"""Return the tokens to serve before distilling pays for itself, or ``math.inf`` if it never does.

    :math:`N^\ast = C_\mathrm{fixed} / \big((c_t - c_s - v)/10^6\big)`: the fixed cost over the
    net saving per token of serving the student instead of the teacher, where
    ``value_loss_per_million`` (:math:`v`) prices the student's lower quality. When
    :math:`c_t - c_s - v \le 0` no volume recovers the fixed cost and the result is ``math.inf``.
    All arguments are finite and >= 0.
    """
    fixed_cost = _real(fixed_cost, "fixed_cost")
    teacher = _real(teacher_price_per_million, "teacher_price_per_million")
    student = _real(student_price_per_million, "student_price_per_million")
    loss = _real(value_loss_per_million, "value_loss_per_million")
    saving_per_million = teacher - student - loss
    if saving_per_million <= 0:
        return math.inf
    return fixed_cost / (saving_per_million / 1e6)


def distillation_cost(
    training_tokens: float, teacher_price_per_million: float, student_training_cost: float
) -> float:
    r"""Return :math:`N_\mathrm{train}\, c_t / 10^6 + C_\mathrm{student}`: teacher inference on the training set plus student training.

    ``training_tokens`` is positive; the price and the training cost are finite and >= 0.
    """
    tokens = _real(training_tokens, "training_tokens", allow_zero=False)
    teacher = _real(teacher_price_per_million, "teacher_price_per_million")
    training = _real(student_training_cost, "student_training_cost")
    return tokens * teacher / 1e6 + training
