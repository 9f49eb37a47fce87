"""Figures of a SpAtten study: Gantt chart of the last trial, histograms over the trials, P/R contour.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot state, no
display needed) and returned, so callers and tests can inspect them before
:func:`write_plots` saves them as PNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from .study import SPEEDUP, Study, Sweep

DPI = 100


@dataclass(frozen=True)
class Schedule:
    """How a design lays out one layer's stages: a sequence, then parallel lanes; the layer ends with its longest lane.

    This mirrors the pack's ``*_layer_cycles`` quantities (a test checks that
    every layer's drawn end equals them); it only places the bars.
    """

    title: str
    total: str
    sequence: tuple[str, ...]
    lanes: tuple[tuple[str, ...], ...] = ()


SCHEDULES = (
    Schedule(
        "Baseline (last trial)",
        "baseline_layer_cycles",
        ("fetch_cycles", "qk_cycles", "softmax_cycles", "av_cycles", "score_cycles", "top_k_cycles"),
    ),
    Schedule(
        "Pipelined Lookahead (last trial)",
        "pipelined_layer_cycles",
        ("fetch_cycles", "qk_cycles", "softmax_cycles"),
        (
            ("av_cycles", "corrective_fetch_cycles"),
            ("predictor_cycles", "proxy_cycles", "top_k_cycles", "speculative_fetch_cycles"),
        ),
    ),
)
STAGE_STYLE = {  # term -> (legend label, colour)
    "fetch_cycles": ("DRAM fetch (QKV)", "gray"),
    "qk_cycles": ("QK mult", "coral"),
    "softmax_cycles": ("Softmax", "gold"),
    "av_cycles": ("AV mult", "salmon"),
    "score_cycles": ("Score comp (stall)", "skyblue"),
    "top_k_cycles": ("Top-k", "dodgerblue"),
    "predictor_cycles": ("Predictor (lookahead)", "mediumpurple"),
    "proxy_cycles": ("Proxy score (lookahead)", "lightsteelblue"),
    "speculative_fetch_cycles": ("Speculative fetch", "darkgray"),
    "corrective_fetch_cycles": ("Corrective fetch (FN)", "red"),
}


@dataclass(frozen=True)
class Bar:
    layer: int
    term: str
    start: float
    duration: float
    lane: int  # -1: the shared sequence; 0, 1, ...: a parallel lane


def gantt_bars(schedule: Schedule, layer_values: dict[str, np.ndarray]) -> list[Bar]:
    """Every stage of every layer as a bar; layers start where the previous one ends (per the pack's total)."""
    bars = []
    layer_start = 0.0
    for layer, total in enumerate(layer_values[schedule.total]):
        offset = layer_start
        for term in schedule.sequence:
            bars.append(Bar(layer, term, offset, float(layer_values[term][layer]), -1))
            offset += bars[-1].duration
        for lane, terms in enumerate(schedule.lanes):
            lane_offset = offset
            for term in terms:
                bars.append(Bar(layer, term, lane_offset, float(layer_values[term][layer]), lane))
                lane_offset += bars[-1].duration
        layer_start += float(total)
    return bars


def gantt_figure(study: Study) -> Figure:
    model, last = study.model, study.montecarlo.last_trial
    figure = Figure(figsize=(12, 8.5), dpi=DPI, layout="constrained")
    figure.suptitle(f"SpAtten lookahead, {model.config.name}: P={model.precision:.3f}, R={model.recall:.3f}")
    axes = figure.subplots(len(SCHEDULES), 1, sharex=True)
    for ax, schedule in zip(axes, SCHEDULES):
        _draw_bars(ax, gantt_bars(schedule, last), len(model.tokens))
        ax.set_title(schedule.title)
        ax.set_xlabel("Clock Cycles")
    figure.legend(
        handles=[Patch(color=colour, label=label) for label, colour in STAGE_STYLE.values()], loc="outside right upper"
    )
    return figure


def _draw_bars(ax, bars: list[Bar], layers: int) -> None:
    for bar in bars:
        # The shared sequence fills the row; parallel lanes split it (lane 0 above, lane 1 below).
        height = 0.7 if bar.lane < 0 else 0.34
        centre = bar.layer if bar.lane < 0 else bar.layer - 0.175 + 0.35 * bar.lane
        ax.barh(
            centre,
            bar.duration,
            left=bar.start,
            height=height,
            color=STAGE_STYLE[bar.term][1],
            edgecolor="black",
            linewidth=0.3,
        )
    ax.set_yticks(range(layers), [f"Layer {layer}" for layer in range(layers)])
    ax.set_ylim(layers - 0.5, -0.5)
    ax.set_ylabel("Layer")
    ax.grid(axis="x", linestyle="--", alpha=0.6)


def histogram_figure(
    values: np.ndarray, title: str, xlabel: str, exact: float | None = None, exact_label: str = "exact expectation"
) -> Figure:
    figure = Figure(figsize=(8, 5), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    spread = float(np.ptp(values))
    # Identical trials (a deterministic metric) still get a visible bar around their value.
    half_width = spread / 2 if spread > 0 else max(abs(float(values[0])) * 0.01, 1e-9)
    centre = (float(values.max()) + float(values.min())) / 2
    ax.hist(values, bins=min(40, max(1, np.unique(values).size)), range=(centre - half_width, centre + half_width))
    ax.axvline(float(np.mean(values)), color="black", linestyle="--", label=f"mean of trials = {np.mean(values):.4g}")
    if exact is not None:
        ax.axvline(exact, color="tab:red", linestyle=":", label=f"{exact_label} = {exact:.4g}")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Trials")
    ax.legend()
    return figure


def contour_figure(sweep: Sweep, precision: float, recall: float, name: str) -> Figure:
    figure = Figure(figsize=(8, 6.5), dpi=DPI, layout="constrained")
    ax = figure.subplots()
    grid_p, grid_r = np.meshgrid(sweep.precisions, sweep.recalls)
    low, high = float(sweep.speedup.min()), float(sweep.speedup.max())
    levels = np.linspace(low, high, 21) if high > low else [low - 1, low + 1]
    filled = ax.contourf(grid_p, grid_r, sweep.speedup, levels=levels, cmap="RdYlBu")
    figure.colorbar(filled, ax=ax, label="Net Speedup (%)")
    if low < 0 < high:
        zero = ax.contour(grid_p, grid_r, sweep.speedup, levels=[0.0], colors="black", linestyles="--")
        ax.clabel(zero, fmt="break-even (0%%)")
    ax.plot(
        [precision],
        [recall],
        marker="*",
        markersize=14,
        color="black",
        linestyle="none",
        label=f"P={precision:.3f}, R={recall:.3f}",
    )
    ax.legend(loc="lower left")
    ax.set_xlabel("Predictor Precision")
    ax.set_ylabel("Predictor Recall")
    ax.set_title(f"Net speedup (%) vs predictor quality, exact expectation ({name})")
    ax.grid(True, linestyle=":", alpha=0.6)
    return figure


def study_figures(study: Study) -> dict[str, Figure]:
    """The five figures, keyed by file name."""
    model, metrics = study.model, study.montecarlo.metrics
    tag = f"P{model.precision:.3f}_R{model.recall:.3f}"
    speedups = model.series(metrics)[SPEEDUP]
    return {
        f"gantt_{tag}.png": gantt_figure(study),
        f"speedup_hist_{tag}.png": histogram_figure(
            speedups,
            "Net speedup per trial",
            "Net speedup (%)",
            study.expected_speedup,
            "exact (ratio of expected cycles)",
        ),
        f"wasted_hist_{tag}.png": histogram_figure(
            metrics["total_wasted_bytes"] / 1e6,
            "Wasted DRAM traffic per trial",
            "Wasted traffic (MB)",
            float(study.exact.mean["total_wasted_bytes"]) / 1e6,
        ),
        f"hiding_hist_{tag}.png": histogram_figure(
            metrics["mean_hidden_cycles"],
            "Hidden time per layer, mean of a trial",
            "Hidden time (cycles)",
            float(study.exact.mean["mean_hidden_cycles"]),
        ),
        "pr_sweep_contour.png": contour_figure(study.sweep, model.precision, model.recall, model.config.name),
    }


def write_plots(study: Study, directory: str | Path) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in study_figures(study).items():
        figure.savefig(directory / name)
        written.append(directory / name)
    return written
