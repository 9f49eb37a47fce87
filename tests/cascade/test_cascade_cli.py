"""``symcost cascade report|check`` as a user runs them."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import EXAMPLES, run_cli

SEED = EXAMPLES / "cascade_seed003.yaml"


def test_report_table_json_and_exit_code(tmp_path):
    output = tmp_path / "report.json"
    result = run_cli("cascade", "report", SEED, "-o", output)
    assert result.code == 1, result.stderr  # the seed's VMEM placement does not fit
    assert "VMEM: needs 40 MB per core (tiny 40 MB), capacity 16 MB per core" in result.stdout
    assert "gamma_total = 0.7268" in result.stdout and "optimal K_0 = 5" in result.stdout
    report = json.loads(output.read_text())
    assert report["feasible"] is False and [level["fits"] for level in report["placement"]] == [False, True]
    assert report["figures"]["cascade.gamma_total"] == {"value": pytest.approx(0.72675), "unit": "1"}
    assert report["design"]["optimum"]["horizons"] == [5, 10] and report["design"]["rule_holds"] is False
    assert report["inputs"]["T_1"]["provenance"] == "cascade_seed003.yaml: stage draft: compute_time_ns"


def test_check_lists_every_claim_with_both_numbers(tmp_path):
    output = tmp_path / "check.json"
    result = run_cli("cascade", "check", SEED, "-o", output)
    assert result.code == 1, result.stderr
    assert "15 of 26 claims inconsistent" in result.stdout
    line = next(line for line in result.stdout.splitlines() if line.startswith("share_target"))
    assert line.split()[1:4] == ["57.3%", "57.35%", "INCONSISTENT"]
    claims = {claim["id"]: claim for claim in json.loads(output.read_text())["claims"]}
    assert claims["hbm_usage"]["consistent"] and claims["hbm_usage"]["recomputed_si"] == pytest.approx(15.2e9)


def test_infeasible_example_exits_1_with_the_reason():
    result = run_cli("cascade", "report", EXAMPLES / "cascade_gemma_infeasible.yaml")
    assert result.code == 1
    assert "HBM: needs 19.58 GB per chip (draft 2.506 GB + target 17.08 GB), capacity 16 GB per chip" in result.stdout


def test_bad_input_is_one_line_per_problem(tmp_path):
    document = yaml.safe_load(SEED.read_text())
    document["stages"][1]["placement"]["level"] = "HMB"
    del document["stages"][0]["speculation"]
    document["stages"][2]["compute_time_ns"] = "3.9 GB"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    result = run_cli("cascade", "check", path)
    assert result.code == 2 and result.stdout == ""
    assert (
        "error: bad.yaml: stages[2].compute_time_ns: expected time (convertible to ns), got '3.9 GB' which is "
        "information (bytes)" in result.stderr.splitlines()
    )
    document["stages"][2]["compute_time_ns"] = 1
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    assert run_cli("cascade", "report", path).stderr.splitlines() == [
        "error: bad.yaml: stages[0].speculation: required for every stage but the last (tokens it proposes per iteration "
        "of the next stage)",
        "error: bad.yaml: stages[1].placement.level: unknown memory level 'HMB'; did you mean 'HBM'?",
    ]


def test_an_action_is_required():
    result = run_cli("cascade")
    assert result.code == 2 and "required" in result.stderr


def test_the_packs_formulas_appear_in_symcost_audit():
    result = run_cli("audit", "--pack", "cascade", "--format", "markdown")
    assert result.code == 0, result.stderr
    assert "`speedup_seed`" in result.stdout and r"\frac{K_{i-1} \cdot t_{i-1} + c}{E}" in result.stdout


def test_cascade_audit_shows_inputs_closed_forms_and_values(tmp_path):
    output = tmp_path / "audit.md"
    result = run_cli("cascade", "audit", SEED, "-o", output)
    assert result.code == 0, result.stderr
    text = output.read_text()
    assert "cascade\\_seed003.yaml: stage draft: compute\\_time\\_ns" in text
    assert r"\gamma_{\mathrm{total}} &= {\gamma}_{0} \cdot {\gamma}_{1} \cdot {\gamma}_{2} \\" in text
    assert " &= 0.72675" in text and "VMEM`: VMEM: needs 40 MB per core" in text
