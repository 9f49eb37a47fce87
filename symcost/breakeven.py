"""Analytical break-even points: where two per-token costs meet.

A question compares a *left* and a *right* cost, both closed forms of one
unknown (the prompt length, or a hardware coefficient kept symbolic) once
every other input is fixed: speculative vs baseline decoding, or a pack's
``comparisons`` (e.g. attention vs the analog matmuls). The closed forms are
piecewise (schedule maxima, clamped step sums), so the solution is found
piece by piece:

1. the compiled evaluator brackets every sign change of left - right on a
   dense grid of the unknown's domain;
2. inside a bracket the closed form is *localised*: each ``Max``/``Min``,
   ``Piecewise`` and ``floor`` is replaced by the branch active there, which
   leaves a polynomial (or rational) equation;
3. that equation is solved exactly; a root is accepted when it lies in the
   bracket and the full closed form agrees there, else the bracket is halved
   and the piece re-localised.

The report shows the localised equation and its solution, so a reader can
check the number by hand.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .errors import SymcostError
from .pieces import localise
from .registry import PackModel
from .units import Unit, parse_unit, si_unit_text

_AGREEMENT = 1e-9
_COUNT = parse_unit("1")  # an unknown without a unit: the prompt length


@dataclass(frozen=True)
class Side:
    """A cost: the sum of some outputs, per committed token when ``per_token``."""

    label: str
    outputs: tuple[str, ...]
    scenario: str = "speculative"
    per_token: bool = True

    def numeric(self, results: dict[str, np.ndarray]) -> np.ndarray:
        total = sum(results[name] for name in self.outputs)
        return total / results[f"{self.scenario}.committed_tokens"] if self.per_token else total

    def symbolic(self, model: PackModel, values: dict[str, float]) -> sp.Expr:
        total = sp.Add(*(model.closed_form(name, values) for name in self.outputs))
        return total / model.closed_form(f"{self.scenario}.committed_tokens", values) if self.per_token else total


@dataclass(frozen=True)
class Question:
    comparison: str
    quantity: str
    description: str
    left: Side
    right: Side


@dataclass(frozen=True)
class BreakEven:
    comparison: str
    quantity: str
    unknown: str
    verdict: str  # crosses | always_better | never_better (left vs right)
    value: float | None  # the first crossing
    crossings: tuple[float, ...]
    left: sp.Expr  # both sides on the piece active at ``shown_at``
    right: sp.Expr
    shown_at: float
    equation_latex: str
    equation_text: str
    solution_latex: str | None
    description: str
    domain: tuple[float, float]
    unit: Unit  # the unit the unknown is given in (its pack symbol's: pJ); values above are SI

    @property
    def L_prompt(self) -> float | None:
        return self.value if self.unknown == "L_prompt" else None

    @property
    def si_unit(self) -> str:
        return si_unit_text(self.unit.dimension)

    def in_unit(self, si_value: float) -> float:
        """An SI value of the unknown in the unit it is given in (J to pJ)."""
        return si_value / self.unit.si_factor

    def shown(self, si_value: float) -> str:
        """An SI value of the unknown as a reader gives it: ``0.182594 pJ`` (no unit for a count)."""
        return _shown(si_value, self.unit)

    def as_json(self) -> dict:
        # The SI values stay under their old keys for existing consumers; the *_in_unit keys are in ``unit``.
        return {
            "verdict": self.verdict,
            self.unknown: self.value,
            "crossings": list(self.crossings),
            "equation": self.equation_latex,
            "equation_text": self.equation_text,
            "equation_piece_at": self.shown_at,
            "solution": self.solution_latex,
            "description": self.description,
            "domain": list(self.domain),
            "unit": self.unit.text,
            "si_unit": self.si_unit,
            "value_in_unit": None if self.value is None else self.in_unit(self.value),
            "crossings_in_unit": [self.in_unit(value) for value in self.crossings],
        }


def coefficient_grid(value: float, decades: int = 6, points: int = 4_000) -> np.ndarray:
    """Zero and a log-spaced range around a coefficient's value, to bracket where a comparison flips."""
    if value <= 0:
        raise SymcostError("the coefficient's value is not positive; give the range to search explicitly")
    return np.concatenate([[0.0], np.geomspace(value * 10.0**-decades, value * 10.0**decades, points)])


