"""kdmath: the tested library behind *kdbook*, an executable textbook on knowledge distillation.

Notation (the book's notation page): student logits ``z_s``, teacher logits ``z_t``,
temperature ``T``, ``K`` classes, teacher soft targets ``p = softmax(z_t / T)``,
student soft predictions ``q = softmax(z_s / T)``, and ``alpha`` weighting the soft term.
"""

from . import conventions, costs, data, divergences, features, theory, vocab
from .gradients import kd_grad
from .fused import linear_kd_loss
from .losses import hard_cross_entropy, kd_loss, kl_divergence, soft_cross_entropy
from .softmax import entropy_t, entropy_t_dT, log_softmax_t, logits_for, softmax_t, softmax_t_jacobian

__version__ = "0.1.0"

__all__ = [
    "softmax_t",
    "logits_for",
    "log_softmax_t",
    "softmax_t_jacobian",
    "entropy_t",
    "entropy_t_dT",
    "kd_loss",
    "linear_kd_loss",
    "kd_grad",
    "kl_divergence",
    "soft_cross_entropy",
    "hard_cross_entropy",
    "conventions",
    "costs",
    "data",
    "divergences",
    "features",
    "theory",
    "vocab",
    "__version__",
]
