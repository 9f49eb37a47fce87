"""The selfspec report's figures: per-token cost against prompt length with the break-even, and where a
burst's energy and time go (stacked bars by stage and phase).

Every function takes the report dict of :func:`symcost.packs.selfspec.report.build_report`, or that
report read back from its JSON, and returns a matplotlib ``Figure``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter

from ...errors import SymcostError
from .outputs import LEAKAGE

PROMPT_LABEL = "prompt length L_prompt (tokens)"


PER_TOKEN = (
    ("energy", "energy_per_token_J", "J", "energy per committed token"),
    ("latency", "latency_per_token_s", "s", "latency per committed token"),
)


BREAKDOWNS = (("by_stage", "stage"), ("by_phase", "phase"))


VERDICT_NOTES = {
    "always_better": "no break-even: speculative is lower for every L_prompt in [{0:,.0f}, {1:,.0f}]",
    "never_better": "no break-even: baseline is lower for every L_prompt in [{0:,.0f}, {1:,.0f}]",
}


def per_token_figure(report: dict) -> Figure:
    """Energy and latency per committed token against L_prompt (log axis), speculative and baseline.

    Where the report's ``break_even`` says the curves cross, a solid vertical
    line marks it; the crossings of the pack's other comparisons (such as
    attention vs the linear layers) are dotted lines.
    """
    points = [point for point in report["points"] if point["L_prompt"] > 0]  # a log axis has no 0
    if not points:
        raise SymcostError("the report has no point with L_prompt > 0 to plot on a log axis")
    lengths = [point["L_prompt"] for point in points]
    figure = Figure(figsize=(11, 5.4), layout="constrained")
    for axes, (quantity, field, unit, title) in zip(figure.subplots(1, 2), PER_TOKEN):
        axes.plot(
            lengths,
            [point["speculative"][field] for point in points],
            "-",
            color="C0",
            label=f"speculative (K = {report['speculation']['K']})",
        )
        axes.plot(
            lengths, [point["baseline"][field] for point in points], "--", color="C1", label="baseline (no speculation)"
        )
        axes.set_xscale("log")
        axes.set(title=title, xlabel=PROMPT_LABEL, ylabel=f"{title} ({unit})")
        axes.yaxis.set_major_formatter(EngFormatter(unit=unit))
        axes.grid(True, which="major", alpha=0.3)
        _mark_break_even(axes, report.get("break_even", {}), quantity)
        axes.legend(loc="upper left", bbox_to_anchor=(0.0, -0.14), fontsize="small", frameon=False)
    figure.suptitle(_title(report))
    return figure


def _crossings(found: dict) -> list[float]:
    if found["verdict"] != "crosses":
        return []
    return list(found.get("crossings") or [found["L_prompt"]])


def _mark_break_even(axes: Axes, break_even: dict, quantity: str) -> None:
    for comparison, by_quantity in break_even.items():
        found = by_quantity.get(quantity)
        if found is None:
            continue
        main = comparison == "vs_baseline"
        name = "break-even vs baseline" if main else comparison.replace("_vs_", " = ").replace("_", " ")
        for index, at in enumerate(_crossings(found)):
            axes.axvline(
                at,
                color="k" if main else "0.45",
                linestyle="-" if main else ":",
                linewidth=1.2,
                label=f"{name}: L = {at:,.1f}" if index == 0 else None,
            )
            axes.annotate(
                f"L = {at:,.0f}",
                xy=(at, 0.98),
                xycoords=axes.get_xaxis_transform(),
                rotation=90,
                xytext=(3, 0),
                textcoords="offset points",
                fontsize="small",
                va="top",
            )
        if main and found["verdict"] in VERDICT_NOTES:
            # No line to draw: say so where the reader looks for it, as a legend entry without a mark.
            axes.plot([], [], " ", label=VERDICT_NOTES[found["verdict"]].format(*found["domain"]))


def _title(report: dict) -> str:
    inputs, hardware = report["inputs"], report["hardware"]
    return (
        f"{Path(inputs['model']['path']).name} on {Path(inputs['hardware']['path']).name} "
        f"({hardware['schedule']}), K = {report['speculation']['K']}"
    )


def choose_points(points: Sequence[dict], lengths: Sequence[float] | None = None, count: int = 4) -> list[dict]:
    """The report's points nearest to ``lengths``; by default ``count`` log-spread ones from first to last."""
    available = np.array([point["L_prompt"] for point in points], dtype=float)
    if lengths is None:
        lengths = np.geomspace(max(available.min(), 1.0), max(available.max(), 1.0), min(count, available.size))
    nearest = {int(np.argmin(np.abs(available - length))) for length in lengths}
    return [points[index] for index in sorted(nearest)]


