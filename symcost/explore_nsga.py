"""A design space too large to enumerate, searched with pymoo's NSGA-II.

A design is one index per axis (integer decision variables, rounded after
crossover and mutation). Each generation is evaluated grouped by structural
variant (each variant compiled once and kept), vectorised over its designs.
Constraints and the pack's limits are NSGA-II inequality constraints. Every
evaluated design also passes through a :class:`~symcost.pareto.StreamingFront`,
so the result is the non-dominated set of all designs the search saw, with
the same columns as a grid exploration. pymoo is the optional extra
``symcost[explore]``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TextIO

import numpy as np

from .design_space import DesignSpace
from .errors import SymcostError
from .explore import Exploration, ExploreSetup
from .pareto import Objective
from .progress import Progress
from .registry import PackModel
from .sweep import checked_axes

DEFAULT_POPULATION = 60


def explore_nsga2(
    space: DesignSpace,
    objectives: Sequence[Objective],
    constraints: Sequence[str] = (),
    columns: Sequence[str] = (),
    *,
    budget: int,
    seed: int = 1,
    population: int = DEFAULT_POPULATION,
    progress: TextIO | None = None,
) -> Exploration:
    """NSGA-II over the grid of ``space`` with at most ``budget`` design evaluations."""
    minimize, problem_class, algorithm = _pymoo(population)
    setup = ExploreSetup(space, objectives, constraints, columns)
    evaluator = _Evaluator(space, setup)
    meter = Progress("explore", budget, progress) if progress is not None else None

    class Designs(problem_class):
        def __init__(self):
            sizes = np.array([axis.values.size for axis in space.axes])
            super().__init__(
                n_var=len(sizes),
                n_obj=len(objectives),
                n_ieq_constr=len(constraints) + 1,
                xl=np.zeros(len(sizes)),
                xu=sizes - 1,
                vtype=int,
            )

        def _evaluate(self, indices, out, *args, **kwargs):
            out["F"], out["G"] = evaluator(np.asarray(np.round(indices), dtype=np.int64))
            if meter:
                meter.update(min(setup.front.evaluated, budget))

    minimize(Designs(), algorithm, ("n_eval", budget), seed=seed, verbose=False)
    if meter:
        meter.finish()
    return setup.result()


class _Evaluator:
    """Designs (index rows) -> (objectives to minimise, constraint violations), feeding the front."""

    def __init__(self, space: DesignSpace, setup):
        self.space, self.setup = space, setup
        self.models: dict[tuple, PackModel] = {}

    def __call__(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        structural = len(self.space.structural)
        groups: dict[tuple, list[int]] = defaultdict(list)
        for row, design in enumerate(indices):
            groups[tuple(design[:structural])].append(row)
        costs = np.empty((len(indices), len(self.setup.objectives)))
        violations = np.empty((len(indices), len(self.setup.constraint_texts) + 1))
        for key, rows in groups.items():
            block = self._block(key, indices[rows, structural:])
            self.setup.add(block)
            costs[rows] = self.setup.front.costs(block)
            violations[rows] = self._violations(block)
        return costs, violations

    def _block(self, key: tuple, symbolic: np.ndarray) -> dict[str, np.ndarray]:
        variant = {axis.name: _value(axis, index) for axis, index in zip(self.space.structural, key)}
        model = self.models.get(key) or self.models.setdefault(key, self.space.model(variant))
        self.setup.on_model(model)
        axes = checked_axes(model, self.space.symbolic)
        values = {axis.name: axis.values[symbolic[:, index]] for index, axis in enumerate(axes)}
        inputs = {
            model.input_for(name)[0]: np.asarray(array, dtype=np.float64) * model.input_for(name)[1]
            for name, array in values.items()
        }
        results, within = model.evaluate_within_limits(**inputs)
        size = len(symbolic)
        block = {name: np.full(size, value) for name, value in variant.items()}
        block.update(values)
        block.update((name, np.broadcast_to(results[name], (size,))) for name in self.setup.outputs)
        block["within_limits"] = np.broadcast_to(within, (size,))
        return block

    def _violations(self, block: dict[str, np.ndarray]) -> np.ndarray:
        """One column per constraint (> 0 where broken, relative to its bound) and one for the pack's limits."""
        columns = []
        for constraint in self.setup.front.constraints:
            values = np.asarray(block[constraint.name], dtype=np.float64)
            scale = abs(constraint.value) or 1.0
            columns.append((values - constraint.value if constraint.op == "<=" else constraint.value - values) / scale)
        columns.append(np.where(block["within_limits"], 0.0, 1.0))
        return np.column_stack(columns)


def _value(axis, index: int) -> object:
    value = axis.values[int(index)]
    return (
        int(value)
        if isinstance(value, float) and value.is_integer()
        else value.item()
        if isinstance(value, np.generic)
        else value
    )


def _pymoo(population: int):
    try:
        from pymoo.algorithms.moo.nsga2 import NSGA2
        from pymoo.core.problem import Problem
        from pymoo.operators.crossover.sbx import SBX
        from pymoo.operators.mutation.pm import PM
        from pymoo.operators.repair.rounding import RoundingRepair
        from pymoo.operators.sampling.rnd import IntegerRandomSampling
        from pymoo.optimize import minimize
    except ImportError:
        raise SymcostError(
            "--search nsga2 needs pymoo, which is not installed: pip install 'symcost[explore]'"
        ) from None
    algorithm = NSGA2(
        pop_size=population,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        mutation=PM(prob=1.0, eta=3.0, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    return minimize, Problem, algorithm
