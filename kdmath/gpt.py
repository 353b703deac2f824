r"""A small causal transformer language model (GPT), pre-norm, written for clarity.

Token ids :math:`x_1, \dots, x_L` (:math:`L \le` ``context``) become the residual stream

.. math::

    h^{(0)}_i = E[x_i] + P[i], \qquad
    a^{(l)} = h^{(l-1)} + \mathrm{Attn}_l\big(\mathrm{LN}(h^{(l-1)})\big), \qquad
    h^{(l)} = a^{(l)} + \mathrm{MLP}_l\big(\mathrm{LN}(a^{(l)})\big),

for :math:`l = 1, \dots, n_\text{layer}`, and the logits over the :math:`K = V` tokens of the vocabulary are
:math:`z_i = W_\text{head}\,\mathrm{LN}(h^{(n_\text{layer})}_i)`, with :math:`W_\text{head} = E` when the
embeddings are tied. Attention is causal multi-head attention,
:math:`\mathrm{softmax}\big(QK^\top/\sqrt{d_\text{head}} + M\big)V` with :math:`M_{ij} = -\infty` for
:math:`j > i`, so :math:`z_i` depends on :math:`x_1, \dots, x_i` only and predicts :math:`x_{i+1}`. The MLP is
:math:`W_2\,\mathrm{GELU}(W_1 u + b_1) + b_2` with hidden width ``d_ff`` (:math:`4 d_\text{model}` by
default).

Weights are drawn from an explicit ``torch.Generator`` (GPT-2's scheme): every weight matrix and embedding
from :math:`\mathcal N(0, 0.02^2)`, the two projections that write into the residual stream with the standard
deviation scaled by :math:`1/\sqrt{2 n_\text{layer}}` (so the stream's variance does not grow with depth),
biases zero, LayerNorm gains one and shifts zero.

:func:`sample` draws continuations autoregressively at temperature ``T`` (optionally from the ``top_k`` most
likely tokens only), feeding the model the last ``context`` tokens at each step.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ._checks import check_temperature

__all__ = ["GPT", "GPTConfig", "sample"]


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class GPTConfig:
    """The shape of a :class:`GPT`: vocabulary size, context length, depth, heads and widths."""

    vocab_size: int
    context: int = 64
    n_layer: int = 2
    n_head: int = 2
    d_model: int = 64
    d_ff: int | None = None  # None: 4 * d_model
    dropout: float = 0.0
    tie_embeddings: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "context", "n_layer", "n_head", "d_model"):
            _positive_int(getattr(self, name), name)
        if self.d_ff is not None:
            _positive_int(self.d_ff, "d_ff")
        if self.d_model % self.n_head:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_head ({self.n_head})")
        dropout = self.dropout
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        if not isinstance(self.tie_embeddings, bool):
            raise TypeError(f"tie_embeddings must be a bool, got {type(self.tie_embeddings).__name__}")

    @property
    def hidden_width(self) -> int:
        """The MLP's hidden width: ``d_ff``, or ``4 * d_model`` when ``d_ff`` is None."""
        return self.d_ff if self.d_ff is not None else 4 * self.d_model


class CausalSelfAttention(nn.Module):
    """Multi-head attention in which each position attends to itself and earlier positions only."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.dropout = config.n_head, config.dropout
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.proj = nn.Linear(config.d_model, config.d_model)  # writes into the residual stream

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, L, d = x.shape
        q, k, v = (
            t.view(B, L, self.n_head, d // self.n_head).transpose(1, 2) for t in self.qkv(x).split(d, dim=-1)
        )
        attended = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True
        )
        return self.proj(attended.transpose(1, 2).reshape(B, L, d))


class Block(nn.Module):
    """One pre-norm transformer block: ``h + Attn(LN(h))``, then ``a + MLP(LN(a))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_attention = nn.LayerNorm(config.d_model)
        self.attention = CausalSelfAttention(config)
        self.ln_mlp = nn.LayerNorm(config.d_model)
        self.fc = nn.Linear(config.d_model, config.hidden_width)
        self.proj = nn.Linear(config.hidden_width, config.d_model)  # writes into the residual stream
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        a = h + self.dropout(self.attention(self.ln_attention(h)))
        return a + self.dropout(self.proj(F.gelu(self.fc(self.ln_mlp(a)))))


