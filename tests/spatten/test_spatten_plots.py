"""The SpAtten figures: what they show, and that the Gantt chart follows the pack's layer totals."""

from __future__ import annotations

import numpy as np
import pytest
from spatten.spatten_configs import EXAMPLE

from symcost.packs.spatten.config import load_config
from symcost.packs.spatten.expectation import exact_metrics
from symcost.packs.spatten.plots import SCHEDULES, contour_figure, gantt_bars, study_figures
from symcost.packs.spatten.study import Sweep, run_study


@pytest.fixture(scope="module")
def study():
    return run_study(load_config(EXAMPLE), trials=20, seed=5)


@pytest.fixture(scope="module")
def figures(study):
    return study_figures(study)


def test_gantt_chart_has_both_designs_layer_by_layer(figures):
    baseline, pipelined = figures["gantt_P0.995_R0.995.png"].axes
    assert [baseline.get_title(), pipelined.get_title()] == [
        "Baseline (last trial)",
        "Pipelined Lookahead (last trial)",
    ]
    for ax in (baseline, pipelined):
        assert ax.get_xlabel() == "Clock Cycles" and ax.get_ylabel() == "Layer"
        assert [label.get_text() for label in ax.get_yticklabels()] == [f"Layer {layer}" for layer in range(12)]
    assert len(baseline.patches) == 12 * 6 and len(pipelined.patches) == 12 * 9


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda schedule: schedule.total)
def test_every_drawn_layer_ends_where_the_pack_says(study, schedule):
    last = study.montecarlo.last_trial
    bars = gantt_bars(schedule, last)
    ends = [max(bar.start + bar.duration for bar in bars if bar.layer == layer) for layer in range(12)]
    np.testing.assert_allclose(ends, np.cumsum(last[schedule.total]), rtol=1e-12)
    # ... and the last trial's total is that trial's metric.
    design = schedule.total.split("_")[0]
    assert ends[-1] == pytest.approx(study.montecarlo.metrics[f"{design}_total_cycles"][-1], rel=1e-12)


@pytest.mark.parametrize(
    ("name", "xlabel"),
    [
        ("speedup_hist_P0.995_R0.995.png", "Net speedup (%)"),
        ("wasted_hist_P0.995_R0.995.png", "Wasted traffic (MB)"),
        ("hiding_hist_P0.995_R0.995.png", "Hidden time (cycles)"),
    ],
)
def test_histograms_count_trials(figures, study, name, xlabel):
    (ax,) = figures[name].axes
    assert ax.get_xlabel() == xlabel and ax.get_ylabel() == "Trials"
    assert sum(patch.get_height() for patch in ax.patches) == study.montecarlo.trials


def test_contour_shows_net_speedup_over_precision_and_recall(figures):
    ax, colorbar = figures["pr_sweep_contour.png"].axes
    assert ax.get_xlabel() == "Predictor Precision" and ax.get_ylabel() == "Predictor Recall"
    assert colorbar.get_ylabel() == "Net Speedup (%)"
    assert ax.get_xlim() == pytest.approx((0.8, 0.999)) and ax.get_ylim() == pytest.approx((0.8, 0.999))


def test_contour_marks_break_even_where_the_speedup_changes_sign():
    axis = np.linspace(0.5, 1.0, 5)
    crossing = Sweep(axis, axis, np.add.outer(axis, axis) * 100 - 150)
    ax = contour_figure(crossing, 0.9, 0.9, "synthetic").axes[0]
    assert any(text.get_text() == "break-even (0%)" for text in ax.texts)
    one_sided = Sweep(axis, axis, np.add.outer(axis, axis) * 100)
    assert not contour_figure(one_sided, 0.9, 0.9, "synthetic").axes[0].texts


def test_sweep_is_the_exact_expectation_at_each_grid_point(study):
    sweep = study.sweep
    point = exact_metrics(study.model, sweep.precisions[3], sweep.recalls[6]).mean
    speedup = 100 * (1 - point["pipelined_total_cycles"] / point["baseline_total_cycles"])
    assert sweep.speedup[6, 3] == pytest.approx(float(speedup), rel=1e-12)
