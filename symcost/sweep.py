"""Parameter sweeps: a grid over evaluator inputs, evaluated in vectorised chunks.

Axis syntax (``--axis NAME=SPEC``):

* ``START:STOP`` integers START..STOP inclusive (``K=1:16``);
* ``START:STOP:N`` N evenly spaced values, STOP included (``alpha=0.5:0.95:10``);
* ``START:STOP:logN`` N log-spaced values (``L_prompt=64:65536:log32``);
* ``V1,V2,...`` explicit values.

Integer inputs (``L_prompt``, ``K``) are rounded and de-duplicated.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence, TextIO

import numpy as np

from .errors import SymcostError
from .model import CostModel

INTEGER_AXES = ("L_prompt", "K")
DEFAULT_COLUMNS = ("speculative.energy_per_token", "speculative.latency_per_token", "speculative.throughput",
                   "speculative.tokens_per_joule", "baseline.energy_per_token", "baseline.latency_per_token")
CHUNK = 200_000


@dataclass(frozen=True)
class Axis:
    name: str
    values: np.ndarray


def parse_axis(text: str) -> Axis:
    name, separator, spec = text.partition("=")
    if not separator or not name.strip() or not spec.strip():
        raise SymcostError(f"axis {text!r}: expected NAME=START:STOP[:N|:logN] or NAME=V1,V2,...")
    name = name.strip()
    try:
        values = _axis_values(spec.strip())
    except ValueError as exc:
        raise SymcostError(f"axis {text!r}: {exc}") from None
    if name in INTEGER_AXES:
        values = np.unique(np.round(values))
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise SymcostError(f"axis {text!r}: no finite values")
    return Axis(name, values)


def _axis_values(spec: str) -> np.ndarray:
    if ":" not in spec:
        return np.array([float(part) for part in spec.split(",") if part.strip()])
    parts = spec.split(":")
    if len(parts) == 2:
        start, stop = int(parts[0]), int(parts[1])
        if stop < start:
            raise ValueError("STOP is below START")
        return np.arange(start, stop + 1, dtype=float)
    if len(parts) != 3:
        raise ValueError("expected START:STOP[:N|:logN]")
    start, stop, count = float(parts[0]), float(parts[1]), parts[2]
    if count.startswith("log"):
        points = int(count[3:])
        if start <= 0 or stop <= 0:
            raise ValueError("log spacing needs positive START and STOP")
        return np.geomspace(start, stop, points)
    return np.linspace(start, stop, int(count))


def sweep(model: CostModel, axes: Sequence[Axis], columns: Sequence[str] = DEFAULT_COLUMNS,
          output: TextIO | None = None, progress: TextIO | None = sys.stderr) -> int:
    """Evaluate the full grid of ``axes`` and write CSV rows; returns the number of points."""
    known = set(model.evaluator.input_names)
    unknown = [axis.name for axis in axes if axis.name not in known]
    if unknown:
        raise SymcostError(f"unknown sweep axis {', '.join(unknown)}; this model's inputs are {', '.join(sorted(known))}")
    missing = [column for column in columns if column not in model.evaluator.names]
    if missing:
        raise SymcostError(f"unknown output {', '.join(missing)}")
    shape = tuple(axis.values.size for axis in axes)
    total = math.prod(shape)
    handle = output or sys.stdout
    handle.write(",".join([axis.name for axis in axes] + list(columns)) + "\n")
    formats = ["%d" if axis.name in INTEGER_AXES else "%.17g" for axis in axes] + ["%.17g"] * len(columns)
    for start in range(0, total, CHUNK):
        flat = np.arange(start, min(start + CHUNK, total))
        coordinates = np.unravel_index(flat, shape)
        inputs = {axis.name: axis.values[index] for axis, index in zip(axes, coordinates)}
        results = model.evaluate(**inputs)
        block = np.column_stack([inputs[axis.name] for axis in axes] + [results[column] for column in columns])
        np.savetxt(handle, block, fmt=formats, delimiter=",")
        if progress is not None and total > CHUNK:
            progress.write(f"\rsweep: {min(start + CHUNK, total):,} / {total:,} points")
    if progress is not None and total > CHUNK:
        progress.write("\n")
    return total


def write_sweep(model: CostModel, axes: Sequence[Axis], path: str | Path, columns: Sequence[str] = DEFAULT_COLUMNS) -> int:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        return sweep(model, axes, columns, handle)
