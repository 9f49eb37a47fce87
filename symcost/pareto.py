"""Objectives, constraints and non-dominated sets, kept bounded while a grid streams past.

Objectives are outputs to minimise or maximise (``min:energy_per_token``);
constraints bound an output (``area<=800 mm^2``, the value in the unit given,
converted to the output's SI unit). A design is on the front when no feasible
design is at least as good in every objective and better in one; designs with
equal objective values are all kept. :class:`StreamingFront` takes blocks of
designs and holds only the front of what it has seen, so memory stays bounded
by the front, whatever the grid's size.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from .errors import SymcostError
from .units import parse_unit, to_unit

_CONSTRAINT = re.compile(r"^\s*(?P<name>[A-Za-z_][\w.]*)\s*(?P<op><=|>=)\s*(?P<value>.+?)\s*$")


@dataclass(frozen=True)
class Objective:
    name: str
    sense: str  # "min" or "max"

    def minimised(self, values: np.ndarray) -> np.ndarray:
        return values if self.sense == "min" else -values


@dataclass(frozen=True)
class Constraint:
    name: str
    op: str        # "<=" or ">="
    value: float   # SI
    text: str

    def holds(self, values: np.ndarray) -> np.ndarray:
        return values <= self.value if self.op == "<=" else values >= self.value


def parse_objective(text: str) -> Objective:
    sense, separator, name = text.partition(":")
    if not separator or sense not in ("min", "max") or not name.strip():
        raise SymcostError(f"--objective {text!r}: expected min:OUTPUT or max:OUTPUT")
    return Objective(name.strip(), sense)


def constraint_parts(text: str) -> tuple[str, str, str]:
    """``OUTPUT<=VALUE`` split into (output, operator, value text), or a clear error."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise SymcostError(f"--constraint {text!r}: expected OUTPUT<=VALUE or OUTPUT>=VALUE, a unit allowed")
    return match.group("name"), match.group("op"), match.group("value")


def parse_constraint(text: str, unit_of: Mapping[str, str]) -> Constraint:
    """``OUTPUT<=VALUE[unit]`` with the value in the output's SI unit (``unit_of``: output -> unit); a bare
    number is in that SI unit already."""
    name, op, value_text = constraint_parts(text)
    if name not in unit_of:
        raise SymcostError(f"--constraint {text!r}: {name!r} is not an output")
    unit = parse_unit(unit_of[name])
    try:
        value = float(value_text)
    except ValueError:
        try:
            value = to_unit(value_text, unit) * unit.si_factor
        except ValueError as error:
            raise SymcostError(f"--constraint {text!r}: {error}") from None
    return Constraint(name, op, value, text)


def non_dominated(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``costs`` (designs x objectives, all minimised) that no other row
    dominates. Each pass keeps what the best remaining design does not dominate, so the work is
    about (rows x front size)."""
    candidates = np.arange(costs.shape[0])
    keep = np.zeros(costs.shape[0], dtype=bool)
    while candidates.size:
        # The candidate with the smallest sum of objectives is dominated by none of the others.
        best = candidates[np.argmin(costs[candidates].sum(axis=1))]
        keep[best] = True
        rest = candidates[candidates != best]
        dominated = np.all(costs[best] <= costs[rest], axis=1) & np.any(costs[best] < costs[rest], axis=1)
        candidates = rest[~dominated]
        # Rows equal to the best are not dominated by it and stay candidates; the loop keeps them in turn.
    return keep


@dataclass
class StreamingFront:
    """The non-dominated feasible designs of every block seen so far (columns: arrays of one length)."""

    objectives: Sequence[Objective]
    constraints: Sequence[Constraint] = ()
    evaluated: int = 0
    feasible: int = 0
    columns: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, block: Mapping[str, np.ndarray]) -> None:
        size = len(next(iter(block.values())))
        # A design beyond a limit of the pack (the memory, the context capacity) is infeasible.
        mask = np.array(block.get("within_limits", np.ones(size, dtype=bool)), dtype=bool)
        for constraint in self.constraints:
            mask &= constraint.holds(np.asarray(block[constraint.name]))
        self.merge({name: np.asarray(values)[mask] for name, values in block.items() if name != "within_limits"},
                   size, int(mask.sum()))

    def merge(self, designs: Mapping[str, np.ndarray], evaluated: int, feasible: int) -> None:
        """Feasible designs (another front, or a block's feasible rows) merged in, with the counts of what
        they were chosen from."""
        self.evaluated += evaluated
        self.feasible += feasible
        if not designs or not len(next(iter(designs.values()))):
            return
        merged = {name: np.concatenate([self.columns[name], values]) if self.columns else values
                  for name, values in designs.items()}
        keep = non_dominated(self.costs(merged))
        self.columns = {name: values[keep] for name, values in merged.items()}

    def costs(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.column_stack([objective.minimised(np.asarray(columns[objective.name], dtype=np.float64))
                                for objective in self.objectives])

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def ordered(self) -> dict[str, np.ndarray]:
        """The front sorted by the first objective, then the others (a stable order for files)."""
        if not self.columns:
            return {}
        order = np.lexsort(self.costs(self.columns).T[::-1])
        return {name: values[order] for name, values in self.columns.items()}