class GPT(nn.Module):
    """A causal transformer language model; see the module docstring for the equations.

    Parameters
    ----------
    config:
        A :class:`GPTConfig`.
    generator:
        The random source of the initial weights; ``None`` means ``torch.Generator().manual_seed(0)``
        (deterministic; the global RNG is never used for the weights). Dropout, when ``config.dropout > 0``,
        draws from torch's global RNG, as ``torch.nn.functional.dropout`` offers no generator.
    """

    def __init__(self, config: GPTConfig, *, generator: torch.Generator | None = None):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise TypeError(f"config must be a GPTConfig, got {type(config).__name__}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.position_embedding = nn.Embedding(config.context, config.d_model)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_final = nn.LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        if config.tie_embeddings:
            self.head.weight = self.token_embedding.weight
        self._initialise(generator if generator is not None else torch.Generator().manual_seed(0))

    @torch.no_grad()
    def _initialise(self, generator: torch.Generator) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        # named_parameters lists a tied weight once, so it is drawn once; the module tree fixes the order.
        for name, parameter in self.named_parameters():
            if name.endswith("bias"):
                parameter.zero_()
            elif name.startswith("ln_") or ".ln_" in name:
                parameter.fill_(1.0)
            else:
                std = residual_std if name.endswith("proj.weight") else 0.02
                # Drawn where the generator lives: a CPU generator gives the same weights whatever device
                # the model is later moved to.
                draw = torch.empty(parameter.shape, device=generator.device).normal_(
                    0.0, std, generator=generator
                )
                parameter.copy_(draw)

    def forward(
        self, ids: torch.Tensor, *, return_hidden: bool = False, last_only: bool = False, head: bool = True
    ):
        """Logits ``(B, L, V)`` for ids ``(B, L)``; with ``return_hidden`` also the residual stream.

        The residual stream is a list of ``n_layer + 1`` tensors ``(B, L, d_model)``: after the embedding
        and after each block (before the final LayerNorm). ``last_only=True`` returns the logits of the last
        position only, ``(B, 1, V)``, skipping the head's work on the others (what sampling needs).
        ``head=False`` returns the final hidden states ``(B, L, d_model)`` (after the final LayerNorm)
        in place of the logits, which are those times ``self.head.weight`` transposed: what
        :func:`kdmath.linear_kd_loss` takes, so that the ``(B, L, V)`` logits are never held.
        """
        if (
            not isinstance(ids, torch.Tensor)
            or ids.is_floating_point()
            or ids.is_complex()
            or ids.dtype == torch.bool
        ):
            raise TypeError(
                f"ids must be an integer tensor of token ids, got {getattr(ids, 'dtype', type(ids))}"
            )
        if ids.dim() != 2 or ids.shape[1] < 1:
            raise ValueError(f"ids must have shape (B, L) with L >= 1, got {tuple(ids.shape)}")
        if ids.shape[1] > self.config.context:
            raise ValueError(
                f"ids has {ids.shape[1]} positions, more than the context of {self.config.context}"
            )
        positions = torch.arange(ids.shape[1], device=ids.device)
        h = self.embedding_dropout(self.token_embedding(ids) + self.position_embedding(positions))
        hidden = [h]
        for block in self.blocks:
            h = block(h)
            hidden.append(h)
        if not isinstance(head, bool):
            raise TypeError(f"head must be a bool, got {type(head).__name__}")
        final = self.ln_final(h[:, -1:] if last_only else h)
        output = self.head(final) if head else final
        return (output, hidden) if return_hidden else output

    def num_parameters(self) -> int:
        """The number of trainable numbers; a tied embedding/head matrix counts once."""
        return sum(parameter.numel() for parameter in self.parameters())


@torch.no_grad()
def sample(
    model: GPT,
    prompt: torch.Tensor,
    new_tokens: int,
    *,
    T: float = 1.0,
    generator: torch.Generator | None = None,
    top_k: int | None = None,
    greedy: bool = False,
) -> torch.Tensor:
    """Continue each prompt ``(B, P)`` by ``new_tokens`` tokens; returns ``(B, P + new_tokens)``.

    Each new token is drawn from ``softmax(z / T)`` of the model's last-position logits (restricted to the
    ``top_k`` largest when given) with ``generator``, which is required unless ``greedy``; ``greedy=True``
    takes the argmax instead (the ``T -> 0`` limit; ``T = 0`` itself is rejected). The model sees the last
    ``context`` tokens at each step and runs in evaluation mode; its training flag is restored afterwards.
    """
    if not isinstance(model, GPT):
        raise TypeError(f"model must be a GPT, got {type(model).__name__}")
    if not isinstance(prompt, torch.Tensor) or prompt.is_floating_point() or prompt.dtype == torch.bool:
        raise TypeError(
            f"prompt must be an integer tensor of token ids, got {getattr(prompt, 'dtype', type(prompt))}"
        )
    if prompt.dim() != 2 or prompt.shape[1] < 1:
        raise ValueError(f"prompt must have shape (B, P) with P >= 1, got {tuple(prompt.shape)}")
    if isinstance(new_tokens, bool) or not isinstance(new_tokens, numbers.Integral) or new_tokens < 0:
        raise ValueError(f"new_tokens must be a non-negative integer, got {new_tokens!r}")
    T = check_temperature(T)
    if not isinstance(greedy, bool):
        raise TypeError(f"greedy must be a bool, got {type(greedy).__name__}")
    if not greedy and not isinstance(generator, torch.Generator):
        raise TypeError(
            "generator must be a torch.Generator (sampling is seeded explicitly); or pass greedy=True"
        )
    if top_k is not None:
        top_k = _positive_int(top_k, "top_k")
    was_training = model.training
    model.eval()
    try:
        ids = prompt
        for _ in range(new_tokens):
            logits = model(ids[:, -model.config.context :], last_only=True)[:, -1, :].float()
            if greedy:
                token = logits.argmax(-1, keepdim=True)
            else:
                logits = logits / T
                if top_k is not None and top_k < logits.shape[-1]:
                    kth_largest = logits.topk(top_k, dim=-1).values[:, -1:]
                    logits = logits.masked_fill(logits < kth_largest, float("-inf"))
                token = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)
            ids = torch.cat([ids, token.to(ids.dtype)], dim=1)
    finally:
        model.train(was_training)
    return ids
