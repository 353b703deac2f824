"""A derivation as a list of checked steps.

A :class:`Step` states ``lhs <relation> rhs`` in words and in symbols. ``verify``
asks sympy to decide each step and raises :class:`DerivationError` when one does
not hold, so a notebook cell (or a test) that calls it fails if the algebra is
wrong. A step that sympy cannot decide counts as failed: nothing is taken on trust.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

import sympy as sp

from ._symbols import K as K_SYMBOL


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
      ``"~"``  a series: ``lhs`` equals ``rhs`` up to the ``Order`` term ``rhs`` carries
               (for vectors and matrices, entry by entry),
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
            if isinstance(self.lhs, sp.MatrixBase) or isinstance(self.rhs, sp.MatrixBase):
                lhs, rhs = sp.Matrix(self.lhs), sp.Matrix(self.rhs)
                if lhs.shape != rhs.shape:
                    raise DerivationError(f"series step {self.text!r} compares shapes {lhs.shape} and {rhs.shape}")
                return all(Step(self.text, l, r, "~").holds() for l, r in zip(lhs, rhs))
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
        return f"{sp.latex(_braced(lhs))} {symbol} {sp.latex(_braced(rhs))}"


def _braced(side):
    """``side`` with display-only names that hold LaTeX (``\\sum_i q_i z_i``) wrapped in braces.

    sympy's LaTeX printer reads the underscores in such a name as its own subscripts and garbles
    it; in braces it prints the name as written. Names that already hold braces print correctly.
    """
    side = sp.sympify(side)
    if not isinstance(side, sp.Basic):
        return side
    names = {
        s: sp.Symbol("{" + s.name + "}", **s.assumptions0)
        for s in side.free_symbols
        if isinstance(s, sp.Symbol) and "\\" in s.name and "{" not in s.name
    }
    return side.xreplace(names) if names else side


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
        """Display each step (its words, then its formula) in a notebook.

        Consecutive steps that say the same thing are shown under one heading ("Steps 2–4."), so
        each sentence appears once.
        """
        from IPython.display import Markdown, Math, display

        if only is not None:
            unknown = [n for n in only if not (isinstance(n, int) and 1 <= n <= len(self.steps))]
            if unknown:
                raise ValueError(f"only names steps {unknown} that {self.title!r} does not have (1..{len(self.steps)})")
        numbered = [(n, s) for n, s in enumerate(self.steps, start=1) if only is None or n in only]
        groups: list[list[tuple[int, Step]]] = []
        for number, step in numbered:
            if groups and groups[-1][-1][1].text == step.text and groups[-1][-1][0] == number - 1:
                groups[-1].append((number, step))
            else:
                groups.append([(number, step)])
        for group in groups:
            first, last = group[0][0], group[-1][0]
            heading = f"Step {first}." if first == last else f"Steps {first}–{last}."
            display(Markdown(f"**{heading}** {group[0][1].text}"))
            for _, step in group:
                display(Math(step.latex()))

    def summary(self) -> str:
        """What ``verify()`` decides for this derivation, in words: how many steps, of which kind."""
        kinds = {"=": "identity", "~": "series expansion", ">=": "inequality"}
        counts: dict[str, int] = {}
        for step in self.steps:
            counts[kinds[step.relation]] = counts.get(kinds[step.relation], 0) + 1
        parts = [f"{n} {kind if n == 1 else _plural(kind)}" for kind, n in counts.items()]
        return ", ".join(parts)

    def __repr__(self) -> str:
        # Short and deterministic: a notebook cell that ends in ``d.verify()`` shows this line.
        return f"Derivation({self.title!r}, {len(self.steps)} steps)"


def _plural(kind: str) -> str:
    return {"identity": "identities", "series expansion": "series expansions", "inequality": "inequalities"}[kind]


_METHOD = {
    "=": "sympy simplifies the difference of the two sides to 0 (limits and derivatives evaluated first)",
    "~": "the series of the difference vanishes up to the order of the O() term",
    ">=": "sympy proves the difference non-negative from the symbols' assumptions",
}


@dataclass(frozen=True)
class Verification:
    """The record of :func:`verify_for`: which derivation was checked, for which K, and how.

    In a notebook it displays as one line, so that the page says what the machine established.
    """

    title: str
    Ks: tuple
    steps: int
    kinds: str
    relations: tuple = ()
    #: the derivation's number of classes is a sympy symbol ``K``: it holds for every K
    symbolic_K: bool = False
    #: how many steps say in their text that they rest on a stated rule that sympy does not check
    stated_rules: int = 0

    def _repr_markdown_(self) -> str:
        if self.Ks:
            cases = "K = " + ", ".join(str(K) for K in self.Ks)
        else:
            cases = "every K (K is a sympy symbol)" if self.symbolic_K else "the case written out"
        steps = {1: "the one step", 2: "both steps"}.get(self.steps, f"all {self.steps} steps")
        verb = "holds" if self.steps == 1 else "hold"
        methods = "; ".join(_METHOD[r] for r in self.relations)
        rules = ""
        if self.stated_rules == 1:
            rules = " One step also rests on a rule stated in its text, which sympy does not check."
        elif self.stated_rules:
            rules = f" {self.stated_rules} steps also rest on rules stated in their text, which sympy does not check."
        return (
            f"**Verified by sympy** for {cases}: {steps} of *{self.title}* ({self.kinds}) {verb} exactly. "
            f"For each step, {methods}.{rules}"
        )

    def __repr__(self) -> str:
        return f"Verification({self.title!r}, Ks={self.Ks}, steps={self.steps})"


def verify_for(build, K=(2, 3, 4)) -> Verification:
    """Build the derivation for each number of classes in ``K``, :meth:`Derivation.verify` each, and
    return a :class:`Verification` that says what was checked.

    ``build`` is a function of ``K`` returning a :class:`Derivation` (``temperature.jacobian``).
    Pass ``K=None`` for a derivation written out for one fixed case (it is then called with no
    argument). Raises :class:`DerivationError` at the first step that does not hold.
    """
    if not callable(build):
        raise TypeError(f"build must be a function returning a Derivation, got {type(build).__name__}")
    if K is None:
        Ks: tuple = ()
        derivations = [build()]
    else:
        Ks = (K,) if isinstance(K, int) else tuple(K)
        if not Ks or not all(isinstance(k, int) and not isinstance(k, bool) and k >= 2 for k in Ks):
            raise ValueError(f"K must be an integer >= 2 or a non-empty sequence of them, got {K!r}")
        derivations = [build(k) for k in Ks]
    for derivation in derivations:
        if not isinstance(derivation, Derivation):
            raise TypeError(f"build must return a Derivation, got {type(derivation).__name__}")
        derivation.verify()
    title = re.sub(r"K = \d+(, )?", "", derivations[-1].title).replace(" ()", "").strip()
    kinds = {step.relation for d in derivations for step in d.steps}
    last = derivations[-1]
    symbolic_K = any(
        K_SYMBOL in side.free_symbols for step in last.steps for side in (step.lhs, step.rhs) if isinstance(side, sp.Basic)
    )
    stated_rules = sum("stated rule" in step.text for step in last.steps)
    return Verification(
        title, Ks, max(len(d.steps) for d in derivations), last.summary(), tuple(sorted(kinds)), symbolic_K, stated_rules
    )
