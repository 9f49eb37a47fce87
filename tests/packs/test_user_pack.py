"""A pack symcost has never seen runs through every generic verb, with no Python, as a user runs it.

The pack (tests/data/user_pack/systolic.yaml) is written only against the
pack schema. Every number is checked against a hand computation written out
below in plain Python, independent of symcost.
"""

from __future__ import annotations

import csv
import json
import math

import pytest
from conftest import ROOT, run_cli

PACK = ROOT / "tests" / "data" / "user_pack" / "systolic.yaml"
INPUTS = ROOT / "tests" / "data" / "user_pack" / "inputs.yaml"
BASE = ("--pack", PACK, "--input", INPUTS)


def by_hand(
    M=512, K=4096, N=4096, rows=128, cols=128, clock_hz=1e9, e_mac=0.25e-12, e_dram=20e-12, bandwidth=100e9, b=1
):
    tiles = math.ceil(K / rows) * math.ceil(N / cols)
    cycles = tiles * (M + rows + cols)
    dram_bytes = (M * K + K * N + M * N) * b
    t_compute, t_dram = cycles / clock_hz, dram_bytes / bandwidth
    return {
        "macs": M * K * N,
        "compute_energy": M * K * N * e_mac,
        "dram_bytes": dram_bytes,
        "dram_energy": dram_bytes * e_dram,
        "cycles": cycles,
        "t_compute": t_compute,
        "t_dram": t_dram,
        "latency": max(t_compute, t_dram),
        "energy": M * K * N * e_mac + dram_bytes * e_dram,
    }


