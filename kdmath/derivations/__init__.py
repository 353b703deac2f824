"""Symbolic derivations of the book, each a :class:`Derivation` whose ``verify()`` fails if the algebra is wrong.

One module per chapter:

* :mod:`~kdmath.derivations.temperature` (chapter 1),
* :mod:`~kdmath.derivations.soft_gradient` (chapter 2),
* :mod:`~kdmath.derivations.high_temperature` (chapter 3),
* :mod:`~kdmath.derivations.zero_temperature` (chapter 4).

The same results for a symbolic number of classes ``K`` (every K, not examples):

* :mod:`~kdmath.derivations.general_gradients`: the Jacobian, the soft-target and combined
  gradients, and the entropy derivative;
* :mod:`~kdmath.derivations.general_limits`: the second-order high-temperature expansion, the
  :math:`T^2`-scaled KL limit, and the zero-temperature limit with tied maxima;
* :mod:`~kdmath.derivations.divergences`: the generalised Jensen-Shannon divergence for small
  :math:`\beta` (its weight on the teacher) and its bound at :math:`\beta = 1/2`, and the forward and
  reverse KL to second order.

:func:`verify_for` verifies a derivation for several numbers of classes ``K`` and displays what it
checked. ``kdmath.derivations.symbols`` holds the shared symbols (``T``, ``eps`` = 1/T, ``beta`` = 1/T,
``alpha``) and helpers that build logit vectors and softmax expressions.
"""

from . import (
    divergences,
    general_gradients,
    general_limits,
    high_temperature,
    soft_gradient,
    temperature,
    zero_temperature,
)
from . import _symbols as symbols
from ._core import Derivation, DerivationError, Step, Verification, verify_for

__all__ = [
    "Derivation",
    "DerivationError",
    "Step",
    "Verification",
    "verify_for",
    "symbols",
    "temperature",
    "soft_gradient",
    "high_temperature",
    "zero_temperature",
    "general_limits",
    "general_gradients",
    "divergences",
]
