"""kdmath.diagnostics: agreement, calibration, wrong-class mass, confusion of soft targets, Hessian sharpness."""

from __future__ import annotations

import pytest
import torch

from kdmath import diagnostics
from kdmath.models import MLP


def test_top1_agreement_counts_equal_argmaxes():
    a = torch.tensor([[3.0, 1.0], [0.0, 2.0], [5.0, 4.0], [1.0, 0.0]])
    b = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    assert diagnostics.top1_agreement(a, b) == 0.5
    assert diagnostics.top1_agreement(a, a) == 1.0
    with pytest.raises(ValueError, match="same shape"):
        diagnostics.top1_agreement(a, b[:3])


def test_expected_calibration_error_by_hand():
    # two bins of 0.5: confidences 0.6 and 0.9 (bin 2), 0.55 (bin 2), 0.4 impossible for K = 2
    probabilities = torch.tensor([[0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.8, 0.2]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 1, 0])
    # all confidences lie in (0.5, 1]: one bin; accuracy 3/4, mean confidence (0.6 + 0.9 + 0.7 + 0.8)/4 = 0.75
    assert diagnostics.expected_calibration_error(probabilities, labels, bins=2) == pytest.approx(0.0, abs=1e-12)
    # ten bins: (0.6 right), (0.9 wrong), (0.7 right), (0.8 right): |1-0.6| + |0-0.9| + |1-0.7| + |1-0.8|, over 4
    expected = (0.4 + 0.9 + 0.3 + 0.2) / 4
    assert diagnostics.expected_calibration_error(probabilities, labels, bins=10) == pytest.approx(expected, abs=1e-12)
    # a perfectly confident, always right model is calibrated; a confident, always wrong one has ECE 1
    one_hot = torch.eye(3, dtype=torch.float64)
    assert diagnostics.expected_calibration_error(one_hot, torch.arange(3)) == 0.0
    assert diagnostics.expected_calibration_error(one_hot, torch.tensor([1, 2, 0])) == 1.0


def test_ece_of_a_calibrated_model_is_small():
    g = torch.Generator().manual_seed(0)
    probabilities = torch.softmax(2 * torch.randn(200_000, 4, generator=g, dtype=torch.float64), 1)
    labels = torch.multinomial(probabilities, 1, generator=g).squeeze(1)  # labels drawn from the model itself
    assert diagnostics.expected_calibration_error(probabilities, labels) < 0.01
    overconfident = torch.softmax(3 * torch.log(probabilities), 1)
    assert diagnostics.expected_calibration_error(overconfident, labels) > 0.05


def test_wrong_class_mass_and_mean_soft_targets():
    probabilities = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.5, 0.25, 0.25]], dtype=torch.float64)
    labels = torch.tensor([0, 1, 0])
    torch.testing.assert_close(diagnostics.wrong_class_mass(probabilities, labels),
                               torch.tensor([0.3, 0.2, 0.5], dtype=torch.float64))
    matrix = diagnostics.mean_soft_targets_by_class(probabilities, labels)
    torch.testing.assert_close(matrix[0], torch.tensor([0.6, 0.225, 0.175], dtype=torch.float64))
    torch.testing.assert_close(matrix[1], probabilities[1])
    assert torch.isnan(matrix[2]).all()  # no row of class 2


