"""Numbers as the book shows them: the same text on every machine.

A float computed on two machines can differ in its last digits (vector width, thread count, the
order of a sum), and a rounded value that sits near a rounding boundary flips to either side. So
every number a chapter prints or glues into its prose is rounded *in code*, to the digits its claim
needs, by :func:`fmt` or :func:`rounded`, and each call checks that the value is not within
``noise`` (relative) of a boundary of the format it is rounded to: for every ``x'`` with
``|x' - x| <= noise * |x|``,

.. math:: \\operatorname{format}(x', \\text{spec}) = \\operatorname{format}(x, \\text{spec}).

When that fails, a :class:`UnstableDigitsWarning` says so (the notebook's output then differs from
the stored one, so the test suite fails on the machine of the author, who chooses other digits).
``noise`` defaults to 1e-9 for Python and float64 numbers and to 64 units in the last place for
lower precisions (float32: about 7.6e-6). A quantity known to be ill-conditioned (a slope fitted
to differences of nearly equal numbers) passes a larger ``noise``; one computed by Python's float
arithmetic from exact inputs (counts, the numbers of a committed record) passes ``noise=0``:
IEEE arithmetic gives the same bits on every machine, so only a vectorised or threaded
computation can differ.

A rounding error's size is not a stable number at all: :func:`below` prints a bound instead.

:func:`glue` stores a value for the prose (``{glue:text}`name:.4f```), as myst-nb's ``glue`` does,
with the same output whether or not myst-nb is installed (it is not on Colab). A float must be
given the format the prose shows it with, so that only stable digits are stored.
"""

from __future__ import annotations

import decimal
import math
import numbers
import re
import warnings
from fractions import Fraction

__all__ = ["UnstableDigitsWarning", "rounded", "fmt", "below", "glue", "GLUE_PREFIX"]

GLUE_PREFIX = "application/papermill.record/"  # myst-nb's key for a glued value that is not displayed

_SPEC = re.compile(r"^(?P<align>[<>^]?)(?P<width>\d*)(?P<comma>,?)(?:\.(?P<digits>\d+))?(?P<type>[fe%g])$")
_DEFAULT_NOISE = 1e-9


class UnstableDigitsWarning(UserWarning):
    """A value sits within its noise of a rounding boundary: its printed digits depend on the machine."""


def _scalar(value, name: str = "value") -> tuple[float, float]:
    """``value`` as a Python float, and the default noise for its precision."""
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(value, "ndim", 0) != 0:
        raise TypeError(f"{name} must be a single number, got an array of shape {tuple(value.shape)}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) and dtype is None:
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    noise = _DEFAULT_NOISE
    if dtype is not None:
        eps = _machine_epsilon(dtype)
        if eps is not None:
            noise = max(noise, 64 * eps)
        value = value.item()
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number}")
    return number, noise


def _machine_epsilon(dtype) -> float | None:
    try:
        import torch

        if isinstance(dtype, torch.dtype):
            return torch.finfo(dtype).eps if dtype.is_floating_point else None
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    import numpy as np

    return float(np.finfo(dtype).eps) if np.issubdtype(dtype, np.floating) else None


def _parse_spec(spec) -> re.Match:
    if isinstance(spec, bool) or not isinstance(spec, (str, int)):
        raise TypeError(f"spec must be a format such as '.4f' or a number of decimals, got {type(spec).__name__}")
    if isinstance(spec, int):
        if spec < 0:
            raise ValueError(f"spec must be a non-negative number of decimals, got {spec}")
        spec = f".{spec}f"
    match = _SPEC.match(spec)
    if match is None:
        raise ValueError(f"spec must look like '.4f', '.2e', '.3g', 'g', '.1%' or ',.0f' (an optional width first), got {spec!r}")
    return match


def _text(number: float, spec: str) -> str:
    text = format(number, spec)
    # -0.0000 is 0.0000: the sign of a value that rounds to zero is rounding noise too.
    if text.lstrip().startswith("-") and not re.search(r"[1-9]", text.split("e")[0]):
        text = format(0.0, spec)
    return text


def _checked_text(value, spec, noise, name: str) -> str:
    match = _parse_spec(spec)
    spec = match.group(0)
    number, default_noise = _scalar(value, name)
    noise = default_noise if noise is None else noise
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not 0 <= noise < 1:
        raise ValueError(f"noise must be a relative size in [0, 1), got {noise!r}")
    text = _text(number, spec)
    margin = noise * abs(number)
    if margin > 0 and {_text(number - margin, spec), _text(number + margin, spec)} != {text}:
        warnings.warn(
            f"{name} = {number!r} lies within {noise:g} (relative) of a rounding boundary of format {spec!r}: "
            f"its printed digits can differ between machines; show fewer or more digits",
            UnstableDigitsWarning,
            stacklevel=3,
        )
    return text


