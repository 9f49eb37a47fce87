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

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from .errors import SymcostError
from .packs.selfspec.model import CostModel
from .pieces import localise

QUANTITIES = {"energy": "J", "latency": "s"}
DEFAULT_SEARCH_LIMIT = 10_000_000  # tokens searched when the hardware sets no context capacity
_AGREEMENT = 1e-9


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

    def symbolic(self, model: CostModel, values: dict[str, float]) -> sp.Expr:
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
    verdict: str                 # crosses | always_better | never_better (left vs right)
    value: float | None          # the first crossing
    crossings: tuple[float, ...]
    left: sp.Expr                # both sides on the piece active at ``shown_at``
    right: sp.Expr
    shown_at: float
    equation_latex: str
    equation_text: str
    solution_latex: str | None
    description: str
    domain: tuple[float, float]

    @property
    def L_prompt(self) -> float | None:
        return self.value if self.unknown == "L_prompt" else None

    def as_json(self) -> dict:
        return {"verdict": self.verdict, self.unknown: self.value, "crossings": list(self.crossings),
                "equation": self.equation_latex, "equation_text": self.equation_text,
                "equation_piece_at": self.shown_at,
                "solution": self.solution_latex,
                "description": self.description, "domain": list(self.domain)}


def questions(model: CostModel) -> list[Question]:
    """Speculative vs baseline decoding, and every comparison the pack declares, for energy and latency."""
    found = []
    for quantity in QUANTITIES:
        found.append(Question("vs_baseline", quantity, f"speculative vs plain decoding, {quantity} per committed token",
                              Side("speculative", (f"speculative.{quantity}_per_token",), per_token=False),
                              Side("baseline", (f"baseline.{quantity}_per_token",), "baseline", per_token=False)))
        for comparison in model.pack.comparisons:
            sides = [Side(f"{view}s {'+'.join(names)}", _group_outputs(model, view, names, quantity))
                     for view, names in (comparison.left, comparison.right)]
            found.append(Question(comparison.name, quantity, comparison.description, *sides))
    return found


def _group_outputs(model: CostModel, view: str, names: Sequence[str], quantity: str) -> tuple[str, ...]:
    wanted = {f"speculative.{view}.{phase}.{name}.{quantity}" for phase in model.pack.index.phases for name in names}
    return tuple(name for name in model.outputs if name in wanted)


def find_break_even(model: CostModel, unknown: str = "L_prompt", *, prompt_length: float | None = None,
                    grid: np.ndarray | None = None) -> dict[str, dict[str, BreakEven]]:
    """Every break-even question of the model, solved for ``unknown``.

    The unknown is the prompt length, or a coefficient the model keeps
    symbolic (``build_model(..., keep=[name])``), solved at ``prompt_length``
    over ``grid`` (default: 10^-6 to 10^6 times its value).
    """
    if unknown == "L_prompt":
        grid = _prompt_grid(*prompt_domain(model)) if grid is None else np.asarray(grid, dtype=np.float64)
        values: dict[str, float] = {}
    else:
        if unknown not in model.evaluator.input_names:
            raise SymcostError(f"{unknown!r} is not an input of this model; build it with keep=[{unknown!r}]")
        if prompt_length is None:
            raise SymcostError(f"solving for {unknown} needs a prompt length")
        grid = coefficient_grid(model.defaults[unknown]) if grid is None else np.asarray(grid, dtype=np.float64)
        values = {"L_prompt": float(prompt_length)}
    results = model.evaluate(**{**values, unknown: grid})
    fixed = {**{name: value for name, value in model.defaults.items() if name != unknown}, **values}
    found: dict[str, dict[str, BreakEven]] = {}
    for question in questions(model):
        found.setdefault(question.comparison, {})[question.quantity] = solve(
            question, sp.Symbol(unknown), grid, question.left.numeric(results), question.right.numeric(results),
            lambda side: side.symbolic(model, fixed))
    return found


def coefficient_grid(value: float, decades: int = 6, points: int = 4_000) -> np.ndarray:
    """Zero and a log-spaced range around a coefficient's value, to bracket where a comparison flips."""
    if value <= 0:
        raise SymcostError("the coefficient's value is not positive; give the range to search explicitly")
    return np.concatenate([[0.0], np.geomspace(value * 10.0 ** -decades, value * 10.0 ** decades, points)])