def test_bad_arguments_are_named():
    p = torch.full((2, 2), 0.5)
    with pytest.raises(ValueError, match="probabilities"):
        diagnostics.expected_calibration_error(torch.ones(2, 2), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        diagnostics.expected_calibration_error(p, torch.tensor([0, 2]))
    with pytest.raises(TypeError, match="labels"):
        diagnostics.wrong_class_mass(p, torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="bins"):
        diagnostics.expected_calibration_error(p, torch.tensor([0, 1]), bins=0)
    with pytest.raises(ValueError, match="parameters"):
        diagnostics.top_hessian_eigenvalue(lambda: torch.zeros(()), [torch.zeros(2)])


def test_top_hessian_eigenvalue_of_a_quadratic():
    # loss = x^T A x / 2 with A symmetric: the Hessian is A, whatever x
    g = torch.Generator().manual_seed(1)
    Q, _ = torch.linalg.qr(torch.randn(6, 6, generator=g, dtype=torch.float64))
    eigenvalues = torch.tensor([5.0, 2.0, 1.0, 0.5, 0.1, 0.0], dtype=torch.float64)
    A = Q @ torch.diag(eigenvalues) @ Q.T
    x = torch.randn(6, generator=g, dtype=torch.float64, requires_grad=True)
    top = diagnostics.top_hessian_eigenvalue(lambda: 0.5 * x @ A @ x, [x], iterations=200, tolerance=1e-12)
    assert top == pytest.approx(5.0, rel=1e-8)


def test_top_hessian_eigenvalue_of_a_network_matches_the_full_hessian():
    torch.manual_seed(0)
    model = MLP(hidden=(4,), inputs=3, classes=3).double().eval()
    g = torch.Generator().manual_seed(2)
    images = torch.randn(20, 3, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (20,), generator=g)
    parameters = list(model.parameters())
    shapes = [p.shape for p in parameters]
    sizes = [p.numel() for p in parameters]

    def loss_of(flat):
        pieces = torch.split(flat, sizes)
        weights = dict(zip([n for n, _ in model.named_parameters()], (v.view(s) for v, s in zip(pieces, shapes))))
        logits = torch.func.functional_call(model, weights, (images,))
        return torch.nn.functional.cross_entropy(logits, labels)

    flat = torch.cat([p.detach().flatten() for p in parameters])
    hessian = torch.autograd.functional.hessian(loss_of, flat)
    exact = torch.linalg.eigvalsh(hessian)
    largest = exact[exact.abs().argmax()].item()

    def loss_fn():
        return torch.nn.functional.cross_entropy(model(images), labels)

    top = diagnostics.top_hessian_eigenvalue(loss_fn, parameters, iterations=500, tolerance=1e-12)
    assert top == pytest.approx(largest, rel=1e-6)


def test_most_likely_wrong_class_skips_the_label():
    scores = torch.tensor([[5.0, 4.0, 1.0], [0.0, 3.0, 2.0], [1.0, 2.0, 9.0]])
    labels = torch.tensor([0, 2, 2])
    # row 0: classes 1, 2 remain, 1 is larger; row 1: the label's 2 is not the largest, still skipped
    assert diagnostics.most_likely_wrong_class(scores, labels).tolist() == [1, 1, 1]
    with pytest.raises(TypeError, match="scores"):
        diagnostics.most_likely_wrong_class(torch.ones(2, 3, dtype=torch.long), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="labels"):
        diagnostics.most_likely_wrong_class(scores, torch.tensor([0, 3, 1]))


def test_second_choice_agreement_image_against_label_guess():
    labels = torch.tensor([0, 0, 0, 1])
    # reference's wrong choices: 1, 1, 2 (label 0: the guess is 1) and 0 (label 1: the guess is 0)
    reference = torch.tensor([[9.0, 2.0, 1.0], [9.0, 3.0, 0.0], [9.0, 0.0, 4.0], [3.0, 9.0, 1.0]])
    # other's wrong choices: 1, 2, 2 and 2
    other = torch.tensor([[9.0, 5.0, 1.0], [9.0, 0.0, 1.0], [9.0, 1.0, 2.0], [0.0, 9.0, 1.0]])
    result = diagnostics.second_choice_agreement(reference, other, labels)
    assert result == {"image": 0.5, "label": 0.25}
    # a model compared with itself agrees on every image
    assert diagnostics.second_choice_agreement(reference, reference, labels)["image"] == 1.0
    with pytest.raises(ValueError, match="same shape"):
        diagnostics.second_choice_agreement(reference, other[:3], labels)


def test_second_choice_agreement_is_chance_for_unrelated_noise():
    generator = torch.Generator().manual_seed(0)
    n, K = 20_000, 10
    labels = torch.randint(0, K, (n,), generator=generator)
    reference, other = torch.randn(n, K, generator=generator), torch.randn(n, K, generator=generator)
    result = diagnostics.second_choice_agreement(reference, other, labels)
    # independent scores: both shares are about 1 / (K - 1); the image-by-image one has no edge
    assert abs(result["image"] - 1 / (K - 1)) < 0.01 and abs(result["label"] - 1 / (K - 1)) < 0.01
