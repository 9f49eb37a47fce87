"""The cascade pack through every generic verb, as a user runs them: ``symcost VERB --pack cascade --input FILE``.

Numbers are checked against ``symcost cascade report|audit`` (the seed's cascade) and against the plain-loop
oracle of tests/cascade/cascade_helpers.py or formulas worked out by hand below.
"""

from __future__ import annotations

import csv
import json
import math

import pytest
from cascade.cascade_helpers import cascade_file, oracle, stage
from conftest import EXAMPLES, run_cli

SEED = EXAMPLES / "cascade_seed003.yaml"
# A tiny model in a fast memory, a draft and a target each in a memory level of its own (SI figures).
W, BW, T, GAMMA, K = [10e6, 1e9, 10e9], [1000e9, 200e9, 300e9], [0.1e-3, 1e-3, 5e-3], [0.9, 0.8, 0.9], [4, 4]


@pytest.fixture
def three(tmp_path):
    levels = [
        {"name": f"L{i}", "capacity_bytes": "1 TB", "per": "system", "bandwidth_GBps": BW[i] / 1e9} for i in range(3)
    ]
    stages = [
        stage(
            f"s{i}",
            f"L{i}",
            weights=f"{W[i]} B",
            time=f"{T[i]} s",
            acceptance=GAMMA[i],
            speculation=K[i] if i < 2 else None,
        )
        for i in range(3)
    ]
    return cascade_file(tmp_path, stages, levels)


