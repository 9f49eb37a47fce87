"""The SpAtten pack through every generic verb, as a user runs them: ``symcost VERB --pack spatten --input CONFIG``.

Numbers are checked against the plain-loop oracle (tests/oracles/oracle_spatten.py: one layer by hand, and the exact
moments by enumerating every outcome of a small configuration) and against ``symcost spatten`` itself.
"""

from __future__ import annotations

import csv
import json

import pytest
from conftest import run_cli
from oracles import oracle_spatten as oracle
from spatten.spatten_configs import edited, write_config

# Three layers of 9, 7 and 5 tokens (K = 7, 5, 4): 240 outcomes, few enough to enumerate.
SMALL = edited(
    {
        "model.layers": 3,
        "model.initial_tokens": 9,
        "model.token_pruning_rate": 0.2,
        "speculation.precision": 0.9,
        "speculation.recall": 0.7,
    }
)
PER_LAYER = {  # the oracle's per-layer figure -> the pack's per-layer output
    "baseline_total_cycles": "baseline_layer_cycles",
    "pipelined_total_cycles": "pipelined_layer_cycles",
    "baseline_total_dram_bytes": "baseline_dram_bytes",
    "pipelined_total_dram_bytes": "pipelined_dram_bytes",
    "total_wasted_bytes": "wasted_bytes",
    "total_corrective_bytes": "corrective_bytes",
    "mean_hidden_cycles": "hidden_cycles",
    "lookahead_finish_rate": "lookahead_finished",
}


@pytest.fixture
def config(tmp_path):
    return write_config(tmp_path, SMALL)


def pack_args(config, *extra):
    return ("--pack", "spatten", "--input", config, *extra)