def breakdown_figure(report: dict, lengths: Sequence[float] | None = None) -> Figure:
    """Stacked bars of the speculative burst's energy and latency, by stage and by phase, at chosen L_prompt.

    Every entry of the report's breakdown is a segment, the static energy
    (``leakage``, often most of a burst's energy) too: it is stacked last,
    grey and hatched, with its share of the burst energy written above the
    bar, so each energy bar is as tall as the burst energy. The latency bars
    are summed stage times (leakage takes none); a black tick marks the
    burst latency, which a layer-pipelined schedule makes shorter.
    """
    points = choose_points(report["points"], lengths)
    positions = np.arange(len(points))
    figure = Figure(figsize=(12, 7.5), layout="constrained")
    for row, (view, noun) in zip(figure.subplots(2, 2), BREAKDOWNS):
        energy, latency = row
        _stack(energy, _segments(points, view, "energy_J"))
        shares = [
            point["speculative"][view][LEAKAGE]["energy_J"] / point["speculative"]["burst"]["energy_J"]
            for point in points
        ]
        energy.bar_label(
            energy.containers[-1], [f"{LEAKAGE} {share:.1%}" for share in shares], fontsize="small", padding=2
        )
        energy.set(title=f"energy per burst by {noun}", ylabel="energy per burst (J)")
        _stack(latency, _segments(points, view, "latency_s"))
        latency.plot(
            positions,
            [point["speculative"]["burst"]["latency_s"] for point in points],
            "k_",
            markersize=40,
            markeredgewidth=2,
            label="burst latency",
        )
        latency.set(title=f"latency per burst by {noun} (summed, not overlapped)", ylabel="latency per burst (s)")
        for axes, unit in ((energy, "J"), (latency, "s")):
            axes.set_xticks(positions, [f"L = {point['L_prompt']:,}" for point in points])
            axes.yaxis.set_major_formatter(EngFormatter(unit=unit))
            axes.grid(True, axis="y", alpha=0.3)
            # Stacked bars make every segment's base "sticky", which defeats margins: set the headroom
            # (for the leakage labels) by hand.
            axes.set_ylim(0, axes.dataLim.y1 * 1.2)
        latency.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", title=noun, markerscale=0.4)
    figure.suptitle(f"{_title(report)}: where a speculative burst goes")
    return figure


def _segments(points: Sequence[dict], view: str, field: str) -> dict[str, np.ndarray]:
    """Each entry's values across the points, the static energy last (on top of the stack)."""
    names = list(dict.fromkeys(name for point in points for name in point["speculative"][view] if name != LEAKAGE))
    return {
        name: np.array([point["speculative"][view].get(name, {}).get(field, 0.0) for point in points])
        for name in [*names, LEAKAGE]
    }


def _stack(axes: Axes, segments: dict[str, np.ndarray]) -> None:
    colours = matplotlib.colormaps["tab20"]
    bottom = np.zeros(len(next(iter(segments.values()))))
    for index, (name, values) in enumerate(segments.items()):
        static = name == LEAKAGE
        axes.bar(
            range(len(bottom)),
            values,
            bottom=bottom,
            width=0.6,
            label=name,
            color="0.85" if static else colours(index % 20),
            hatch="//" if static else None,
            edgecolor="0.4",
            linewidth=0.4,
        )
        bottom = bottom + values
