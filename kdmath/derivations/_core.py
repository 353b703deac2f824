"""A derivation as a list of checked steps.

A :class:`Step` states ``lhs <relation> rhs`` in words and in symbols. ``verify``
asks sympy to decide each step and raises :class:`DerivationError` when one does
not hold, so a notebook cell (or a test) that calls it fails if the algebra is
wrong. A step that sympy cannot decide counts as failed: nothing is taken on trust.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import sympy as sp


class DerivationError(AssertionError):
    """A step of a derivation does not hold (or sympy could not show that it does)."""


def is_zero(expr: sp.Basic) -> bool:
    """True when sympy proves ``expr`` is identically zero (matrices elementwise)."""
    if isinstance(expr, sp.MatrixBase):
        return all(is_zero(e) for e in expr)
    expr = sp.expand(sp.sympify(expr).doit())
    if expr == 0:
        return True
    return sp.simplify(sp.together(expr)) == 0


@dataclass(frozen=True)
class Step:
    """One claim: ``lhs`` relates to ``rhs`` as ``relation`` says.

    relation:
      ``"="``  an identity (``lhs - rhs`` simplifies to 0; unevaluated ``Limit`` and
               ``Derivative`` objects are evaluated first),
      ``"~"``  a series: ``lhs`` equals ``rhs`` up to the ``Order`` term ``rhs`` carries,
      ``">="`` ``lhs - rhs`` is provably non-negative under the symbols' assumptions.
    """

    text: str
    lhs: sp.Basic
    rhs: sp.Basic
    relation: str = "="
    #: an equivalent, more readable (lhs, rhs) pair to display instead of the checked one
    shown: Optional[tuple] = None

    def holds(self) -> bool:
        if self.relation == "=":
            lhs, rhs = self.lhs, self.rhs
            if isinstance(lhs, sp.MatrixBase) or isinstance(rhs, sp.MatrixBase):
                return is_zero(sp.Matrix(lhs).applyfunc(lambda e: e.doit()) - sp.Matrix(rhs))
            lhs, rhs = lhs.doit(), rhs.doit()
            if rhs.is_infinite or lhs.is_infinite:  # oo - oo is nan, so compare the values themselves
                return lhs == rhs
            return is_zero(lhs - rhs)
        if self.relation == "~":
            order = self.rhs.getO()
            if order is None:
                raise DerivationError(f"series step {self.text!r} has no O() term on its right-hand side")
            (variable, point), = [(v, p) for v, p in zip(order.variables, order.point)]
            n = sp.degree(order.expr, variable)
            residual = self.lhs.doit() - self.rhs.removeO()
            leading = sp.series(residual, variable, point, n).removeO()
            return is_zero(leading)
        if self.relation == ">=":
            difference = sp.simplify(self.lhs.doit() - self.rhs.doit())
            return bool(difference.is_nonnegative)
        raise DerivationError(f"unknown relation {self.relation!r}")

    def latex(self) -> str:
        symbol = {"=": "=", "~": "=", ">=": r"\geq"}[self.relation]
        lhs, rhs = self.shown if self.shown is not None else (self.lhs, self.rhs)
        return f"{sp.latex(lhs)} {symbol} {sp.latex(rhs)}"


@dataclass
class Derivation:
    """A titled sequence of steps; ``verify()`` raises on the first that fails."""

    title: str
    steps: list[Step] = field(default_factory=list)

    def add(self, text: str, lhs, rhs, relation: str = "=", shown: Optional[tuple] = None) -> "Derivation":
        self.steps.append(Step(text, sp.sympify(lhs), sp.sympify(rhs), relation, shown))
        return self

    def verify(self) -> "Derivation":
        """Raise :class:`DerivationError` at the first step that does not hold; return self otherwise."""
        for number, step in enumerate(self.steps, start=1):
            try:
                ok = step.holds()
            except (NotImplementedError, ValueError, TypeError) as error:
                raise DerivationError(
                    f"{self.title}, step {number} ({step.text}): sympy could not decide it ({error})"
                ) from error
            if not ok:
                raise DerivationError(f"{self.title}, step {number} ({step.text}) does not hold: {step.latex()}")
        return self

    def show(self, only: Optional[list[int]] = None) -> None:
        """Display each step (its words, then its formula) in a notebook."""
        from IPython.display import Markdown, Math, display

        for number, step in enumerate(self.steps, start=1):
            if only is not None and number not in only:
                continue
            display(Markdown(f"**Step {number}.** {step.text}"))
            display(Math(step.latex()))

    def __repr__(self) -> str:
        # Short and deterministic: a notebook cell that ends in ``d.verify()`` shows this line.
        return f"Derivation({self.title!r}, {len(self.steps)} steps)"
