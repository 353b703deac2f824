r"""A small convolutional network for MNIST, whose stages give the spatial maps of attention transfer.

``ConvNet(channels=(16, 32), classes=10)`` maps a batch of images ``(B, 28, 28)`` or ``(B, 1, 28, 28)`` to
``classes`` logits. Stage :math:`k` (``k = 1 .. len(channels)``) is

.. math::

    A^{(k)} = \mathrm{ReLU}\bigl(W_k * x^{(k-1)} + b_k\bigr), \qquad
    x^{(k)} = \mathrm{maxpool}_{2\times 2}\bigl(A^{(k)}\bigr),

with :math:`W_k` a 3x3 convolution with padding 1 from :math:`C_{k-1}` to :math:`C_k` channels
(:math:`C_0 = 1`; :math:`x^{(0)} = (x - \mu) / \sigma`, the image standardised with MNIST's pixel mean
:math:`\mu = 0.1307` and standard deviation :math:`\sigma = 0.3081` over the training set), so a stage keeps
the spatial size and the pooling halves it (rounding down): 28x28, then 14x14, then 7x7. The logits are a
linear map of the global average of the last stage's output over its positions,
:math:`z = V\,\frac{1}{H W}\sum_{i,j} x^{(K)}_{:, i, j} + c`.

The convolutions' weights are drawn from He et al.'s (2015) normal distribution,
:math:`\mathcal N(0, 2 / (9 C_{k-1}))`, with zero biases, as in Zagoruyko and Komodakis's code; the linear
layer has PyTorch's default initialisation.

The activations :math:`A^{(k)}` (after the ReLU, before the pooling) are what
:meth:`ConvNet.forward` returns with ``return_hidden=True``: the maps :math:`A \in \mathbb{R}^{C \times H
\times W}` from which Zagoruyko and Komodakis (2017) build their spatial attention maps
(:func:`kdmath.features.spatial_attention_map`). The weights are drawn from torch's global generator, so seeding
it (as :func:`kdmath.trainer.train`'s callers do) makes them reproducible.
"""

from __future__ import annotations

import numbers

import torch
from torch import nn

__all__ = ["ConvNet"]

# The training images' pixel mean and standard deviation (in [0, 1]): with the He initialisation below, standardised
# inputs take a small network off the initial plateau of the loss in a few hundred steps instead of thousands.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class ConvNet(nn.Module):
    """Stages of conv3x3 (padding 1) + ReLU + 2x2 max-pool, then global average pooling and a linear layer.

    Parameters
    ----------
    channels:
        The output channels of the stages, e.g. ``(16, 32)``: one stage per entry.
    classes:
        10 for MNIST.
    """

    def __init__(self, channels=(16, 32), classes: int = 10):
        super().__init__()
        if isinstance(channels, (int, str)) or not hasattr(channels, "__iter__"):
            raise TypeError(f"channels must be a sequence of channel counts, got {type(channels).__name__}")
        channels = tuple(channels)
        if not channels:
            raise ValueError("channels must hold at least one stage's channel count")
        for count in (*channels, classes):
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 1:
                raise ValueError(f"channels and classes must be positive integers, got {count!r}")
        self.channels, self.classes = tuple(int(c) for c in channels), int(classes)
        inputs = (1, *self.channels[:-1])
        self.convs = nn.ModuleList(nn.Conv2d(a, b, kernel_size=3, padding=1) for a, b in zip(inputs, self.channels))
        for conv in self.convs:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        self.head = nn.Linear(self.channels[-1], self.classes)

    def forward(self, images: torch.Tensor, *, return_hidden: bool = False):
        """The logits ``(B, classes)``; with ``return_hidden`` also the list of each stage's activations after its
        ReLU and before its pooling, one ``(B, C_k, H_k, W_k)`` tensor per stage, first stage first."""
        if not isinstance(images, torch.Tensor):
            raise TypeError(f"images must be a torch.Tensor, got {type(images).__name__}")
        if images.dim() == 3:
            images = images.unsqueeze(1)
        if images.dim() != 4 or images.shape[1] != 1:
            raise ValueError(f"images must have shape (B, H, W) or (B, 1, H, W), got {tuple(images.shape)}")
        minimum = 2 ** len(self.channels)  # every pooling must leave at least one position
        if images.shape[2] < minimum or images.shape[3] < minimum:
            raise ValueError(f"images must be at least {minimum}x{minimum} pixels for {len(self.channels)} stages, "
                             f"got {tuple(images.shape[2:])}")
        x, hidden = (images - MNIST_MEAN) / MNIST_STD, []
        for conv in self.convs:
            x = torch.relu(conv(x))
            hidden.append(x)
            x = nn.functional.max_pool2d(x, 2)
        logits = self.head(x.mean(dim=(2, 3)))
        return (logits, hidden) if return_hidden else logits

    def extra_repr(self) -> str:
        return f"channels={self.channels}, classes={self.classes}"
