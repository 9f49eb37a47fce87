"""Break-even points and sensitivities of any pack's outputs.

``break_even(model, a, b, symbol)`` finds where outputs ``a`` and ``b`` meet
as ``symbol`` varies, every other input fixed: the compiled evaluator
brackets each sign change on a grid, and the closed form, fixed to the piece
that holds there (:func:`symcost.pieces.localise`), is solved exactly
(:func:`symcost.breakeven.solve`). ``elasticities(model, output, point)``
gives d ln(output) / d ln(symbol) for every input, from the symbolic
derivative of the local piece.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import sympy as sp

from .breakeven import Question, Side, coefficient_grid, solve
from .errors import SymcostError
from .pieces import localise
from .registry import PackModel, require_outputs


def break_even(
    model: PackModel,
    left: str,
    right: str,
    symbol: str,
    *,
    at: Mapping[str, float] = {},
    domain: tuple[float, float] | None = None,
) -> dict:
    """Where ``left`` and ``right`` meet as ``symbol`` varies (in the unit ``symbol`` is given in)."""
    require_outputs(model, (left, right))
    name, factor = model.input_for(symbol)
    fixed = {**model.defaults, **_in_si(model, at)}
    fixed.pop(name, None)
    grid = _within_limits(model, fixed, name, _grid(model, name, factor, domain))
    results = model.evaluate(**{**fixed, name: grid})
    question = Question(
        f"{left} vs {right}",
        "value",
        f"{left} against {right}",
        Side(left, (left,), per_token=False),
        Side(right, (right,), per_token=False),
    )
    found = solve(
        question,
        sp.Symbol(name),
        grid,
        results[left],
        results[right],
        lambda side: model.closed_form(side.outputs[0], fixed),
    )
    unit = _given_unit(model, symbol)
    return {
        "between": [left, right],
        "solve_for": symbol,
        "crossings": [{"value": value / factor, "unit": unit} for value in found.crossings],
        "equation": found.equation_text,
        "equation_latex": found.equation_latex,
        "equation_piece_at": {"value": found.shown_at / factor, "unit": unit},
        "verdict": _verdict(found.verdict, left, right, symbol),
        "domain": {"from": found.domain[0] / factor, "to": found.domain[1] / factor, "unit": unit},
    }


def elasticities(model: PackModel, output: str, at: Mapping[str, float] = {}) -> dict:
    """d ln(output) / d ln(s) at a point, for every input s of the model with a non-zero value."""
    require_outputs(model, (output,))
    point_by_name = {**model.defaults, **_in_si(model, at)}
    missing = [name for name in model.evaluator.input_names if name not in point_by_name]
    if missing:
        raise SymcostError(f"give a value for {', '.join(missing)}: --at {missing[0]}=VALUE")
    expression = model.closed_form(output)
    symbols = {symbol.name: symbol for symbol in expression.free_symbols}
    point = {symbol: point_by_name[name] for name, symbol in symbols.items()}
    piece = localise(expression, point, expand=False)
    level = float(piece.xreplace(point))
    if level == 0:
        raise SymcostError(f"{output} is zero at this point: its relative change is undefined")
    found, left_out = {}, {}
    for name in model.evaluator.input_names:
        if math.isnan(point_by_name[name]):
            left_out[name] = "its value is not known"
        elif not point_by_name[name]:
            left_out[name] = "its value is zero, so a relative change leaves it zero"
        elif name not in symbols:
            found[name] = 0.0
        else:
            # The other inputs set first: the piece is then a function of one symbol, far smaller to differentiate.
            symbol = symbols[name]
            alone = piece.xreplace({other: value for other, value in point.items() if other != symbol})
            found[name] = float(sp.diff(alone, symbol).xreplace({symbol: point[symbol]})) * point_by_name[name] / level
    return {
        "output": output,
        "value": level,
        "unit": model.unit(output),
        "at": {
            name: point_by_name[name] for name in model.evaluator.input_names if not math.isnan(point_by_name[name])
        },
        "elasticities": dict(sorted(found.items(), key=lambda item: -abs(item[1]))),
        "left_out": left_out,
    }


def _in_si(model: PackModel, values: Mapping[str, float]) -> dict[str, float]:
    converted = {}
    for given, value in values.items():
        name, factor = model.input_for(given)
        converted[name] = value * factor
    return converted


def _grid(model: PackModel, name: str, factor: float, domain: tuple[float, float] | None) -> np.ndarray:
    if domain is not None:
        low, high = (bound * factor for bound in domain)
        if not 0 <= low < high:
            raise SymcostError(f"--range: expected 0 <= LOW < HIGH, got {domain[0]:g}:{domain[1]:g}")
        return np.unique(
            np.concatenate([np.linspace(low, high, 2_001), np.geomspace(max(low, high * 1e-9), high, 2_001)])
        )
    value = model.defaults.get(name)
    if not value:
        raise SymcostError(f"{name} has no positive value to search around: give --range LOW:HIGH")
    return coefficient_grid(value)


def _within_limits(model: PackModel, fixed: dict[str, float], name: str, grid: np.ndarray) -> np.ndarray:
    """The grid points in the symbol's domain where every limit of the pack holds (a search never leaves
    the valid region)."""
    spec = model.pack.symbols.get(name)  # None for an engine's own inputs (a cascade stage's T_1)
    if spec is not None and spec.symbol.is_positive:
        grid = grid[grid > 0]
    if not model.limits:
        return grid
    raw = model.evaluator(**{**fixed, name: grid})
    valid = np.ones(grid.size, dtype=bool)
    for limit, _message in model.limits:
        valid &= np.ravel(raw[f"limit.{limit}.value"] <= raw[f"limit.{limit}.maximum"])
    if not valid.any():
        raise SymcostError(
            f"no value of {name} in the range searched keeps within the pack's limits "
            f"({'; '.join(message for _, message in model.limits)})"
        )
    return grid[valid]


def _given_unit(model: PackModel, symbol: str) -> str:
    try:
        return model.pack.given_unit(symbol)
    except SymcostError:  # a name the model knows another way (selfspec's input fields without 'hardware.',
        name = model.input_for(symbol)[0]  # a cascade stage's T_1, which the model itself gives a unit)
        return model.pack.symbols[name].unit if name in model.pack.symbols else model.given_unit(symbol)


def _verdict(found: str, left: str, right: str, symbol: str) -> str:
    return {
        "crosses": f"{left} and {right} cross as {symbol} varies",
        "always_better": f"{left} is never above {right} over the range searched",
        "never_better": f"{left} is above {right} over the whole range searched",
    }[found]