def solve(
    question: Question,
    unknown: sp.Symbol,
    grid: np.ndarray,
    left: np.ndarray,
    right: np.ndarray,
    closed_form: Callable[[Side], sp.Expr],
    unit: Unit = _COUNT,
) -> BreakEven:
    """Crossings of ``question`` over ``grid`` (numeric sides given, the unknown in SI), refined on the
    closed forms; ``unit`` is the one the unknown is given in, for the description."""
    left_expression, right_expression = closed_form(question.left), closed_form(question.right)
    unknown = _matching_symbol(left_expression - right_expression, unknown)
    difference = left - right
    brackets = np.flatnonzero(np.sign(difference[:-1]) * np.sign(difference[1:]) < 0)
    exact = np.flatnonzero(difference == 0)
    crossings = sorted(
        {
            *(float(grid[index]) for index in exact),
            *(_refine(left_expression, right_expression, unknown, grid[index], grid[index + 1]) for index in brackets),
        }
    )
    domain = (float(grid[0]), float(grid[-1]))
    verdict = "crosses" if crossings else "always_better" if np.all(difference <= 0) else "never_better"
    # The equation is shown on the piece that holds the first crossing (or, without one, the top of the domain).
    shown_at = crossings[0] if crossings else domain[1]
    local_left, local_right = (
        localise(expression, {unknown: shown_at}) for expression in (left_expression, right_expression)
    )
    solution = _solution(local_left - local_right, unknown, crossings[0]) if crossings else None
    return BreakEven(
        question.comparison,
        question.quantity,
        unknown.name,
        verdict,
        crossings[0] if crossings else None,
        tuple(crossings),
        local_left,
        local_right,
        shown_at,
        _equation(local_left, local_right),
        f"{sp.sstr(_rounded(local_left))} = {sp.sstr(_rounded(local_right))}",
        solution,
        _describe(question, unknown.name, verdict, crossings, difference, domain, unit),
        domain,
        unit,
    )


def _matching_symbol(expression: sp.Expr, unknown: sp.Symbol) -> sp.Symbol:
    # Pack symbols carry assumptions (positive, integer...); use the expression's own symbol.
    return next((symbol for symbol in expression.free_symbols if symbol.name == unknown.name), unknown)


def _refine(left: sp.Expr, right: sp.Expr, unknown: sp.Symbol, low: float, high: float) -> float:
    """The root of left - right in [low, high], exact on the piece that holds it."""
    difference = left - right

    def value(x: float) -> float:
        return float(difference.xreplace({unknown: sp.Float(x)}).evalf())

    low_sign = np.sign(value(low))
    for _ in range(80):
        middle = 0.5 * (low + high)
        root = _piece_root(localise(difference, {unknown: middle}), unknown, low, high)
        if root is not None and abs(value(root)) <= _AGREEMENT * max(
            abs(float(left.xreplace({unknown: sp.Float(root)}).evalf())), 1e-300
        ):
            return root
        if np.sign(value(middle)) == low_sign:
            low = middle
        else:
            high = middle
        if high - low <= 1e-12 * max(1.0, abs(high)):
            return 0.5 * (low + high)
    return 0.5 * (low + high)


def _piece_root(expression: sp.Expr, unknown: sp.Symbol, low: float, high: float) -> float | None:
    numerator = sp.together(expression).as_numer_denom()[0]
    try:
        polynomial = sp.Poly(sp.expand(numerator), unknown)
    except sp.PolynomialError:
        return None
    if polynomial.degree() < 1:
        return None
    span = high - low
    for root in polynomial.nroots(n=30):
        if (
            abs(sp.im(root)) <= 1e-12 * max(1.0, abs(sp.re(root)))
            and low - 1e-9 * span <= float(sp.re(root)) <= high + 1e-9 * span
        ):
            return float(sp.re(root))
    return None


def _rounded(expression: sp.Expr) -> sp.Expr:
    return expression.xreplace({number: sp.Float(number, 6) for number in expression.atoms(sp.Float)})


def _equation(left: sp.Expr, right: sp.Expr) -> str:
    return f"{sp.latex(_rounded(left))} = {sp.latex(_rounded(right))}"


def _solution(difference: sp.Expr, unknown: sp.Symbol, root: float) -> str:
    name = sp.latex(unknown)
    numerator = sp.expand(sp.together(difference).as_numer_denom()[0])
    try:
        polynomial = sp.Poly(numerator, unknown)
    except sp.PolynomialError:
        polynomial = None
    if polynomial is not None and polynomial.degree() == 1:
        slope, offset = (sp.Float(c, 6) for c in polynomial.all_coeffs())
        # x = -offset / slope, signs moved so that neither part of the fraction is negative (no -(-a)/b).
        numerator, denominator = abs(offset), abs(slope)
        sign = "-" if offset * slope > 0 else ""
        return rf"{name}^{{*}} = {sign}\frac{{{sp.latex(numerator)}}}{{{sp.latex(denominator)}}} \approx {root:.6g}"
    return rf"{name}^{{*}} \approx {root:.6g}"


def _shown(si_value: float, unit: Unit) -> str:
    suffix = "" if unit.text.strip() in ("", "1", "dimensionless") else f" {unit.text}"
    return f"{si_value / unit.si_factor:.6g}{suffix}"


def _describe(
    question: Question,
    unknown: str,
    verdict: str,
    crossings: Sequence[float],
    difference: np.ndarray,
    domain: tuple[float, float],
    unit: Unit,
) -> str:
    left, right = question.left.label, question.right.label
    span = f"for every {unknown} in [{_shown(domain[0], unit)}, {_shown(domain[1], unit)}]"
    if verdict == "always_better":
        return f"{question.quantity} per committed token: {left} never costs more than {right} {span}"
    if verdict == "never_better":
        return f"{question.quantity} per committed token: {left} costs more than {right} {span}"
    points = ", ".join(_shown(value, unit) for value in crossings)
    cheaper, dearer = (left, right) if difference[-1] < 0 else (right, left)
    return (
        f"{question.quantity} per committed token: {left} and {right} meet at {unknown} = {points}; "
        f"beyond the last crossing {cheaper} costs less than {dearer}"
    )