def rounded(value, spec=".4f", *, noise: float | None = None):
    """``value`` rounded to the digits of ``spec`` (a format such as ``'.4f'``, or a number of decimals).

    Returns the number whose shortest text is those digits: ``rounded(0.97809, '.3f') == 0.978``,
    ``rounded(0.9781, '.1%') == 0.978``, ``rounded(12345.6, ',.0f') == 12346``. Warns
    (:class:`UnstableDigitsWarning`) when ``value`` is within ``noise`` of a rounding boundary.
    """
    match = _parse_spec(spec)
    text = _checked_text(value, spec, noise, "value").strip().replace(",", "")
    if match.group("type") == "%":
        return float(decimal.Decimal(text[:-1]) / 100)
    if match.group("type") == "f" and match.group("digits") == "0":  # no decimals: a whole number
        return int(decimal.Decimal(text))
    return float(text)


def fmt(values, spec=4, *, noise: float | None = None, brackets: str = "[]") -> str:
    """A number, or a sequence of numbers, as text rounded to ``spec`` (decimals, or a format).

    ``fmt(0.97809, 3) == '0.978'``; ``fmt([0.5, -1e-9], 2) == '[0.50, 0.00]'``. A sequence (any
    iterable of numbers, a NumPy array, a tensor; arrays are flattened) is written between
    ``brackets``; each element is checked as :func:`rounded` checks a value.
    """
    if not isinstance(brackets, str) or len(brackets) != 2:
        raise ValueError(f"brackets must be two characters such as '[]', got {brackets!r}")
    if getattr(values, "ndim", 0) > 0:  # an array or a tensor
        items = list(values.reshape(-1))
    elif getattr(values, "dtype", None) is None and not isinstance(values, numbers.Real) and _iterable(values):
        items = list(values)
    else:
        return _checked_text(values, spec, noise, "values")
    body = ", ".join(_checked_text(v, spec, noise, "an element of values") for v in items)
    return brackets[0] + body + brackets[1]


def _iterable(values) -> bool:
    if isinstance(values, (str, bytes)):
        return False
    try:
        iter(values)
    except TypeError:
        return False
    return True


def below(value, bound, *, otherwise: str | None = None) -> str:
    """The text ``'below <bound>'``, after checking that ``|value| < bound``.

    For the size of a rounding error, or of a discrepancy that should vanish: its digits change
    from machine to machine, its bound does not. When ``|value| >= bound`` this raises
    ``AssertionError``; with ``otherwise`` (a format, as for :func:`fmt`) it returns the value in
    that format instead, for evidence that reports a failed check.
    """
    number, _ = _scalar(value)
    limit, _ = _scalar(bound, "bound")
    if limit <= 0:
        raise ValueError(f"bound must be positive, got {limit}")
    if abs(number) < limit:
        return f"below {limit:g}"
    if otherwise is None:
        raise AssertionError(f"|{number!r}| is not below {limit:g}")
    return fmt(number, otherwise)


def _plain(value, spec, name, noise=None):
    """What glue stores: a rounded float, an int, or the value itself when it is text or exact."""
    if isinstance(value, (str, bool)) or value is None or (isinstance(value, Fraction) and spec is None):
        return value
    dtype = getattr(value, "dtype", None)
    if dtype is not None and getattr(value, "ndim", 0) == 0 and _machine_epsilon(dtype) is None:
        value = value.item()
    if isinstance(value, numbers.Integral) and spec is None:
        return int(value)
    if isinstance(value, numbers.Real) or dtype is not None:
        if spec is None:
            raise ValueError(
                f"glue({name!r}): a float needs the format the prose shows it with, e.g. glue({name!r}, x, '.4f'), "
                "so that only the digits that read the same on every machine are stored"
            )
        return rounded(value, spec, noise=noise)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v, spec, name, noise) for v in value)
    return value


def glue(name: str, value, spec=None, *, noise: float | None = None, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the prose (``{glue:text}`name```), as myst-nb's ``glue`` does.

    A float (or a float tensor or array with one element) is first rounded to ``spec`` by
    :func:`rounded` (with its ``noise``); ints, text, fractions and lists of them are stored as
    they are. With
    ``display=False`` (the default) nothing is shown in the notebook, as in the built book.
    Uses myst-nb's ``glue`` when it is installed and writes the same output itself when it is not
    (through IPython's display, so in a notebook kernel).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if not isinstance(display, bool):
        raise TypeError(f"display must be True or False, got {type(display).__name__}")
    plain = _plain(value, spec, name, noise)
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        myst_glue = None
    if myst_glue is not None:
        myst_glue(name, plain, display=display)
        return
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipython_display

    bundle, metadata = format_display_data(plain)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipython_display({prefix + key: data for key, data in bundle.items()}, raw=True, metadata=metadata)
