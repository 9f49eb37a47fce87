"""The selfspec pack's break-even questions: speculative vs plain decoding, and the pack's comparisons
(attention vs the analog matmuls), for energy and latency per committed token, solved for the prompt
length or a coefficient kept symbolic (:func:`symcost.breakeven.solve` does the solving)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ...breakeven import BreakEven, Question, Side, coefficient_grid, solve
from ...errors import SymcostError
from ...units import parse_unit
from .model import CostModel

QUANTITIES = {"energy": "J", "latency": "s"}
DEFAULT_SEARCH_LIMIT = 10_000_000  # tokens searched when the hardware sets no context capacity


def questions(model: CostModel) -> list[Question]:
    """Speculative vs baseline decoding, and every comparison the pack declares, for energy and latency."""
    found = []
    for quantity in QUANTITIES:
        found.append(
            Question(
                "vs_baseline",
                quantity,
                f"speculative vs plain decoding, {quantity} per committed token",
                Side("speculative", (f"speculative.{quantity}_per_token",), per_token=False),
                Side("baseline", (f"baseline.{quantity}_per_token",), "baseline", per_token=False),
            )
        )
        for comparison in model.pack.comparisons:
            sides = [
                Side(f"{view}s {'+'.join(names)}", _group_outputs(model, view, names, quantity))
                for view, names in (comparison.left, comparison.right)
            ]
            found.append(Question(comparison.name, quantity, comparison.description, *sides))
    return found


def _group_outputs(model: CostModel, view: str, names: Sequence[str], quantity: str) -> tuple[str, ...]:
    wanted = {f"speculative.{view}.{phase}.{name}.{quantity}" for phase in model.pack.index.phases for name in names}
    return tuple(name for name in model.outputs if name in wanted)


def find_break_even(
    model: CostModel, unknown: str = "L_prompt", *, prompt_length: float | None = None, grid: np.ndarray | None = None
) -> dict[str, dict[str, BreakEven]]:
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
    # A coefficient is given in its pack symbol's unit (that of its input field: pJ), and answered in it.
    unit = parse_unit(model.pack.symbols[unknown].unit)
    found: dict[str, dict[str, BreakEven]] = {}
    for question in questions(model):
        found.setdefault(question.comparison, {})[question.quantity] = solve(
            question,
            sp.Symbol(unknown),
            grid,
            question.left.numeric(results),
            question.right.numeric(results),
            lambda side: side.symbolic(model, fixed),
            unit,
        )
    return found


def prompt_domain(model: CostModel) -> tuple[int, int]:
    """Prompt lengths the model accepts: 0 up to the tightest pack limit (or the default search limit)."""
    upper = DEFAULT_SEARCH_LIMIT
    for _name, expression, maximum, _message in model.accounting.limits:
        slack = maximum - expression
        # By name: a cached evaluator's input symbols carry no assumptions, the pack's do.
        values = {
            symbol: sp.Float(model.defaults[symbol.name])
            for symbol in slack.free_symbols
            if symbol.name in model.defaults
        }
        slack = sp.expand(slack.xreplace(values))
        prompt = next(iter(slack.free_symbols), None)
        if (
            prompt is not None
            and prompt.name == "L_prompt"
            and len(slack.free_symbols) == 1
            and sp.Poly(slack, prompt).degree() == 1
        ):
            upper = min(upper, int(np.floor(float(sp.solve(slack, prompt)[0]) + 1e-9)))
    if upper < 1:
        raise SymcostError("no prompt length fits the pack's limits (e.g. the context capacity) for these inputs")
    return 0, upper


def _prompt_grid(lower: int, upper: int) -> np.ndarray:
    dense = np.arange(lower, min(upper, 65_536) + 1, dtype=np.float64)
    sparse = np.geomspace(max(dense[-1], 1.0), upper, 4_000) if upper > dense[-1] else np.empty(0)
    return np.unique(np.concatenate([dense, np.round(sparse)]))
