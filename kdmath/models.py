"""The networks of Hinton, Vinyals and Dean (2015), section 3: multilayer perceptrons on MNIST.

``MLP(hidden=(1200, 1200), dropout=0.5, input_dropout=0.2)`` maps a batch of images ``(B, 28, 28)``
or ``(B, 784)`` to ``K = 10`` logits through ReLU layers. The teacher of the paper uses dropout
(Hinton et al., 2012: 20% on the inputs, 50% on the hidden units) and a max-norm constraint on the
weights into each hidden unit, ``||w_j|| <= c``, enforced after every step by
:meth:`MLP.apply_max_norm`, which rescales each row of a weight matrix whose norm exceeds ``c``.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

__all__ = ["MLP"]


def _probability(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0.0 <= float(value) < 1.0):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")
    return float(value)


class MLP(nn.Module):
    """A ReLU multilayer perceptron with optional input and hidden dropout.

    Parameters
    ----------
    hidden:
        The widths of the hidden layers, e.g. ``(1200, 1200)``.
    inputs, classes:
        784 and 10 for MNIST.
    dropout, input_dropout:
        Dropout probabilities on the hidden units and on the input pixels.
    """

    def __init__(self, hidden=(800, 800), inputs: int = 784, classes: int = 10, dropout: float = 0.0, input_dropout: float = 0.0):
        super().__init__()
        if isinstance(hidden, (int, str)) or not hasattr(hidden, "__iter__"):
            raise TypeError(f"hidden must be a sequence of layer widths, got {type(hidden).__name__}")
        hidden = tuple(hidden)
        for width in (*hidden, inputs, classes):
            if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
                raise ValueError(f"hidden, inputs and classes must be positive integers, got {width!r}")
        self.hidden, self.inputs, self.classes = hidden, int(inputs), int(classes)
        self.dropout = _probability(dropout, "dropout")
        self.input_dropout = _probability(input_dropout, "input_dropout")
        widths = (self.inputs, *hidden, self.classes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))

    def forward(self, images: torch.Tensor, *, return_hidden: bool = False):
        """The logits ``(B, classes)``; with ``return_hidden`` also the list of the hidden layers' activations
        (after the ReLU, before dropout), one ``(B, width)`` tensor per hidden layer, first layer first."""
        x = images.reshape(images.shape[0], -1)
        if x.shape[1] != self.inputs:
            raise ValueError(f"images must have {self.inputs} pixels per example, got {x.shape[1]}")
        if self.input_dropout:
            x = nn.functional.dropout(x, self.input_dropout, self.training)
        hidden = []
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
            hidden.append(x)
            if self.dropout:
                x = nn.functional.dropout(x, self.dropout, self.training)
        logits = self.layers[-1](x)
        return (logits, hidden) if return_hidden else logits

    @torch.no_grad()
    def apply_max_norm(self, max_norm: float) -> None:
        """Rescale every weight row (the weights into one unit) whose norm exceeds ``max_norm``."""
        if isinstance(max_norm, bool) or not isinstance(max_norm, numbers.Real) or not math.isfinite(max_norm) or max_norm <= 0:
            raise ValueError(f"max_norm must be a finite number > 0, got {max_norm!r}")
        for layer in self.layers:
            norms = layer.weight.norm(dim=1, keepdim=True)
            layer.weight.mul_(torch.clamp(max_norm / norms.clamp_min(1e-12), max=1.0))

    def extra_repr(self) -> str:
        return f"hidden={self.hidden}, dropout={self.dropout}, input_dropout={self.input_dropout}"
