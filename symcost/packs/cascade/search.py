"""Design-space search over the speculation horizons K_0 .. K_{n-2}.

Standard formulation: stage i's time per committed token is
``t_i = (K_{i-1} t_{i-1} + c_i) / E_i(K_{i-1})``, which grows with
``t_{i-1}``; so choosing each horizon to minimise its own stage's time, first
to last, minimises the whole cascade's. For each stage symcost derives the
continuous optimum in closed form from the pack (the first-order condition
solves with the Lambert W function, on its lower branch W_{-1}: the principal
branch gives K < 0), and finds the integer optimum on the compiled
evaluator over 1..k_max.

Seed formulation: its cost is linear in K_0, K_1 does not appear in it and
its speedup has no horizon at all, so it has no optimum; the search reports
that from the closed forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ...pack import load_pack
from .model import CascadeModel, expand_sums, position_index


@dataclass(frozen=True)
class Horizons:
    """Horizons K_0 .. K_{n-2} and the cascade's time per token and speedup with them."""

    horizons: tuple[int, ...]
    time_per_token: float
    speedup: float


@dataclass(frozen=True)
class StageOptimum:
    stage: str
    horizon: int  # integer optimum of K_{i-1} (drafted by the previous stage)
    continuous: float | None  # closed-form optimum (None where the closed form does not apply, e.g. alpha = 1)
    time_per_token: float


@dataclass(frozen=True)
class SeedSensitivity:
    cost_horizons: tuple[str, ...]  # horizons C_total depends on
    cost_proportional: bool  # C_total = K_0 * (something free of K_0)
    cost_slope: float  # dC_total/dK_0 at the file's values, s per token
    speedup_horizons: tuple[str, ...]  # horizons the seed's speedup depends on


@dataclass(frozen=True)
class DesignSearch:
    k_max: int
    ratio: int
    stages: tuple[StageOptimum, ...]
    optimum: Horizons
    as_given: Horizons
    rule: Horizons | None  # best with K_0 = ratio * K_1 (cascades of 3 or more stages)
    seed: SeedSensitivity

    @property
    def rule_holds(self) -> bool | None:
        if self.rule is None:
            return None
        return self.optimum.horizons[0] == self.ratio * self.optimum.horizons[1]


def search_horizons(model: CascadeModel, k_max: int = 64, ratio: int = 4) -> DesignSearch:
    names = _horizon_names(model)
    grid = np.arange(1, k_max + 1, dtype=float)
    stages, chosen = [], {}
    for index, name in enumerate(names, start=1):
        stage = model.config.stages[index].name
        times = model.evaluate(**chosen, **{name: grid})[f"stage.{stage}.t_token"]
        best = int(np.argmin(times))
        chosen[name] = grid[best]
        figures = model.evaluate(**chosen)
        stages.append(StageOptimum(stage, best + 1, _continuous_optimum(model, index, figures), float(times[best])))
    optimum = _horizons(model, chosen)
    return DesignSearch(
        k_max,
        ratio,
        tuple(stages),
        optimum,
        _horizons(model, {name: model.values[model.symbol(name)] for name in names}),
        _rule(model, names, grid, ratio) if len(names) >= 2 else None,
        _seed_sensitivity(model, names),
    )


def _horizon_names(model: CascadeModel) -> list[str]:
    """Input names of K_0 .. K_{n-2} (stage i's horizon is drafted for stage i + 1)."""
    return [f"K_{index}" for index in range(len(model.config.stages) - 1)]


def _horizons(model: CascadeModel, chosen: dict[str, float]) -> Horizons:
    figures = model.evaluate(**chosen)
    return Horizons(
        tuple(int(value) for value in chosen.values()),
        float(figures["cascade.time_per_token"]),
        float(figures["cascade.speedup_standard"]),
    )


def _rule(model: CascadeModel, names: list[str], grid: np.ndarray, ratio: int) -> Horizons:
    """Best horizons with K_0 = ratio * K_1: K_1 minimises stage 2's time on that line, later horizons stage by stage."""
    second = model.config.stages[2].name
    times = model.evaluate(**{names[0]: ratio * grid, names[1]: grid})[f"stage.{second}.t_token"]
    best = grid[int(np.argmin(times))]
    chosen = {names[0]: ratio * best, names[1]: best}
    for index, name in enumerate(names[2:], start=3):
        times = model.evaluate(**chosen, **{name: grid})[f"stage.{model.config.stages[index].name}.t_token"]
        chosen[name] = grid[int(np.argmin(times))]
    return _horizons(model, chosen)


def _continuous_optimum(model: CascadeModel, index: int, figures: dict[str, np.ndarray]) -> float | None:
    formula, (t_prev, c_pass, rate) = _optimum_formula(model.pack.source)
    stage, previous = model.config.stages[index].name, model.config.stages[index - 1].name
    values = {
        t_prev: figures[f"stage.{previous}.t_token"],
        c_pass: figures[f"stage.{stage}.c_pass"],
        rate: model.config.stages[index].acceptance,
    }
    if values[rate] >= 1:
        return None
    value = complex(formula.xreplace({symbol: sp.Float(float(number)) for symbol, number in values.items()}).evalf())
    return value.real if abs(value.imag) < 1e-9 * (1 + abs(value.real)) else None


@lru_cache(maxsize=4)
def _optimum_formula(pack_source: str) -> tuple[sp.Expr, tuple[sp.Symbol, sp.Symbol, sp.Symbol]]:
    """K_{i-1} minimising t_i over the reals, derived from the pack's t_token and E_accept (alpha < 1)."""
    pack = load_pack(pack_source)
    first = pack.symbol("is_first")
    later = {
        q.name: q.expression
        for q in pack.quantities
        if q.name in ("t_token", "E_accept") and q.when is not None and q.when.xreplace({first: 0}) != 0
    }
    accepted = expand_sums(later["E_accept"], position_index(pack))
    accepted = accepted.args[-1].expr if isinstance(accepted, sp.Piecewise) else accepted  # the alpha != 1 branch
    time = later["t_token"].xreplace({sp.Symbol("E_accept", real=True): accepted})
    horizon, t_prev, rate = (sp.Symbol(name, positive=True) for name in ("K", "t_prev", "alpha"))
    c_pass = sp.Symbol("c_pass", positive=True)
    time = time.xreplace(
        {
            pack.symbol("K_prev"): horizon,
            pack.symbol("t_prev"): t_prev,
            pack.symbol("gamma"): rate,
            sp.Symbol("c_pass", real=True): c_pass,
        }
    )
    condition = sp.expand(sp.numer(sp.together(sp.diff(time, horizon))))
    (solution,) = [s for s in sp.solve(condition, horizon) if s.has(sp.LambertW)]
    lower = solution.replace(lambda node: isinstance(node, sp.LambertW), lambda node: sp.LambertW(node.args[0], -1))
    return lower, (t_prev, c_pass, rate)


def _seed_sensitivity(model: CascadeModel, names: list[str]) -> SeedSensitivity:
    cost, speedup = model.outputs["cascade.C_total"], model.outputs["cascade.speedup_seed"]
    first = model.symbol(names[0])
    slope = sp.diff(cost, first)
    proportional = sp.simplify(cost - first * slope) == 0 and not slope.has(first)
    slope_value = float(slope.xreplace({symbol: sp.Float(value) for symbol, value in model.values.items()}))
    return SeedSensitivity(_depends(cost, names), bool(proportional), slope_value, _depends(speedup, names))


def _depends(expression: sp.Expr, names: list[str]) -> tuple[str, ...]:
    present = {symbol.name for symbol in expression.free_symbols}
    return tuple(name for name in names if name in present)
