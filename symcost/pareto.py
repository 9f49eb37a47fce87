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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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
    op: str  # "<=" or ">="
    value: float  # SI
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


BLOCK = 256  # designs decided together by non_dominated
PAIRS_PER_STEP = 1 << 22  # dominance comparisons held in memory at once (x objectives, booleans)


def non_dominated(costs: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``costs`` (designs x objectives, all minimised) that no other row
    dominates.

    A dominating row is lexicographically smaller than the row it dominates (exactly: no rounding), so
    in lexicographic order a row needs checking only against the front kept so far and its own block.
    The work is about rows x front size comparisons, vectorised a block at a time.
    """
    order = np.lexsort(costs.T[::-1])
    keep = np.zeros(costs.shape[0], dtype=bool)
    kept = costs[:0]
    for start in range(0, order.size, BLOCK):
        rows = order[start : start + BLOCK]
        rows = rows[~dominated_by(kept, costs[rows])]
        rows = rows[~dominated_by(costs[rows], costs[rows])]
        keep[rows] = True
        kept = np.concatenate([kept, costs[rows]])
    return keep


def dominated_by(others: np.ndarray, costs: np.ndarray) -> np.ndarray:
    """For each row of ``costs``, whether some row of ``others`` dominates it (no worse in every
    objective, better in one)."""
    dominated = np.zeros(costs.shape[0], dtype=bool)
    step = max(1, PAIRS_PER_STEP // max(1, costs.shape[0] * costs.shape[1]))
    for start in range(0, others.shape[0], step):
        block = others[start : start + step, None, :]
        dominated |= np.any(np.all(block <= costs, axis=2) & np.any(block < costs, axis=2), axis=0)
    return dominated


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
        self.merge(
            {name: np.asarray(values)[mask] for name, values in block.items() if name != "within_limits"},
            size,
            int(mask.sum()),
        )

    def merge(self, designs: Mapping[str, np.ndarray], evaluated: int, feasible: int) -> None:
        """Feasible designs (another front, or a block's feasible rows) merged in, with the counts of what
        they were chosen from."""
        self.evaluated += evaluated
        self.feasible += feasible
        if not designs or not len(next(iter(designs.values()))):
            return
        own = non_dominated(self.costs(designs))
        designs = {name: np.asarray(values)[own] for name, values in designs.items()}
        if not self.columns:
            self.columns = designs
            return
        # Both sides are non-dominated sets: each keeps what the other side does not dominate.
        old, new = self.costs(self.columns), self.costs(designs)
        new_kept = ~dominated_by(old, new)
        old_kept = ~dominated_by(new[new_kept], old)
        self.columns = {
            name: np.concatenate([self.columns[name][old_kept], designs[name][new_kept]]) for name in designs
        }

    def costs(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.column_stack(
            [
                objective.minimised(np.asarray(columns[objective.name], dtype=np.float64))
                for objective in self.objectives
            ]
        )

    @property
    def size(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0

    def ordered(self) -> dict[str, np.ndarray]:
        """The front sorted by the first objective, then the others (a stable order for files)."""
        if not self.columns:
            return {}
        order = np.lexsort(self.costs(self.columns).T[::-1])
        return {name: values[order] for name, values in self.columns.items()}
