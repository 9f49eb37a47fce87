"""Design-space exploration: the Pareto front of a pack's outputs over its knobs.

``explore_grid`` streams every design of a :class:`~symcost.design_space.DesignSpace`
through a :class:`~symcost.pareto.StreamingFront` (constraints first, then the
non-dominated filter, chunk by chunk), so memory is bounded by the front
whatever the grid's size. The front has the columns ``symcost sweep`` writes
for the same axes and outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from .design_space import DesignSpace, design_blocks
from .errors import SymcostError
from .pareto import Constraint, Objective, StreamingFront, constraint_parts, parse_constraint
from .progress import Progress
from .registry import PackModel, require_outputs
from .sweep import CHUNK, write_blocks


@dataclass
class Exploration:
    space: DesignSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    columns: tuple[str, ...]  # outputs written beside the axes
    front: StreamingFront
    integers: tuple[str, ...] = ()  # axis columns of whole numbers
    texts: tuple[str, ...] = ()  # axis columns of words (a schedule's name)
    units: dict[str, str] | None = None  # output -> SI unit

    @property
    def names(self) -> list[str]:
        return [axis.name for axis in self.space.axes] + list(self.columns)

    def extremes(self) -> dict[str, dict[str, object]]:
        """For each objective, the design on the front that is best at it."""
        designs = self.front.ordered()
        found = {}
        for objective in self.objectives:
            values = objective.minimised(np.asarray(designs[objective.name], dtype=np.float64))
            best = int(np.argmin(values))
            found[f"{objective.sense}:{objective.name}"] = {name: _plain(designs[name][best]) for name in self.names}
        return found


class ExploreSetup:
    """What every search shares: the outputs to compute, the front, and the units and constraints read
    from the first compiled model."""

    def __init__(
        self, space: DesignSpace, objectives: Sequence[Objective], constraints: Sequence[str], columns: Sequence[str]
    ):
        if len(objectives) < 2:
            raise SymcostError("give at least two --objective: a front needs two things to trade")
        self.space, self.objectives, self.constraint_texts = space, tuple(objectives), tuple(constraints)
        self.outputs = tuple(
            dict.fromkeys(
                [
                    *(objective.name for objective in objectives),
                    *(constraint_parts(text)[0] for text in constraints),
                    *columns,
                ]
            )
        )
        self.front = StreamingFront(self.objectives)
        self.units: dict[str, str] = {}
        self.kinds: dict[str, str] = {}

    def on_model(self, model: PackModel) -> None:
        """Read units and constraints against the first model compiled."""
        if self.units:
            return
        require_outputs(model, self.outputs)
        self.units.update((name, model.unit(name)) for name in self.outputs)
        self.front.constraints = tuple(parse_constraint(text, self.units) for text in self.constraint_texts)

    def add(self, block: dict[str, np.ndarray]) -> None:
        self.kinds.update((axis.name, np.asarray(block[axis.name]).dtype.kind) for axis in self.space.axes)
        self.front.add(block)

    def merge(self, designs: dict[str, np.ndarray], evaluated: int, feasible: int) -> None:
        """Another front (a cluster task's), with the counts it was chosen from."""
        if designs:
            self.kinds.update((axis.name, np.asarray(designs[axis.name]).dtype.kind) for axis in self.space.axes)
        self.front.merge(designs, evaluated, feasible)

    def result(self) -> Exploration:
        return Exploration(
            self.space,
            self.objectives,
            tuple(self.front.constraints),
            self.outputs,
            self.front,
            tuple(name for name, kind in self.kinds.items() if kind in "iu"),
            tuple(name for name, kind in self.kinds.items() if kind in "OU"),
            self.units,
        )


def explore_grid(
    space: DesignSpace,
    objectives: Sequence[Objective],
    constraints: Sequence[str] = (),
    columns: Sequence[str] = (),
    *,
    chunk: int = CHUNK,
    progress: TextIO | None = None,
) -> Exploration:
    """Every design of ``space`` evaluated; the feasible non-dominated ones kept. ``constraints`` are
    texts (``area<=800 mm^2``), read against the outputs' units once the first variant is compiled."""
    setup = ExploreSetup(space, objectives, constraints, columns)
    meter = Progress("explore", space.size, progress) if progress is not None else None
    for done, block in design_blocks(space, setup.outputs, chunk, on_model=setup.on_model, mask_limits=True):
        setup.add(block)
        if meter:
            meter.update(done)
    if meter:
        meter.finish()
    return setup.result()


def write_front(exploration: Exploration, path: str | Path, format: str | None = None) -> int:
    """The front, ordered by the objectives, as CSV or Parquet; returns the number of designs."""
    designs = exploration.front.ordered()
    size = exploration.front.size
    blocks = iter([(size, designs)]) if size else iter(())
    write_blocks(
        path, exploration.names, blocks, size, integers=exploration.integers, texts=exploration.texts, format=format
    )
    return size


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def hypervolume_ratio(found: Exploration, exhaustive: Exploration) -> float:
    """The hypervolume of ``found``'s front over that of the exhaustive front, both normalised by the
    exhaustive front's ideal and nadir points, from the reference point 1.1 in every objective."""
    from pymoo.indicators.hv import HV

    reference = exhaustive.front.costs(exhaustive.front.columns)
    ideal, nadir = reference.min(axis=0), reference.max(axis=0)
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    indicator = HV(ref_point=np.full(reference.shape[1], 1.1))
    exact = indicator((reference - ideal) / span)
    mine = found.front.costs(found.front.columns)
    return float(indicator((mine - ideal) / span) / exact) if exact else 1.0
