"""kdmath.convnet: the shapes, the stages it returns, its argument checks, and that the trainer can train it."""

from __future__ import annotations

import pytest
import torch

from kdmath.convnet import MNIST_MEAN, MNIST_STD, ConvNet
from kdmath.trainer import TrainConfig, train


def test_logits_and_stages_have_their_shapes():
    torch.manual_seed(0)
    model = ConvNet((4, 6), classes=7)
    images = torch.rand(5, 28, 28)
    logits, hidden = model(images, return_hidden=True)
    assert tuple(logits.shape) == (5, 7)
    assert [tuple(h.shape) for h in hidden] == [(5, 4, 28, 28), (5, 6, 14, 14)]
    _, three = ConvNet((2, 3, 5))(images, return_hidden=True)
    assert [tuple(h.shape) for h in three] == [(5, 2, 28, 28), (5, 3, 14, 14), (5, 5, 7, 7)]


def test_the_returned_stages_are_the_activations_after_the_relu_and_before_the_pooling():
    torch.manual_seed(0)
    model = ConvNet((4, 6))
    images = torch.rand(3, 28, 28)
    logits, hidden = model(images, return_hidden=True)
    assert torch.equal(logits, model(images))
    assert torch.equal(logits, model(images.unsqueeze(1)))  # (B, 1, H, W) is the same images
    standardised = (images.unsqueeze(1) - MNIST_MEAN) / MNIST_STD
    first = torch.relu(model.convs[0](standardised))
    torch.testing.assert_close(hidden[0], first)
    second = torch.relu(model.convs[1](torch.nn.functional.max_pool2d(first, 2)))
    torch.testing.assert_close(hidden[1], second)
    pooled = torch.nn.functional.max_pool2d(second, 2).mean(dim=(2, 3))
    torch.testing.assert_close(logits, model.head(pooled))


def test_the_weights_follow_the_global_seed():
    torch.manual_seed(3)
    a = ConvNet((4, 6))
    torch.manual_seed(3)
    b = ConvNet((4, 6))
    torch.manual_seed(4)
    c = ConvNet((4, 6))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.convs[0].weight, c.convs[0].weight)
    assert all(bool((conv.bias == 0).all()) for conv in a.convs)


def test_bad_arguments_are_refused_by_name():
    with pytest.raises(TypeError, match="channels"):
        ConvNet(8)
    with pytest.raises(ValueError, match="channels"):
        ConvNet(())
    with pytest.raises(ValueError, match="channels"):
        ConvNet((4, 0))
    with pytest.raises(ValueError, match="classes"):
        ConvNet((4,), classes=0)
    model = ConvNet((4, 6))
    with pytest.raises(ValueError, match="images"):
        model(torch.rand(2, 3, 28, 28))  # three colour channels
    with pytest.raises(ValueError, match="images"):
        model(torch.rand(2, 3, 3))  # two poolings need at least 4x4 pixels
    with pytest.raises(TypeError, match="images"):
        model([[0.0]])


def test_the_trainer_trains_it():
    """Images whose class is whether the bright square is in the top or the bottom half: a few epochs separate them."""
    generator = torch.Generator().manual_seed(0)
    n = 200
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = 0.1 * torch.rand(n, 12, 12, generator=generator)
    columns = torch.randint(0, 9, (n,), generator=generator)
    for i in range(n):
        top = 1 if labels[i] == 0 else 7
        images[i, top:top + 4, columns[i]:columns[i] + 4] = 1.0
    torch.manual_seed(0)
    model = ConvNet((4, 8), classes=2)
    history = train(model, images, labels, TrainConfig(epochs=4, batch_size=20, lr=0.05), test_images=images,
                    test_labels=labels, progress=False)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.test_errors[-1] < 0.1 * n
