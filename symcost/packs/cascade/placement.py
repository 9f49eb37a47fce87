"""Placement feasibility: does every memory level hold the models placed on it?

A level fits when each of its units (core, chip or system) holds what is
placed on it (the pack's ``usage``, bytes per unit) within its capacity, and
no model is split over more units than the level has. Otherwise each problem
is one sentence naming the level, the need and the capacity.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...units import format_si
from .model import CascadeModel

# Usage and capacity are sums of file figures: allow for their rounding, nothing more.
_ROUNDING = 1e-12


@dataclass(frozen=True)
class LevelFit:
    name: str
    per: str
    units: int
    stages: tuple[str, ...]
    usage: float  # bytes per unit
    capacity: float  # bytes per unit
    utilisation: float
    problems: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.problems


def check_placement(model: CascadeModel, figures: dict[str, float] | None = None) -> tuple[LevelFit, ...]:
    """One verdict per memory level, from the model's figures (at the file's values by default)."""
    figures = figures if figures is not None else model.figures()
    return tuple(_level_fit(model, level, figures) for level in model.config.levels)


def fit_figures(fits: tuple[LevelFit, ...], model: CascadeModel) -> dict[str, bool]:
    """``level.NAME.fits`` and ``stage.NAME.fits`` (the stage's level fits), for claims."""
    by_level = {fit.name: fit.fits for fit in fits}
    result = {f"level.{name}.fits": value for name, value in by_level.items()}
    result.update({f"stage.{stage.name}.fits": by_level[stage.placement.level] for stage in model.config.stages})
    return result


def _level_fit(model: CascadeModel, level, figures: dict[str, float]) -> LevelFit:
    placed = [stage for stage in model.config.stages if stage.placement.level == level.name]
    usage, units = figures[f"level.{level.name}.usage"], int(round(figures[f"level.{level.name}.units"]))
    capacity = level.capacity_bytes
    problems = []
    if usage > capacity * (1 + _ROUNDING):
        parts = " + ".join(
            f"{stage.name} {format_si(figures[f'stage.{stage.name}.resident'], 'B')}" for stage in placed
        )
        problems.append(
            f"{level.name}: needs {format_si(usage, 'B')} per {level.per} ({parts}), capacity "
            f"{format_si(capacity, 'B')} per {level.per}: over by {format_si(usage - capacity, 'B')} "
            f"({usage / capacity:.0%} of capacity)"
        )
    for stage in placed:
        if stage.placement.shards > units:
            problems.append(
                f"{level.name}: {stage.name} is split over {stage.placement.shards} {level.per}s, "
                f"but the level has {units}"
            )
    return LevelFit(
        level.name,
        level.per,
        units,
        tuple(stage.name for stage in placed),
        usage,
        capacity,
        figures[f"level.{level.name}.utilisation"],
        tuple(problems),
    )
