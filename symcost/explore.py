"""Design-space exploration: the Pareto front of a pack's outputs over its knobs.

``explore_grid`` streams every design of a :class:`~symcost.design_space.DesignSpace`
through a :class:`~symcost.pareto.StreamingFront` (constraints first, then the
non-dominated filter, chunk by chunk), so memory is bounded by the front
whatever the grid's size. The front has the columns ``symcost sweep`` writes
for the same axes and outputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from .design_space import DesignSpace, design_blocks
from .errors import SymcostError
from .pareto import Constraint, Objective, StreamingFront, constraint_parts, parse_constraint
from .registry import PackModel, require_outputs
from .progress import Progress
from .sweep import CHUNK, write_blocks


@dataclass
class Exploration:
    space: DesignSpace
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...]
    columns: tuple[str, ...]          # outputs written beside the axes
    front: StreamingFront
    integers: tuple[str, ...] = ()    # axis columns of whole numbers
    texts: tuple[str, ...] = ()       # axis columns of words (a schedule's name)
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


def explore_grid(space: DesignSpace, objectives: Sequence[Objective], constraints: Sequence[str] = (),
                 columns: Sequence[str] = (), *, chunk: int = CHUNK, progress: TextIO | None = None) -> Exploration:
    """Every design of ``space`` evaluated; the feasible non-dominated ones kept. ``constraints`` are
    texts (``area<=800 mm^2``), read against the outputs' units once the first variant is compiled."""
    if len(objectives) < 2:
        raise SymcostError("give at least two --objective: a front needs two things to trade")
    outputs = tuple(dict.fromkeys([*(objective.name for objective in objectives),
                                   *(constraint_parts(text)[0] for text in constraints), *columns]))
    front = StreamingFront(tuple(objectives))
    units: dict[str, str] = {}

    def first_model(model: PackModel) -> None:
        if units:
            return
        require_outputs(model, outputs)
        units.update((name, model.unit(name)) for name in outputs)
        front.constraints = tuple(parse_constraint(text, units) for text in constraints)

    meter = Progress("explore", space.size, progress) if progress is not None else None
    kinds: dict[str, str] = {}
    for done, block in design_blocks(space, outputs, chunk, on_model=first_model, mask_limits=True):
        kinds.update((axis.name, np.asarray(block[axis.name]).dtype.kind) for axis in space.axes)
        front.add(block)
        if meter:
            meter.update(done)
    if meter:
        meter.finish()
    return Exploration(space, tuple(objectives), tuple(front.constraints), outputs, front,
                       tuple(name for name, kind in kinds.items() if kind in "iu"),
                       tuple(name for name, kind in kinds.items() if kind in "OU"), units)


def write_front(exploration: Exploration, path: str | Path, format: str | None = None) -> int:
    """The front, ordered by the objectives, as CSV or Parquet; returns the number of designs."""
    designs = exploration.front.ordered()
    size = exploration.front.size
    blocks = iter([(size, designs)]) if size else iter(())
    write_blocks(path, exploration.names, blocks, size, integers=exploration.integers, texts=exploration.texts,
                 format=format)
    return size


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value
