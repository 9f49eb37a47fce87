"""Parameter sweeps: a grid over evaluator inputs, evaluated in vectorised chunks to CSV or Parquet.

Axis syntax (``--axis NAME=SPEC``):

* ``START:STOP`` integers START..STOP inclusive (``K=1:16``);
* ``START:STOP:N`` N evenly spaced values, STOP included (``alpha=0.5:0.95:10``);
* ``START:STOP:logN`` N log-spaced values (``L_prompt=64:65536:log32``);
* ``V1,V2,...`` explicit values.

The values of integer inputs (a pack symbol with an integer domain: ``L_prompt``, ``K``) are rounded
and de-duplicated.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from .documents import MAX_EXACT_INTEGER
from .errors import SymcostError
from .progress import Progress
from .registry import PackModel
from .size_limits import MAX_AXIS_VALUES, MAX_GRID_POINTS, SizeLimitError, check_size
from .tables import open_table

# The evaluator returns every output (518 for the tiny example) for each chunk, plus its common
# sub-expressions: peak memory for a 986,112-point sweep was 233 MB with 10,000-point chunks,
# 591 MB with 50,000 and 1.9 GB with 200,000, at the same speed. 20,000 also gives the progress
# line fifty updates per million points.
CHUNK = 20_000


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
    except (ValueError, SizeLimitError) as exc:
        raise SymcostError(f"axis {text!r}: {exc}") from None
    if values.size == 0 or (values.dtype.kind == "f" and not np.all(np.isfinite(values))):
        raise SymcostError(f"axis {text!r}: expected finite values")
    return Axis(name, values)


def is_integer(model: PackModel, name: str) -> bool:
    """Whether the input ``name`` takes whole numbers only (a prompt length, K, a layer count)."""
    return model.domain(name).endswith("integer")


def checked_axes(model: PackModel, axes: Sequence[Axis]) -> list[Axis]:
    """The axes, refused where a value lies outside its input's domain (a negative K, a zero count, which
    the formulas would turn into negative energies), with the values of integer inputs rounded and
    de-duplicated; such values must be whole numbers symcost computes exactly (|n| <= 2**53)."""
    rounded = []
    for axis in axes:
        _check_domain(axis, model.domain(axis.name))
        if is_integer(model, axis.name):
            values = np.unique(np.round(axis.values))
            if np.abs(values).max() > MAX_EXACT_INTEGER:
                raise SymcostError(f"axis {axis.name}: integer values must be within +-{MAX_EXACT_INTEGER}")
            axis = Axis(axis.name, values)
        rounded.append(axis)
    return rounded


def _check_domain(axis: Axis, domain: str) -> None:
    if axis.values.dtype.kind not in "fiu":  # words: a structural axis, checked where it is applied
        return
    lowest = float(np.min(axis.values))
    if domain.startswith("positive") and lowest <= 0 or domain.startswith("nonnegative") and lowest < 0:
        bound = "positive" if domain.startswith("positive") else "non-negative"
        raise SymcostError(
            f"axis {axis.name}: values must be {bound} ({axis.name} is {domain.replace('_', ' ')}), got {lowest:g}"
        )


def _axis_values(spec: str) -> np.ndarray:
    if ":" not in spec:
        parts = [part.strip() for part in spec.split(",") if part.strip()]
        _check_axis_size(len(parts))
        try:
            return np.array([float(part) for part in parts])
        except ValueError:  # words: the values of a structural axis (a schedule's name)
            return np.array(parts, dtype=object)
    parts = spec.split(":")
    if len(parts) == 2:
        start, stop = int(parts[0]), int(parts[1])
        if stop < start:
            raise ValueError("STOP is below START")
        _check_axis_size(stop - start + 1)
        return np.arange(start, stop + 1, dtype=float)
    if len(parts) != 3:
        raise ValueError("expected START:STOP[:N|:logN]")
    start, stop, count = float(parts[0]), float(parts[1]), parts[2]
    points = int(count[3:] if count.startswith("log") else count)
    _check_axis_size(points)
    if count.startswith("log"):
        if start <= 0 or stop <= 0:
            raise ValueError("log spacing needs positive START and STOP")
        return np.geomspace(start, stop, points)
    return np.linspace(start, stop, points)


def _check_axis_size(count: int) -> None:
    check_size("values on one axis", count, MAX_AXIS_VALUES)


def check_request(model: PackModel, axes: Sequence[Axis], columns: Sequence[str]) -> None:
    """Refuse unknown axes and outputs before any work is done or any file is written."""
    given = {model.input_for(axis.name)[0] for axis in axes}  # unknown names raise here
    needed = [name for name in model.evaluator.input_names if name not in model.defaults and name not in given]
    if needed:
        raise SymcostError(f"the sweep needs an axis for {', '.join(needed)} (no default value)")
    missing = [column for column in columns if column not in model.evaluator.names]
    if missing:
        raise SymcostError(f"unknown output {', '.join(missing)}")
    repeated = sorted(name for name, count in Counter(axis.name for axis in axes).items() if count > 1)
    if repeated:
        raise SymcostError(f"axis {', '.join(repeated)} given more than once")
    check_grid(grid_size(axes), len(axes) + len(columns))


def check_grid(points: int, width: int) -> None:
    """A sweep writes every point: refuse a grid beyond :data:`MAX_GRID_POINTS` before any work."""
    check_size(
        "sweep grid points",
        points,
        MAX_GRID_POINTS,
        values_per_item=width,
        held_as="data",
        advice="split the sweep or coarsen an axis (symcost explore keeps only the front of any grid)",
    )


def _in_si(model: PackModel, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    converted = {}
    for name, values in inputs.items():
        input_name, factor = model.input_for(name)
        converted[input_name] = values * factor
    return converted


def grid_size(axes: Sequence[Axis]) -> int:
    return math.prod(axis.values.size for axis in axes)


def evaluate_blocks(
    model: PackModel,
    axes: Sequence[Axis],
    columns: Sequence[str],
    chunk: int = CHUNK,
    mask_limits: bool = False,
    start: int = 0,
    stop: int | None = None,
) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """The grid in row-major order, ``chunk`` points at a time: (points done so far, {column: values}).
    With ``mask_limits``, a point beyond a limit of the pack is no error: the block's ``within_limits``
    column says which points are within. ``start`` and ``stop`` pick a range of the grid's points (a
    cluster's task)."""
    shape = tuple(axis.values.size for axis in axes) or (1,)  # no axis: the one point of the inputs
    total = math.prod(shape) if stop is None else stop
    for first in range(start, total, chunk):
        flat = np.arange(first, min(first + chunk, total))
        coordinates = np.unravel_index(flat, shape)
        inputs = {axis.name: axis.values[index] for axis, index in zip(axes, coordinates)}
        results, within = model.evaluate_within_limits(raise_beyond=not mask_limits, **_in_si(model, inputs))
        results = {column: np.broadcast_to(results[column], flat.shape) for column in columns}
        if mask_limits:
            results["within_limits"] = np.broadcast_to(within, flat.shape)
        block = {
            axis.name: inputs[axis.name].astype(np.int64) if is_integer(model, axis.name) else inputs[axis.name]
            for axis in axes
        }
        block.update((column, results[column]) for column in columns)
        yield first + flat.size, block