def solve(question: Question, unknown: sp.Symbol, grid: np.ndarray, left: np.ndarray, right: np.ndarray,
          closed_form: Callable[[Side], sp.Expr]) -> BreakEven:
    """Crossings of ``question`` over ``grid`` (numeric sides given), refined on the closed forms."""
    left_expression, right_expression = closed_form(question.left), closed_form(question.right)
    unknown = _matching_symbol(left_expression - right_expression, unknown)
    difference = left - right
    brackets = np.flatnonzero(np.sign(difference[:-1]) * np.sign(difference[1:]) < 0)
    exact = np.flatnonzero(difference == 0)
    crossings = sorted({*(float(grid[index]) for index in exact),
                        *(_refine(left_expression, right_expression, unknown, grid[index], grid[index + 1])
                          for index in brackets)})
    domain = (float(grid[0]), float(grid[-1]))
    verdict = "crosses" if crossings else "always_better" if np.all(difference <= 0) else "never_better"
    # The equation is shown on the piece that holds the first crossing (or, without one, the top of the domain).
    shown_at = crossings[0] if crossings else domain[1]
    local_left, local_right = (localise(expression, {unknown: shown_at}) for expression in (left_expression, right_expression))
    solution = _solution(local_left - local_right, unknown, crossings[0]) if crossings else None
    return BreakEven(question.comparison, question.quantity, unknown.name, verdict, crossings[0] if crossings else None,
                     tuple(crossings), local_left, local_right, shown_at, _equation(local_left, local_right),
                     f"{sp.sstr(_rounded(local_left))} = {sp.sstr(_rounded(local_right))}", solution,
                     _describe(question, unknown.name, verdict, crossings, difference, domain), domain)


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
        if root is not None and abs(value(root)) <= _AGREEMENT * max(abs(float(left.xreplace({unknown: sp.Float(root)}).evalf())), 1e-300):
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
        if abs(sp.im(root)) <= 1e-12 * max(1.0, abs(sp.re(root))) and low - 1e-9 * span <= float(sp.re(root)) <= high + 1e-9 * span:
            return float(sp.re(root))
    return None


def prompt_domain(model: CostModel) -> tuple[int, int]:
    """Prompt lengths the model accepts: 0 up to the tightest pack limit (or the default search limit)."""
    upper = DEFAULT_SEARCH_LIMIT
    for _name, expression, maximum, _message in model.accounting.limits:
        slack = maximum - expression
        # By name: a cached evaluator's input symbols carry no assumptions, the pack's do.
        values = {symbol: sp.Float(model.defaults[symbol.name]) for symbol in slack.free_symbols
                  if symbol.name in model.defaults}
        slack = sp.expand(slack.xreplace(values))
        prompt = next(iter(slack.free_symbols), None)
        if prompt is not None and prompt.name == "L_prompt" and len(slack.free_symbols) == 1 \
                and sp.Poly(slack, prompt).degree() == 1:
            upper = min(upper, int(np.floor(float(sp.solve(slack, prompt)[0]) + 1e-9)))
    if upper < 1:
        raise SymcostError("no prompt length fits the pack's limits (e.g. the context capacity) for these inputs")
    return 0, upper


def _prompt_grid(lower: int, upper: int) -> np.ndarray:
    dense = np.arange(lower, min(upper, 65_536) + 1, dtype=np.float64)
    sparse = np.geomspace(max(dense[-1], 1.0), upper, 4_000) if upper > dense[-1] else np.empty(0)
    return np.unique(np.concatenate([dense, np.round(sparse)]))


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
        return rf"{name}^{{*}} = -\frac{{{sp.latex(offset)}}}{{{sp.latex(slope)}}} \approx {root:.6g}"
    return rf"{name}^{{*}} \approx {root:.6g}"


def _describe(question: Question, unknown: str, verdict: str, crossings: Sequence[float], difference: np.ndarray,
              domain: tuple[float, float]) -> str:
    left, right = question.left.label, question.right.label
    span = f"for every {unknown} in [{domain[0]:g}, {domain[1]:g}]"
    if verdict == "always_better":
        return f"{question.quantity} per committed token: {left} never costs more than {right} {span}"
    if verdict == "never_better":
        return f"{question.quantity} per committed token: {left} costs more than {right} {span}"
    points = ", ".join(f"{value:.6g}" for value in crossings)
    cheaper, dearer = (left, right) if difference[-1] < 0 else (right, left)
    return (f"{question.quantity} per committed token: {left} and {right} meet at {unknown} = {points}; "
            f"beyond the last crossing {cheaper} costs less than {dearer}")
