"""symcost plot: the figures' content (axes, labels, legends, data, break-even marks), files and CLI errors.

The figures are checked as matplotlib objects (what is drawn, at which
values), not as pixels; the files are checked for their format.
"""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ElementTree

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.image import imread

from symcost import build_model
from symcost.cli import main
from symcost.commands.common import log_range
from symcost.errors import SymcostError
from symcost.figure_files import write_figure
from symcost.packs.selfspec.plots import breakdown_figure, choose_points, per_token_figure
from symcost.packs.selfspec.recipe import Recipe
from symcost.packs.selfspec.report import build_report

FILES = (EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml")
ARGS = [item for flag, path in zip(("--model", "--hardware", "--stats"), FILES) for item in (flag, path)]


@pytest.fixture(scope="module")
def report() -> dict:
    return build_report(build_model(*FILES), log_range("16:32764:log40"))


def crossing_report(report: dict, crossings: list[float]) -> dict:
    """The report with speculative vs baseline energy said to cross at ``crossings`` (the examples never do)."""
    changed = copy.deepcopy(report)
    changed["break_even"]["vs_baseline"]["energy"].update(verdict="crosses", L_prompt=crossings[0], crossings=crossings)
    return changed


def legend_texts(axes) -> list[str]:
    return [text.get_text() for text in axes.get_legend().get_texts()]


def vertical_lines(axes) -> dict[float, object]:
    return {
        line.get_xdata()[0]: line
        for line in axes.get_lines()
        if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]
    }


def test_per_token_figure_draws_both_scenarios_against_a_log_prompt_axis(report):
    energy, latency = per_token_figure(report).axes
    assert (energy.get_title(), latency.get_title()) == ("energy per committed token", "latency per committed token")
    assert (
        energy.get_ylabel() == "energy per committed token (J)"
        and latency.get_ylabel() == "latency per committed token (s)"
    )
    for axes, field in ((energy, "energy_per_token_J"), (latency, "latency_per_token_s")):
        assert axes.get_xscale() == "log" and axes.get_xlabel() == "prompt length L_prompt (tokens)"
        assert legend_texts(axes)[:2] == ["speculative (K = 4)", "baseline (no speculation)"]
        speculative, baseline = axes.get_lines()[:2]
        np.testing.assert_array_equal(speculative.get_xdata(), [point["L_prompt"] for point in report["points"]])
        np.testing.assert_array_equal(
            speculative.get_ydata(), [point["speculative"][field] for point in report["points"]]
        )
        np.testing.assert_array_equal(baseline.get_ydata(), [point["baseline"][field] for point in report["points"]])


def test_the_real_break_even_report_is_drawn(report):
    energy, latency = per_token_figure(report).axes
    for axes, quantity in ((energy, "energy"), (latency, "latency")):
        # tiny model on this hardware: speculation never pays, and attention overtakes the linear layers
        assert report["break_even"]["vs_baseline"][quantity]["verdict"] == "never_better"
        assert "no break-even: baseline is lower for every L_prompt in [0, 32,764]" in legend_texts(axes)
        at = report["break_even"]["attention_vs_linear"][quantity]["L_prompt"]
        assert at in vertical_lines(axes), (quantity, at)
        assert f"attention = linear: L = {at:,.1f}" in legend_texts(axes)


def test_a_crossing_gets_a_solid_line_and_a_label_at_each_crossing(report):
    energy, latency = per_token_figure(crossing_report(report, [1234.5, 5000.0])).axes
    lines = vertical_lines(energy)
    assert {1234.5, 5000.0} <= set(lines)
    assert lines[1234.5].get_linestyle() == "-" and lines[1234.5].get_color() == "k"
    assert "break-even vs baseline: L = 1,234.5" in legend_texts(energy)
    assert not any(text.startswith("no break-even") for text in legend_texts(energy))
    assert {"L = 1,234", "L = 5,000"} <= {text.get_text() for text in energy.texts}
    assert 1234.5 not in vertical_lines(latency)  # latency keeps its own verdict
    assert any(text.startswith("no break-even") for text in legend_texts(latency))


def test_a_report_without_break_even_still_plots(report):
    bare = {key: value for key, value in report.items() if key != "break_even"}
    energy, _latency = per_token_figure(bare).axes
    assert legend_texts(energy) == ["speculative (K = 4)", "baseline (no speculation)"] and not vertical_lines(energy)