def write_sweep(
    model: PackModel,
    axes: Sequence[Axis],
    path: str | Path,
    columns: Sequence[str],
    *,
    format: str | None = None,
    progress: TextIO | None = None,
    chunk: int = CHUNK,
) -> int:
    """Evaluate the full grid of ``axes`` into a CSV or Parquet file; returns the number of points.

    With ``progress`` (a stream), reports points done, rate and time left there.
    A sweep that fails part way leaves no partial file behind.
    """
    axes = checked_axes(model, axes)
    check_request(model, axes, columns)
    integers = [axis.name for axis in axes if is_integer(model, axis.name)]
    return write_blocks(
        path,
        [axis.name for axis in axes] + list(columns),
        evaluate_blocks(model, axes, columns, chunk),
        grid_size(axes),
        integers=integers,
        format=format,
        progress=progress,
    )


def write_blocks(
    path: str | Path,
    names: Sequence[str],
    blocks: Iterator[tuple[int, dict[str, np.ndarray]]],
    total: int,
    *,
    integers: Sequence[str] = (),
    texts: Sequence[str] = (),
    format: str | None = None,
    progress: TextIO | None = None,
) -> int:
    """Blocks of (points done, {column: values}) written as they come; nothing is left behind on failure."""
    table = open_table(path, names, integers, format, texts)
    meter = Progress("sweep", total, progress) if progress is not None else None
    try:
        for done, block in blocks:
            table.write(block)
            if meter:
                meter.update(done)
    except BaseException:
        table.close()
        Path(path).unlink(missing_ok=True)
        raise
    finally:
        if meter:
            meter.finish()
    table.close()
    return total