def report(tmp_path, *extra):
    output = tmp_path / "report.json"
    result = run_cli("report", *BASE, *extra, "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


def assert_values(values: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert values[name]["value"] == pytest.approx(value, rel=1e-12), name


def test_report_equals_hand_computation(tmp_path):
    found, table = report(tmp_path)
    assert (
        found["pack"]["name"] == "systolic-gemm"
        and found["pack"]["version"] == 3
        and len(found["pack"]["sha256"]) == 64
    )
    assert [item["file"] for item in found["inputs"]] == ["inputs.yaml"]
    (point,) = found["points"]
    assert point["axes"] == {}
    assert_values(point["values"], by_hand())
    assert point["values"]["energy"]["unit"] == "J" and point["values"]["t_dram"]["unit"] == "s"
    assert point["values"]["dram_bytes"]["unit"] == "B" and point["values"]["cycles"]["unit"] == "1"
    assert "t_compute" in table and "786.4 us" in table and "macs" not in table  # the table shows the quantities


def test_axes_give_one_point_per_combination(tmp_path):
    found, _ = report(tmp_path, "--axis", "M=1,64,4096", "--axis", "array.rows=64,256")
    assert len(found["points"]) == 6
    for point in found["points"]:
        M, rows = point["axes"]["M"], point["axes"]["array.rows"]
        # array.rows names R (its first binding); Cc falls back to the file's array.rows (128) and stays
        assert_values(point["values"], by_hand(M=int(M), rows=int(rows)))


def test_set_overrides_a_value_with_or_without_a_unit(tmp_path):
    found, _ = report(
        tmp_path,
        "--set",
        "array.clock_ghz=2",
        "--set",
        "dram.bandwidth_GBps=0.2 TB/s",
        "--set",
        "gemm.bytes_per_element=2",
    )
    assert_values(found["points"][0]["values"], by_hand(clock_hz=2e9, bandwidth=200e9, b=2))
    assert found["settings"] == {"array.clock_ghz": 2, "dram.bandwidth_GBps": "0.2 TB/s", "gemm.bytes_per_element": 2}


def test_sweep_writes_every_point(tmp_path):
    output = tmp_path / "sweep.csv"
    result = run_cli("sweep", *BASE, "--axis", "M=1:300:7", "--axis", "dram.bandwidth_GBps=10,50,400", "-o", output)
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 21 and set(rows[0]) == {
        "M",
        "dram.bandwidth_GBps",
        "cycles",
        "t_compute",
        "t_dram",
        "latency",
        "energy",
    }
    for row in rows:
        expected = by_hand(M=float(row["M"]), bandwidth=float(row["dram.bandwidth_GBps"]) * 1e9)
        for name in ("cycles", "t_compute", "t_dram", "latency", "energy"):
            assert float(row[name]) == pytest.approx(expected[name], rel=1e-12), name


def test_breakeven_is_the_exact_crossing(tmp_path):
    result = run_cli(
        "breakeven", *BASE, "--between", "t_compute", "t_dram", "--solve-for", "dram.bandwidth_GBps", "--format", "json"
    )
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)
    hand = by_hand()
    crossing = hand["dram_bytes"] / hand["t_compute"] / 1e9  # GB/s where DRAM time equals array time
    assert found["crossings"] == [{"value": pytest.approx(crossing, rel=1e-12), "unit": "GB/s"}]
    assert found["verdict"] == "t_compute and t_dram cross as dram.bandwidth_GBps varies"


def test_breakeven_for_an_axis_at_another_point(tmp_path):
    # t_compute = 1024 (M + 256) / f against t_dram = (4096 M + 4096^2 + 4096 M) / BW: solved for M
    result = run_cli(
        "breakeven",
        *BASE,
        "--between",
        "t_compute",
        "t_dram",
        "--solve-for",
        "M",
        "--set",
        "dram.bandwidth_GBps=10",
        "--format",
        "json",
    )
    assert result.code == 0, result.stderr
    (crossing,) = json.loads(result.stdout)["crossings"]
    # 1024 (M + 256) / 1e9 = (8192 M + 4096^2) / 1e10  ->  M (10240 - 8192) = 4096^2 - 2621440
    assert crossing["value"] == pytest.approx((4096**2 - 10240 * 256) / (10240 - 8192), rel=1e-12)


def test_sensitivity_is_the_log_derivative(tmp_path):
    result = run_cli("sensitivity", *BASE, "--output", "energy", "--format", "json")
    assert result.code == 0, result.stderr
    found = json.loads(result.stdout)["elasticities"]
    hand = by_hand()
    assert found["e_mac"] == pytest.approx(hand["compute_energy"] / hand["energy"], rel=1e-12)
    assert found["e_dram"] == pytest.approx(hand["dram_energy"] / hand["energy"], rel=1e-12)
    assert found["BW"] == 0 and found["f"] == 0


def test_sensitivity_at_another_point(tmp_path):
    result = run_cli(
        "sensitivity",
        *BASE,
        "--output",
        "latency",
        "--at",
        "M=64",
        "--set",
        "dram.bandwidth_GBps=5",
        "--format",
        "json",
    )
    found = json.loads(result.stdout)["elasticities"]
    assert by_hand(M=64, bandwidth=5e9)["t_dram"] > by_hand(M=64, bandwidth=5e9)["t_compute"]
    assert found["BW"] == pytest.approx(-1.0, rel=1e-12) and found["f"] == 0


def test_audit_lists_every_symbol_and_result(tmp_path):
    output = tmp_path / "audit.md"
    result = run_cli("audit", *BASE, "--format", "markdown", "-o", output)
    assert result.code == 0, result.stderr
    text = output.read_text()
    for name in (
        "`Kd`",
        "`e_dram`",
        "`tiles`",
        "`t_dram`",
        r"inputs.yaml: array.energy\_pj\_per\_mac",
        "Results at the inputs",
    ):
        assert name in text, name


def test_plot_marks_the_crossing(tmp_path):
    output = tmp_path / "latency.png"
    result = run_cli(
        "plot",
        *BASE,
        "--axis",
        "M=1:10000",
        "--y",
        "t_compute",
        "--y",
        "t_dram",
        "--set",
        "dram.bandwidth_GBps=10",
        "-o",
        output,
    )
    assert result.code == 0, result.stderr
    assert "1 crossing marked" in result.stdout and output.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "args, message",
    [
        (("--set", "gemm.kk=3"), None),
        (("--axis", "array.rowz=1,2"), "did you mean array.rows"),
        (("--set", "dram.bandwidth_GBps=3 ns"), "expected bandwidth (bytes per time)"),
        (("--axis", "M=1,2", "--axis", "M=3"), "given more than once"),
    ],
)
def test_mistakes_are_one_line_errors(tmp_path, args, message):
    result = run_cli("report", *BASE, *args)
    if message is None:  # an unused key changes nothing: the pack reads only its bindings
        assert result.code == 0, result.stderr
        return
    assert result.code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_a_missing_input_names_the_path_and_the_closest_one(tmp_path):
    inputs = tmp_path / "inputs.yaml"
    inputs.write_text(INPUTS.read_text().replace("energy_pj_per_mac", "energy_pj_per_mac_op"))
    result = run_cli("report", "--pack", PACK, "--input", inputs)
    assert result.code == 2
    assert (
        "needs array.energy_pj_per_mac (in pJ), which the inputs do not give; did you mean array.energy_pj_per_mac_op"
        in result.stderr
    )


def test_the_report_is_valid_against_its_schema(tmp_path):
    from symcost.schema_check import schema_issues

    found, _ = report(tmp_path, "--axis", "M=8,16", "--set", "array.clock_ghz=1.5 GHz")
    assert schema_issues(found, "pack-report", "report.json") == []