def test_breakdown_bars_stack_the_report_values(report):
    figure = breakdown_figure(report, [100, 2048, 32764])
    chosen = choose_points(report["points"], [100, 2048, 32764])
    titles = [axes.get_title() for axes in figure.axes]
    assert titles == [
        "energy per burst by stage",
        "latency per burst by stage (summed, not overlapped)",
        "energy per burst by phase",
        "latency per burst by phase (summed, not overlapped)",
    ]
    for axes, (view, field) in zip(
        figure.axes,
        [("by_stage", "energy_J"), ("by_stage", "latency_s"), ("by_phase", "energy_J"), ("by_phase", "latency_s")],
    ):
        assert [label.get_text() for label in axes.get_xticklabels()] == [f"L = {p['L_prompt']:,}" for p in chosen]
        names = [name for name in chosen[0]["speculative"][view] if name != "leakage"] + ["leakage"]  # static on top
        assert [container.get_label() for container in axes.containers] == names
        totals = [sum(values[field] for values in point["speculative"][view].values()) for point in chosen]
        for container, name in zip(axes.containers, names):
            heights = [patch.get_height() for patch in container.patches]
            # a bar keeps top - bottom, so a stacked height is exact to the stack's rounding only
            np.testing.assert_allclose(
                heights,
                [point["speculative"][view][name][field] for point in chosen],
                rtol=1e-12,
                atol=1e-12 * max(totals),
            )
        tops = [patch.get_y() + patch.get_height() for patch in axes.containers[-1].patches]  # stacked: last on top
        np.testing.assert_allclose(tops, totals, rtol=1e-12)


def test_breakdown_stacks_leakage_on_top_and_marks_the_burst_latency(report):
    figure = breakdown_figure(report, [256, 32764])
    chosen = [point["speculative"] for point in choose_points(report["points"], [256, 32764])]
    energy_by_stage, latency_by_stage = figure.axes[:2]
    for axes, view in ((energy_by_stage, "by_stage"), (figure.axes[2], "by_phase")):
        static = axes.containers[-1]
        assert static.get_label() == "leakage" and all(patch.get_hatch() == "//" for patch in static.patches)
        # the energy bars reach the burst energy: the static energy is part of the stack, not a footnote
        tops = [patch.get_y() + patch.get_height() for patch in static.patches]
        np.testing.assert_allclose(tops, [point["burst"]["energy_J"] for point in chosen], rtol=1e-12)
        shares = [point[view]["leakage"]["energy_J"] / point["burst"]["energy_J"] for point in chosen]
        assert 0.5 < min(shares) and max(shares) < 1  # this hardware leaks more than it switches
        assert [text.get_text() for text in axes.texts] == [f"leakage {share:.1%}" for share in shares]
    tick = next(line for line in latency_by_stage.get_lines() if line.get_label() == "burst latency")
    np.testing.assert_array_equal(tick.get_ydata(), [point["burst"]["latency_s"] for point in chosen])
    stages = [name for name in chosen[0]["by_stage"] if name != "leakage"]
    assert legend_texts(latency_by_stage) == ["burst latency", *stages, "leakage"]
    assert legend_texts(figure.axes[3]) == ["burst latency", "draft", "verify_drafted", "verify_bonus", "leakage"]


def test_default_breakdown_points_spread_from_first_to_last(report):
    chosen = [point["L_prompt"] for point in choose_points(report["points"])]
    assert len(chosen) == 4 and chosen[0] == 16 and chosen[-1] == 32764 and chosen == sorted(chosen)


@given(st.lists(st.integers(0, 40_000), min_size=1, max_size=6))
def test_chosen_points_are_the_nearest_ones(wanted):
    points = [{"L_prompt": length} for length in (16, 100, 1000, 8000, 32764)]
    chosen = [point["L_prompt"] for point in choose_points(points, wanted)]
    nearest = set()
    for length in wanted:  # oracle: a plain scan, first of equals
        best = points[0]["L_prompt"]
        for point in points:
            if abs(point["L_prompt"] - length) < abs(best - length):
                best = point["L_prompt"]
        nearest.add(best)
    assert chosen == sorted(nearest)


