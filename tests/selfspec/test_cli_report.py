"""``symcost report`` as a user runs it."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES, run_cli

from symcost.schema_check import schema_issues

ARGS = [
    "--model",
    EXAMPLES / "model_tiny.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
]


def test_report_prints_a_table_and_writes_json(tmp_path):
    output = tmp_path / "report.json"
    result = run_cli("report", *ARGS, "--prompt-lengths", "1,64,4096", "-o", output)
    assert result.code == 0, result.stderr
    assert "energy/token" in result.stdout and "E[a+1] = 3.97" in result.stdout
    report = json.loads(output.read_text())
    assert [point["L_prompt"] for point in report["points"]] == [1, 64, 4096]
    point = report["points"][1]
    speculative = point["speculative"]
    assert speculative["tokens_per_J"] == pytest.approx(1 / speculative["energy_per_token_J"])
    assert sum(v["energy_J"] for v in speculative["by_stage"].values()) == pytest.approx(
        sum(v["energy_J"] for v in speculative["by_phase"].values())
    )
    assert point["vs_baseline"]["energy_ratio"] == pytest.approx(
        speculative["energy_per_token_J"] / point["baseline"]["energy_per_token_J"]
    )
    assert report["inputs"]["hardware"]["sha256"] and report["coefficients"]
    assert all(term["reason"] for term in report["terms"]["proxy"])
    assert schema_issues(report, "report", "report.json") == []


def test_the_table_shows_leakage_as_its_own_line(tmp_path):
    args = [
        "--model",
        EXAMPLES / "model_tiny.yaml",
        "--hardware",
        EXAMPLES / "hardware_soc_pipelined.yaml",
        "--stats",
        EXAMPLES / "stats_k4.yaml",
        "--prompt-lengths",
        "64,4096",
        "-o",
        tmp_path / "report.json",
    ]
    result = run_cli("report", *args)
    assert result.code == 0, result.stderr
    last = json.loads((tmp_path / "report.json").read_text())["points"][-1]["speculative"]
    table = result.stdout.split("where a burst goes at L_prompt = 4096")[1].split("\n\n")[0].splitlines()[2:]
    rows = {line.split()[0]: line.split()[1:] for line in table}
    assert rows.keys() == last["by_stage"].keys()
    energy, dynamic = last["burst"]["energy_J"], last["burst"]["energy_J"] - last["by_stage"]["leakage"]["energy_J"]
    assert rows["leakage"] == [f"{last['by_stage']['leakage']['energy_J'] / energy:.1%}", "-", "0.0%"]
    for stage, values in last["by_stage"].items():
        if stage != "leakage":
            assert rows[stage][:2] == [f"{values['energy_J'] / energy:.1%}", f"{values['energy_J'] / dynamic:.1%}"]
    assert sum(float(row[0].rstrip("%")) for row in rows.values()) == pytest.approx(100, abs=0.1 * len(rows))


def test_prompt_range():
    result = run_cli("report", *ARGS, "--prompt-range", "100:400:100")
    assert result.code == 0 and all(f" {value} |" in result.stdout for value in (100, 200, 300))


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--prompt-range", "5:1"], "expected START:STOP"),
        (["--prompt-lengths", "a,b"], "expected comma-separated integers"),
        (["--prompt-lengths", "1", "--prompt-range", "1:5"], "not allowed with argument"),
    ],
)
def test_bad_arguments_exit_2(extra, fragment):
    result = run_cli("report", *ARGS, *extra)
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def test_missing_input_file_exits_2(tmp_path):
    result = run_cli("report", "--model", tmp_path / "nope.yaml", *ARGS[2:])
    assert result.code == 2
    assert result.stderr.strip() == f"error: nope.yaml: <file>: file not found: {tmp_path / 'nope.yaml'}"


def test_points_beyond_the_context_limit_are_refused():
    # hardware_soc_pipelined.yaml holds 32768 tokens; K = 4, so 32764 fits and 32765 does not (as in the reference).
    args = [
        "--model",
        EXAMPLES / "model_tiny.yaml",
        "--hardware",
        EXAMPLES / "hardware_soc_pipelined.yaml",
        "--stats",
        EXAMPLES / "stats_k4.yaml",
    ]
    assert run_cli("report", *args, "--prompt-lengths", "32764").code == 0
    refused = run_cli("report", *args, "--prompt-lengths", "100,32765")
    assert refused.code == 2 and "exceed memory.kv_cache.max_context_tokens" in refused.stderr
    assert "32769 > 32768 at" in refused.stderr and "L_prompt = 32765" in refused.stderr


def test_report_schema_rejects_a_report_missing_its_points(tmp_path):
    output = tmp_path / "report.json"
    assert run_cli("report", *ARGS, "-o", output).code == 0
    report = json.loads(output.read_text())
    del report["points"][0]["speculative"]["by_stage"]
    issues = schema_issues(report, "report", "report.json")
    assert [str(issue) for issue in issues] == [
        "report.json: points[0].speculative.by_stage: required field is missing"
    ]
