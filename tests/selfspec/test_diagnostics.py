"""The selfspec pack's diagnostics: values against hand computation on the bundled example, the JSON
against the report schema, and the section in the table as a user runs it."""

from __future__ import annotations

import json
import math

import pytest
from conftest import EXAMPLES, run_cli

from symcost.schema_check import schema_issues

INPUTS = (
    "--model",
    EXAMPLES / "model_llama2_7b.yaml",
    "--hardware",
    EXAMPLES / "hardware_soc_pipelined.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    output = tmp_path_factory.mktemp("diag") / "report.json"
    result = run_cli("report", *INPUTS, "--prompt-lengths", "128,8192", "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


def checks(found: dict) -> dict:
    return {entry["name"]: entry for entry in found["diagnostics"]}


def test_values_equal_hand_computation_from_the_report(report):
    found, _ = report
    by_name = checks(found)
    area = found["area"]["total_mm2"]
    assert by_name["reticle_area"]["value"] == pytest.approx(area, rel=1e-9)
    assert by_name["reticle_area"]["threshold"] == {
        "value": 858,
        "unit": "mm^2",
        "source": by_name["reticle_area"]["threshold"]["source"],
    }
    assert by_name["dies"]["value"] == math.ceil(area / 858)
    # Leakage share: the static entry of the breakdown over the burst energy, largest at the shortest prompt.
    shares = [
        point["speculative"]["by_stage"]["leakage"]["energy_J"] / point["speculative"]["burst"]["energy_J"]
        for point in found["points"]
    ]
    assert by_name["leakage_share"]["value"] == pytest.approx(100 * max(shares), rel=1e-9)
    assert by_name["leakage_share"]["at"] == {"L_prompt": 128}
    first = found["points"][0]["speculative"]
    sram = first["by_component"]["leakage.sram"]["energy_J"] / first["burst"]["energy_J"]
    assert by_name["leakage_share"]["drivers"][0] == {"name": "sram", "value": pytest.approx(100 * sram, rel=1e-9)}
    # Llama-2-7B FFN (SwiGLU, 3 matrices of 4096 x 11008) on 128 x 128 tiles, 8-bit inputs in 4-bit DAC
    # slices, 128 columns per residual ADC: tile reads x columns, one after the other.
    tiles = math.ceil(4096 / 128) * math.ceil(11008 / 128) * 3
    assert by_name["adc_conversions_in_series"]["value"] == tiles * 2 * 128
    # K = 4 drafted tokens after the longest prompt, of 32768 tokens of KV memory.
    assert by_name["context_use"]["value"] == pytest.approx(100 * (8192 + 4) / 32768)
    assert by_name["context_use"]["status"] == "ok" and by_name["context_use"]["at"] == {"L_prompt": 8192}
    assert {entry["status"] for name, entry in by_name.items() if name != "context_use"} == {"warn"}


def test_report_with_diagnostics_is_valid_against_the_schema(report):
    found, _ = report
    assert schema_issues(found, "report", "report.json") == []
    found["diagnostics"][0]["status"] = "fine"
    assert schema_issues(found, "report", "report.json")


def test_the_table_shows_the_diagnostics(report):
    _, table = report
    assert "diagnostics (" in table
    assert "warn reticle_area = 1.236e+05 mm^2 at L_prompt=128; at most 858 mm^2" in table
    assert "largest parts: sram" in table
    assert "ok   context_use" in table


def test_compat_layout_has_no_diagnostics(tmp_path):
    output = tmp_path / "compat.json"
    result = run_cli("report", *INPUTS, "--prompt-lengths", "128", "--compat", "selfspec", "-o", output)
    assert result.code == 0, result.stderr
    assert "diagnostics" not in output.read_text()