def report(tmp_path, *args) -> dict:
    output = tmp_path / "report.json"
    result = run_cli("report", "--pack", "cascade", *args, "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text())


def test_report_gives_every_figure_of_cascade_report(tmp_path):
    own = tmp_path / "own.json"
    assert run_cli("cascade", "report", SEED, "-o", own).code == 1  # the seed's VMEM placement does not fit
    figures = json.loads(own.read_text())["figures"]
    (point,) = report(tmp_path, "--input", SEED)["points"]
    assert set(point["values"]) == set(figures)
    for name, figure in figures.items():
        assert point["values"][name]["value"] == pytest.approx(figure["value"], rel=1e-12), name
    assert point["values"]["cascade.time_per_token"]["unit"] == "s"


def test_inputs_are_axes_by_symbol_and_by_path(tmp_path, three):
    found = report(
        tmp_path,
        "--input",
        three,
        "--axis",
        "T_1=500000,2000000",
        "--axis",
        "stages.0.speculation=2,5",
        "--set",
        "memory.2.bandwidth_GBps=0.6 TB/s",
    )
    assert len(found["points"]) == 4
    for point in found["points"]:
        draft_time, horizon = point["axes"]["T_1"] * 1e-9, int(point["axes"]["stages.0.speculation"])
        expected = oracle(W, [BW[0], BW[1], 600e9], [T[0], draft_time, T[2]], GAMMA, [horizon, K[1]])
        for name in ("cascade.time_per_token", "cascade.speedup_standard", "cascade.speedup_seed", "cascade.C_total"):
            assert point["values"][name]["value"] == pytest.approx(expected[name], rel=1e-12), name


def test_sweep_over_a_horizon_and_a_bandwidth_by_its_path(tmp_path, three):
    output = tmp_path / "sweep.csv"
    result = run_cli(
        "sweep",
        "--pack",
        "cascade",
        "--input",
        three,
        "--axis",
        "K_0=1:8",
        "--axis",
        "memory.1.bandwidth_GBps=100,400",
        "--column",
        "cascade.time_per_token",
        "--column",
        "cascade.tokens_per_iteration",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert [row["K_0"] for row in rows] == [str(k) for k in range(1, 9) for _ in range(2)]
    for row in rows:
        bandwidth = float(row["memory.1.bandwidth_GBps"]) * 1e9
        expected = oracle(W, [BW[0], bandwidth, BW[2]], T, GAMMA, [int(row["K_0"]), K[1]])
        assert float(row["cascade.time_per_token"]) == pytest.approx(expected["cascade.time_per_token"], rel=1e-12)
        assert float(row["cascade.tokens_per_iteration"]) == pytest.approx(
            expected["cascade.tokens_per_iteration"], rel=1e-12
        )


def test_breakeven_finds_the_draft_time_where_the_cascade_stops_paying(tmp_path, three):
    result = run_cli(
        "breakeven",
        "--pack",
        "cascade",
        "--input",
        three,
        "--between",
        "cascade.time_per_token",
        "cascade.T_baseline",
        "--solve-for",
        "stages.1.compute_time_ns",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    (crossing,) = json.loads(result.stdout)["crossings"]
    # t_2 = (K_1 t_1 + c_2) / E_2 equals c_2 where t_1 = c_2 (E_2 - 1) / K_1, and t_1 = (K_0 t_0 + W_1/BW_1 + T_1) / E_1.
    committed = [sum(GAMMA[i] ** j for j in range(K[i - 1] + 1)) for i in (1, 2)]
    target_pass = W[2] / BW[2] + T[2]
    draft_time = committed[0] * target_pass * (committed[1] - 1) / K[1] - K[0] * (W[0] / BW[0] + T[0]) - W[1] / BW[1]
    assert crossing == {"value": pytest.approx(draft_time * 1e9, rel=1e-9), "unit": "ns"}


def test_sensitivity_of_the_seed_speedup_by_hand(tmp_path, three):
    result = run_cli(
        "sensitivity", "--pack", "cascade", "--input", three, "--output", "cascade.speedup_seed", "--format", "json"
    )
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)["elasticities"]
    # S = c_2 / D with c_2 = W_2/BW_2 + T_2 and D = sum_i gamma_i T_i + (1 - gamma_i) W_i/BW_i.
    stream = [W[i] / BW[i] for i in range(3)]
    c_2 = stream[2] + T[2]
    D = math.fsum(GAMMA[i] * T[i] + (1 - GAMMA[i]) * stream[i] for i in range(3))
    assert found["T_2"] == pytest.approx(T[2] / c_2 - GAMMA[2] * T[2] / D, rel=1e-12)
    assert found["BW_L2"] == pytest.approx(-stream[2] / c_2 + (1 - GAMMA[2]) * stream[2] / D, rel=1e-12)
    assert found["T_0"] == pytest.approx(-GAMMA[0] * T[0] / D, rel=1e-12)
    assert found["K_0"] == 0  # the seed's speedup depends on no horizon


def test_audit_is_the_cascade_audit(tmp_path):
    generic = run_cli("audit", "--pack", "cascade", "--input", SEED, "--format", "markdown")
    own = run_cli("cascade", "audit", SEED, "--format", "markdown")
    assert generic.code == own.code == 0, generic.stderr + own.stderr
    assert generic.stdout == own.stdout


def test_plot_marks_the_crossing(tmp_path, three):
    output = tmp_path / "cascade.svg"
    result = run_cli(
        "plot",
        "--pack",
        "cascade",
        "--input",
        three,
        "--axis",
        "T_1=1e6:2e8:50",
        "--y",
        "cascade.time_per_token",
        "--y",
        "cascade.T_baseline",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert "(1 crossing marked)" in result.stdout and b"<svg" in output.read_bytes()


def test_an_unknown_input_is_one_line_with_a_suggestion(three):
    result = run_cli("report", "--pack", "cascade", "--input", three, "--axis", "T_9=1,2")
    assert result.code == 2
    assert result.stderr.startswith("error: 'T_9' is not an input of this cascade") and "did you mean" in result.stderr


def test_explore_keeps_the_non_dominated_horizons(tmp_path, three):
    output = tmp_path / "front.csv"
    result = run_cli(
        "explore",
        "--pack",
        "cascade",
        "--input",
        three,
        "--axis",
        "K_0=1:6",
        "--axis",
        "K_1=1:6",
        "--objective",
        "min:cascade.time_per_token",
        "--objective",
        "min:cascade.C_total",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    found = {(int(row["K_0"]), int(row["K_1"])) for row in csv.DictReader(output.open())}
    grid = {(k0, k1): oracle(W, BW, T, GAMMA, [k0, k1]) for k0 in range(1, 7) for k1 in range(1, 7)}
    cost = {key: (value["cascade.time_per_token"], value["cascade.C_total"]) for key, value in grid.items()}
    front = {
        key
        for key, mine in cost.items()
        if not any(all(a <= b for a, b in zip(other, mine)) and other != mine for other in cost.values())
    }
    assert found == front
