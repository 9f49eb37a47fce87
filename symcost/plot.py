"""Figures: any pack's outputs against one axis, the Pareto front, and rendering them to bytes.

A figure function takes a report dict (a pack report here; the selfspec report's
figures are in :mod:`symcost.packs.selfspec.plots`), so a saved report plots
without rebuilding the model, and returns a matplotlib ``Figure``. Figures are made
without pyplot: nothing needs a screen or touches pyplot's global state, and
``render`` uses matplotlib's Agg (PNG), SVG or PDF backend. Files are written by
:mod:`symcost.figure_files`, which keeps what was drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter


def render(figure: Figure, suffix: str, dpi: int) -> bytes:
    """``figure`` as the bytes of a PNG, SVG or PDF file (``suffix``)."""
    # A fixed salt and no date: the same report gives the same SVG and PDF bytes, so committed figures diff cleanly.
    metadata = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[suffix]
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "symcost"}):
        figure.savefig(buffer, format=suffix, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def warm_up() -> None:
    """Load what drawing a figure first needs (the Agg backend, the default font, the log-axis and legend
    machinery) by rendering a tiny one: done while another process computes the data to draw."""
    figure = Figure(figsize=(1, 1), layout="constrained")
    axes = figure.subplots()
    axes.plot([1, 10], [1, 2], label="-")
    axes.set_xscale("log")
    axes.yaxis.set_major_formatter(EngFormatter(unit="J"))
    axes.legend()
    render(figure, "png", 10)


def pack_figure(report: dict, axis: str, outputs: Sequence[str], crossings: Sequence[float] = ()) -> Figure:
    """Outputs of a pack report (:func:`symcost.pack_report.pack_report`) against one axis, on one
    panel per unit; ``crossings`` (values of the axis where two outputs meet) are vertical lines."""
    points = sorted(report["points"], key=lambda point: point["axes"][axis])
    xs = np.array([point["axes"][axis] for point in points])
    by_unit: dict[str, list[str]] = {}
    for name in outputs:
        by_unit.setdefault(points[0]["values"][name]["unit"], []).append(name)
    figure = Figure(figsize=(6 * len(by_unit), 4.6), layout="constrained")
    for axes, (unit, names) in zip(np.atleast_1d(figure.subplots(1, len(by_unit))), by_unit.items()):
        for name in names:
            axes.plot(xs, [point["values"][name]["value"] for point in points], "-", label=name)
        for value in crossings:
            axes.axvline(value, color="0.3", linestyle=":", linewidth=1)
            axes.annotate(
                f"{axis} = {value:.4g}",
                (value, 0.02),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize="small",
                ha="right",
                va="bottom",
            )
        if xs.min() > 0 and xs.max() / xs.min() > 100:
            axes.set_xscale("log")
        axes.set(xlabel=axis, ylabel=unit)
        if unit not in ("1", ""):
            axes.yaxis.set_major_formatter(EngFormatter(unit=unit))
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small", frameon=False)
    figure.suptitle(f"pack {report['pack']['name']}: {', '.join(outputs)} against {axis}")
    return figure


def front_figure(designs: dict, objectives: Sequence[tuple[str, str, str]]) -> Figure:
    """The Pareto front: the first objective against the second, coloured by the third if there is one.

    ``objectives``: (output, sense, unit) for each objective; ``designs``: the front's columns.
    """
    (x_name, x_sense, x_unit), (y_name, y_sense, y_unit) = objectives[:2]
    figure = Figure(figsize=(7, 5.2), layout="constrained")
    axes = figure.subplots()
    xs, ys = np.asarray(designs[x_name], dtype=float), np.asarray(designs[y_name], dtype=float)
    order = np.argsort(xs)
    if len(objectives) > 2:
        z_name, z_sense, z_unit = objectives[2]
        points = axes.scatter(xs, ys, c=np.asarray(designs[z_name], dtype=float), cmap="viridis", s=22)
        figure.colorbar(points, ax=axes, label=f"{z_sense} {z_name} ({z_unit})")
    else:
        axes.step(xs[order], ys[order], where="post", color="0.6", linewidth=1)
        axes.scatter(xs, ys, s=22, color="C0")
    for axis, unit in ((axes.xaxis, x_unit), (axes.yaxis, y_unit)):
        if unit not in ("1", ""):
            axis.set_major_formatter(EngFormatter(unit=unit))
    axes.set(xlabel=f"{x_sense} {x_name}", ylabel=f"{y_sense} {y_name}")
    axes.grid(True, alpha=0.3)
    figure.suptitle(f"Pareto front: {len(xs)} designs")
    return figure
