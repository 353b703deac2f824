"""Symbolic derivations of the book, each a :class:`Derivation` whose ``verify()`` fails if the algebra is wrong.

One module per chapter:

* :mod:`~kdmath.derivations.temperature` (chapter 1),
* :mod:`~kdmath.derivations.soft_gradient` (chapter 2),
* :mod:`~kdmath.derivations.high_temperature` (chapter 3),
* :mod:`~kdmath.derivations.zero_temperature` (chapter 4).

:func:`verify_for` verifies a derivation for several numbers of classes ``K`` and displays what it
checked. ``kdmath.derivations.symbols`` holds the shared symbols (``T``, ``eps`` = 1/T, ``beta`` = 1/T,
``alpha``) and helpers that build logit vectors and softmax expressions.
"""

from . import high_temperature, soft_gradient, temperature, zero_temperature
from . import general_gradients
from . import _symbols as symbols
from . import general_limits
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
]
