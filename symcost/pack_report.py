"""The generic report of any pack: every term and quantity at every point of the axes' grid, in SI.

JSON (``schemas/pack-report.schema.json``)::

    {"symcost_version": ..., "pack": {"name", "version", "sha256"},
     "inputs": [{"file", "sha256"}], "settings": {PATH: VALUE}, "limits": [{"name", "message"}],
     "unknown": [{"name", "inputs"}],          (only when some output is not known)
     "points": [{"axes": {SYMBOL: value}, "values": {NAME: {"value": x, "unit": "s"}}}],
     "diagnostics": [...]}                     (the pack's checks, :mod:`symcost.diagnostics`)

``unknown`` lists the outputs that are not known because they use an input the
documents do not give and the pack calls unknown (a power rating), with those
inputs' paths; they are left out of the points.

Axis values are given in the unit their symbol declares (``--axis BW=1000:2000``
with BW in GB/s) and reported the same way; outputs are SI. The table shows
the pack's quantities, one row each, one column per point.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .diagnostics import evaluate_diagnostics
from .diagnostics_table import format_diagnostics
from .errors import SymcostError
from .input_tree import InputTree
from .registry import PackModel
from .size_limits import MAX_REPORT_POINTS, check_size
from .sweep import Axis
from .units import format_si

TABLE_POINTS = 6


def grid_points(model: PackModel, axes: Sequence[Axis]) -> tuple[list[dict[str, float]], dict[str, np.ndarray]]:
    """The grid of ``axes`` as points ({axis: value as given}) and as evaluator inputs (SI arrays)."""
    repeated = sorted({axis.name for axis in axes if [other.name for other in axes].count(axis.name) > 1})
    if repeated:
        raise SymcostError(f"axis {', '.join(repeated)} given more than once")
    check_size(
        "report points",
        int(np.prod([axis.values.size for axis in axes])),
        MAX_REPORT_POINTS,
        advice="`symcost sweep` streams larger grids to a file",
    )
    points = [
        dict(zip([axis.name for axis in axes], combination))
        for combination in itertools.product(*(axis.values.tolist() for axis in axes))
    ]
    inputs: dict[str, np.ndarray] = {}
    for axis in axes:
        name, factor = model.input_for(axis.name)
        inputs[name] = np.array([point[axis.name] for point in points], dtype=np.float64) * factor
    return points, inputs


def pack_report(model: PackModel, tree: InputTree, axes: Sequence[Axis]) -> dict:
    """The report of ``model`` over the grid of ``axes`` (no axes: one point at the inputs' values)."""
    points, inputs = grid_points(model, axes)
    results = model.evaluate(**inputs)
    # An output that uses an input the documents leave unknown (an unrated power) is listed, not reported.
    not_known = getattr(model, "not_known", {})
    unknown = {
        name: not_known[name]
        for name in model.output_names
        if name in results and name in not_known and not np.all(np.isfinite(results[name]))
    }
    names = [name for name in model.output_names if name in results and name not in unknown]
    units = {name: model.unit(name) for name in names}
    report = {
        "symcost_version": __version__,
        "pack": pack_identity(model.pack),
        "inputs": [{"file": path.name, "sha256": _sha256(path)} for path in tree.files],
        "settings": {path: value for path, value in tree.settings},
        "limits": [{"name": name, "message": message} for name, message in model.limits],
        "points": [
            {
                "axes": point,
                "values": {
                    name: {
                        "value": float(np.ravel(results[name])[index] if np.ndim(results[name]) else results[name]),
                        "unit": units[name],
                    }
                    for name in names
                },
            }
            for index, point in enumerate(points)
        ],
    }
    if unknown:
        report["unknown"] = [{"name": name, "inputs": list(paths)} for name, paths in unknown.items()]
    if model.pack.diagnostics:
        report["diagnostics"] = evaluate_diagnostics(
            model.pack, _bound_values(model), {**model.defaults, **inputs}, results, model.unit, points
        )
    return report


def _bound_values(model: PackModel) -> dict:
    """The SI values of the pack's bound symbols: a chain model keeps them; the selfspec model binds its
    documents for them."""
    if isinstance(getattr(model, "fixed", None), dict):
        return model.fixed
    if hasattr(model, "recipe"):
        from .packs.selfspec.report import bound_values

        return bound_values(model)
    return {}


def pack_identity(pack) -> dict:
    """Name, version and SHA-256 of a pack's file (never its path: reports may leave the machine)."""
    return {"name": pack.name, "version": pack.version, "sha256": _sha256(Path(pack.source))}


def format_pack_table(report: dict, quantities: Sequence[str]) -> str:
    """The pack's quantities at the first :data:`TABLE_POINTS` points (all of them are in the JSON)."""
    points = report["points"][:TABLE_POINTS]
    header = [", ".join(f"{name}={value:g}" for name, value in point["axes"].items()) or "value" for point in points]
    width = max([len(name) for name in quantities] + [8])
    lines = [f"pack {report['pack']['name']} v{report['pack']['version']}"]
    lines.append(" " * width + " | " + " | ".join(f"{text:>14}" for text in header))
    unknown = {entry["name"]: entry["inputs"] for entry in report.get("unknown", [])}
    for name in quantities:
        cells = ["not known"] * len(points) if name in unknown else [_cell(point["values"][name]) for point in points]
        lines.append(f"{name:<{width}} | " + " | ".join(f"{cell:>14}" for cell in cells))
    lines += [f"{name}: not known without {' and '.join(paths)}" for name, paths in unknown.items()]
    if len(report["points"]) > TABLE_POINTS:
        lines.append(f"({len(report['points']) - TABLE_POINTS} more points in the JSON report, -o FILE)")
    if report.get("diagnostics"):
        lines += ["", format_diagnostics(report["diagnostics"])]
    return "\n".join(lines)


def _cell(entry: dict) -> str:
    unit = entry["unit"]
    if unit in ("J", "s", "W", "B", "B/s"):  # an SI prefix reads right only on a plain unit (not on m^2)
        return format_si(entry["value"], unit)
    return f"{entry['value']:.4g}" + ("" if unit == "1" else f" {unit}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
