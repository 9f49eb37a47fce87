"""``symcost report --pack selfspec --input ...`` (the generic pack report) as a user runs it, with a
hardware file that limits the context (the limit's check outputs once broke the table)."""

from __future__ import annotations

import json

from conftest import EXAMPLES, run_cli

from symcost.schema_check import schema_issues

INPUTS = [
    "--pack",
    "selfspec",
    "--input",
    f"model={EXAMPLES / 'model_tiny.yaml'}",
    "--input",
    f"hardware={EXAMPLES / 'hardware_soc_pipelined.yaml'}",
    "--input",
    f"stats={EXAMPLES / 'stats_k4.yaml'}",
]


def test_a_hardware_file_with_a_context_limit_reports(tmp_path):
    output = tmp_path / "report.json"
    result = run_cli("report", *INPUTS, "--axis", "L_prompt=128,512", "-o", output)
    assert result.code == 0, result.stderr
    assert "speculative.latency_per_token" in result.stdout and "limit." not in result.stdout
    report = json.loads(output.read_text())
    assert [entry["name"] for entry in report["limits"]] == ["context_capacity"]
    assert [point["axes"]["L_prompt"] for point in report["points"]] == [128, 512]
    assert not any(name.startswith("limit.") for name in report["points"][0]["values"])
    assert schema_issues(report, "pack-report", "report.json") == []


def test_a_point_beyond_the_context_limit_exits_2():
    result = run_cli("report", *INPUTS, "--axis", "L_prompt=128,40000")
    assert result.code == 2
    assert result.stderr.startswith("error: prompt plus drafted tokens exceed") and "L_prompt = 40000" in result.stderr


def test_without_a_prompt_length_the_error_names_the_axis():
    result = run_cli("report", *INPUTS)
    assert result.code == 2
    assert result.stderr.strip() == "error: give a value for L_prompt (an axis: --axis L_prompt=...)"