def test_files_are_valid_png_svg_and_pdf(report, tmp_path):
    figure = per_token_figure(report)
    write_figure(tmp_path / "figure.png", lambda: figure, dpi=50)
    assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width = imread(tmp_path / "figure.png").shape[:2]
    assert (width, height) == (round(figure.get_figwidth() * 50), round(figure.get_figheight() * 50))
    write_figure(tmp_path / "figure.svg", lambda: figure)
    root = ElementTree.parse(tmp_path / "figure.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "energy per committed token" in (tmp_path / "figure.svg").read_text()
    write_figure(tmp_path / "breakdown.pdf", lambda: breakdown_figure(report))
    assert (tmp_path / "breakdown.pdf").read_bytes()[:5] == b"%PDF-"


def test_svg_output_is_reproducible(report, tmp_path):
    write_figure(tmp_path / "a.svg", lambda: per_token_figure(report))
    write_figure(tmp_path / "b.svg", lambda: per_token_figure(report))
    assert (tmp_path / "a.svg").read_bytes() == (tmp_path / "b.svg").read_bytes()


def test_unknown_figure_suffix_is_refused(report, tmp_path):
    with pytest.raises(SymcostError, match=r"expected a name ending in \.png, \.svg, \.pdf"):
        write_figure(tmp_path / "figure.jpg", lambda: per_token_figure(report))


def test_log_range_includes_both_ends():
    lengths = log_range("16:32764:log40")
    assert lengths[0] == 16 and lengths[-1] == 32764 and len(lengths) == 40
    assert all(later > earlier for earlier, later in zip(lengths, lengths[1:]))
    assert log_range("1:4:log10") == [1, 2, 3, 4]  # lengths that round alike are given once


def test_plot_from_a_saved_report(report, tmp_path):
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(report), encoding="utf-8")
    result = run_cli(
        "plot",
        "--report",
        saved,
        "-o",
        tmp_path / "per-token.png",
        "--breakdown",
        tmp_path / "bars.svg",
        "--breakdown-lengths",
        "64,4096",
    )
    assert result.code == 0, result.stderr
    assert (tmp_path / "per-token.png").read_bytes()[:4] == b"\x89PNG"
    assert ElementTree.parse(tmp_path / "bars.svg").getroot().tag.endswith("svg")


def test_plot_builds_the_report_from_the_input_files(tmp_path):
    result = run_cli("plot", *ARGS, "--prompt-range", "16:32764:log12", "-o", tmp_path / "per-token.svg")
    assert result.code == 0, result.stderr
    text = (tmp_path / "per-token.svg").read_text()
    assert "attention = linear" in text and "no break-even" in text


def test_a_plot_computes_the_cache_key_once_cold_or_warm(tmp_path, monkeypatch):
    """The key hashes every input file: the plot asks whether the model is cached, and builds from that entry."""
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SYMCOST_NO_FORK", "1")  # a cold build in this process, where the calls are counted
    keyed = []
    cache_entry = Recipe.cache_entry
    monkeypatch.setattr(Recipe, "cache_entry", lambda recipe: keyed.append(recipe) or cache_entry(recipe))
    for run in ("cold", "warm"):
        figure = tmp_path / f"{run}.svg"
        assert main(["plot", *map(str, ARGS), "--prompt-range", "16:4096:log6", "-o", str(figure)]) == 0
        assert len(keyed) == 1, run
        keyed.clear()


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ([], "nothing to draw"),
        (["-o", "figure.jpg"], "cannot tell the figure format of figure.jpg"),
        (["--report", "r.json", "--model", "m.yaml", "-o", "f.png"], "--model does not apply"),
        (["--model", str(FILES[0]), "-o", "f.png"], "missing --hardware, --stats"),
        (["--report", "absent.json", "-o", "f.png"], "file not found"),
        (["--model", "m", "--prompt-range", "100:10:log5", "-o", "f.png"], "expected START:STOP:logN"),
        (
            ["--report", "r.json", "-o", "f.png", "--dpi", "0"],
            "argument --dpi: expected an integer in 10..1,200, got '0'",
        ),
    ],
)
def test_bad_requests_exit_2_on_one_line(tmp_path, extra, fragment):
    result = run_cli("plot", *extra, cwd=tmp_path)
    assert result.code == 2 and fragment in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_report_that_breaks_the_schema_is_refused(report, tmp_path):
    broken = copy.deepcopy(report)
    del broken["points"][0]["speculative"]["by_stage"]
    (tmp_path / "report.json").write_text(json.dumps(broken), encoding="utf-8")
    result = run_cli("plot", "--report", tmp_path / "report.json", "-o", tmp_path / "f.png")
    assert (
        result.code == 2
        and result.stderr == "error: report.json: points[0].speculative.by_stage: required field is missing\n"
    )
    assert not (tmp_path / "f.png").exists()