def report(tmp_path, config, *extra) -> tuple[dict, str]:
    output = tmp_path / "report.json"
    result = run_cli("report", *pack_args(config, *extra), "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


def network_by_enumeration(data: dict) -> dict[str, float]:
    means, _stds = oracle.exact_moments(data)
    baseline, pipelined = means["baseline_total_cycles"], means["pipelined_total_cycles"]
    return {**means, "net_speedup_percent": 100 * (baseline - pipelined) / baseline}


def assert_close(values: dict, expected: dict, rel: float = 1e-9) -> None:
    for name, value in expected.items():
        assert values[name]["value"] == pytest.approx(value, rel=rel, abs=1e-9), name


def test_report_gives_the_first_layer_and_the_exact_network_figures(tmp_path, config):
    found, table = report(tmp_path, config)
    (point,) = found["points"]
    # The first layer: 9 tokens keep floor(9 x 0.8) = 7; the most likely true positives floor(8 x 0.7) = 5.
    layer = oracle.layer(SMALL, 9, 7, 5)
    assert_close(point["values"], {PER_LAYER[name]: value for name, value in layer.items() if name in PER_LAYER})
    assert_close(point["values"], network_by_enumeration(SMALL))
    assert point["values"]["pipelined_total_dram_bytes"]["unit"] == "B"
    assert point["values"]["net_speedup_percent"]["unit"] == "1"
    assert "net_speedup_percent" in table and "pipelined_total_cycles" in table


def test_report_matches_spatten_runs_exact_column_on_the_seed_example(tmp_path):
    from spatten.spatten_configs import EXAMPLE

    found, _ = report(tmp_path, EXAMPLE)
    values = found["points"][0]["values"]
    # symcost spatten run: "Total Cycles | 6,224,129 | ... | 1905191 ± 74" and "(exact expectation): 69.39%"
    assert round(values["baseline_total_cycles"]["value"]) == 6_224_129
    assert round(values["pipelined_total_cycles"]["value"]) == 1_905_191
    assert f"{values['net_speedup_percent']['value']:.2f}" == "69.39"
    assert f"{values['mean_hidden_cycles']['value']:.0f}" == "3836"


def test_axes_and_settings_change_the_network_figures(tmp_path, config):
    found, _ = report(
        tmp_path, config, "--axis", "speculation.recall=0.5,0.9", "--set", "memory.bandwidth_GBps=512 Gbit/s"
    )
    assert [point["axes"] for point in found["points"]] == [{"speculation.recall": 0.5}, {"speculation.recall": 0.9}]
    for point, recall in zip(found["points"], (0.5, 0.9)):
        changed = edited({"speculation.recall": recall, "memory.bandwidth_GBps": 64.0}, SMALL)
        assert_close(point["values"], network_by_enumeration(changed))
    assert found["settings"] == {"memory.bandwidth_GBps": "512 Gbit/s"}


def test_sweep_over_the_layer_axes_is_the_oracle_layer_by_layer(tmp_path, config):
    output = tmp_path / "sweep.csv"
    result = run_cli(
        "sweep",
        *pack_args(
            config,
            "--axis",
            "N=5:9",
            "--axis",
            "K=4",
            "--axis",
            "tp=0:4",
            "--column",
            "pipelined_layer_cycles",
            "--column",
            "corrective_bytes",
        ),
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 25
    for row in rows:
        layer = oracle.layer(SMALL, int(row["N"]), 4, int(row["tp"]))
        assert float(row["pipelined_layer_cycles"]) == pytest.approx(layer["pipelined_total_cycles"], rel=1e-12)
        assert float(row["corrective_bytes"]) == pytest.approx(layer["total_corrective_bytes"], rel=1e-12)


def test_breakeven_finds_the_bandwidth_where_pipelining_stops_paying(tmp_path, config):
    result = run_cli(
        "breakeven",
        *pack_args(
            config,
            "--between",
            "pipelined_total_cycles",
            "baseline_total_cycles",
            "--solve-for",
            "memory.bandwidth_GBps",
            "--format",
            "json",
        ),
    )
    assert result.code == 0, result.stderr
    (crossing,) = json.loads(result.stdout)["crossings"]
    assert crossing["unit"] == "GB/s"

    def gap(bandwidth: float) -> float:  # expected pipelined less baseline cycles, by enumeration
        means = oracle.exact_moments(edited({"memory.bandwidth_GBps": bandwidth}, SMALL))[0]
        return means["pipelined_total_cycles"] - means["baseline_total_cycles"]

    assert abs(gap(crossing["value"])) <= 1e-9 * oracle.exact_moments(SMALL)[0]["baseline_total_cycles"]
    assert gap(crossing["value"] * 0.99) > 0 > gap(crossing["value"] * 1.01)


def test_breakeven_of_one_layer_for_a_coefficient(tmp_path, config):
    result = run_cli(
        "breakeven",
        *pack_args(
            config,
            "--between",
            "baseline_layer_cycles",
            "pipelined_layer_cycles",
            "--solve-for",
            "hardware_latency.score_comp_factor",
            "--format",
            "json",
        ),
    )
    assert result.code == 0, result.stderr
    (crossing,) = json.loads(result.stdout)["crossings"]
    layer = oracle.layer(edited({"hardware_latency.score_comp_factor": crossing["value"]}, SMALL), 9, 7, 5)
    assert layer["baseline_total_cycles"] == pytest.approx(layer["pipelined_total_cycles"], rel=1e-9)


def test_sensitivity_of_a_network_figure_is_its_log_derivative(tmp_path, config):
    result = run_cli("sensitivity", *pack_args(config, "--output", "pipelined_total_cycles", "--format", "json"))
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found["at"]) >= {"N", "K", "tp", "BW", "R", "P"} and "n_layers" not in found["at"]

    def elasticity(field: str, value: float) -> float:  # central difference of the enumerated expectation
        def mean(scale: float) -> float:
            return oracle.exact_moments(edited({field: value * scale}, SMALL))[0]["pipelined_total_cycles"]

        return (mean(1 + 1e-6) - mean(1 - 1e-6)) / 2e-6 / mean(1)

    for symbol, field, value in (
        ("BW", "memory.bandwidth_GBps", 128.0),
        ("R", "speculation.recall", 0.7),
        ("k_av", "hardware_latency.av_mult_factor", SMALL["hardware_latency"]["av_mult_factor"]),
    ):
        assert found["elasticities"][symbol] == pytest.approx(elasticity(field, value), rel=1e-5, abs=1e-9), symbol
    assert found["elasticities"]["N"] == 0  # the per-layer axes do not enter a network figure


def test_audit_is_the_spatten_audit(tmp_path, config):
    generic = run_cli("audit", *pack_args(config, "--format", "markdown"))
    own = run_cli("spatten", "audit", config, "--format", "markdown")
    assert generic.code == own.code == 0, generic.stderr + own.stderr
    assert generic.stdout == own.stdout
    assert "| `net_speedup_percent` |" in generic.stdout


def test_plot_marks_where_the_two_network_figures_cross(tmp_path, config):
    output = tmp_path / "cycles.png"
    result = run_cli(
        "plot",
        *pack_args(
            config,
            "--axis",
            "memory.bandwidth_GBps=0.5:40:60",
            "--y",
            "pipelined_total_cycles",
            "--y",
            "baseline_total_cycles",
        ),
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert "(1 crossing marked)" in result.stdout and output.read_bytes().startswith(b"\x89PNG")


def test_the_layer_structure_changes_by_set_or_by_a_sweep_one_model_per_value(tmp_path, config):
    refused = run_cli("report", *pack_args(config, "--axis", "model.layers=2,3"))
    assert refused.code == 2
    assert "fixed in this model: change it with --set model.layers=VALUE" in refused.stderr
    found, _ = report(tmp_path, config, "--set", "model.layers=2")
    assert_close(found["points"][0]["values"], network_by_enumeration(edited({"model.layers": 2}, SMALL)))
    output = tmp_path / "layers.csv"
    result = run_cli(
        "sweep",
        *pack_args(
            config,
            "--axis",
            "model.layers=1,3",
            "--axis",
            "speculation.recall=0.5,0.9",
            "--column",
            "net_speedup_percent",
            "--column",
            "mean_hidden_cycles",
        ),
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert [(row["model.layers"], float(row["speculation.recall"])) for row in rows] == [
        ("1", 0.5),
        ("1", 0.9),
        ("3", 0.5),
        ("3", 0.9),
    ]
    for row in rows:
        expected = network_by_enumeration(
            edited(
                {"model.layers": int(row["model.layers"]), "speculation.recall": float(row["speculation.recall"])},
                SMALL,
            )
        )
        for name in ("net_speedup_percent", "mean_hidden_cycles"):
            assert float(row[name]) == pytest.approx(expected[name], rel=1e-9), name


def test_a_bad_value_is_the_error_spatten_run_gives(config):
    result = run_cli("report", *pack_args(config, "--set", "speculation.precision=0"))
    assert result.code == 2
    assert result.stderr == "error: spatten.yaml: speculation.precision: expected number > 0, got 0\n"
