"""A user's pack declares its own diagnostic (tests/data/user_pack/systolic.yaml: array utilisation),
and a pack whose diagnostic is wrong is refused with a clear error and exit code 2."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_cli

from symcost.schema_check import schema_issues

PACK = ROOT / "tests" / "data" / "user_pack" / "systolic.yaml"
INPUTS = ROOT / "tests" / "data" / "user_pack" / "inputs.yaml"


def utilisation(M: int, rows: int = 128, cols: int = 128, K: int = 4096, N: int = 4096) -> float:
    """Busy MAC slots over all of them, in %, written out by hand."""
    tiles = -(-K // rows) * -(-N // cols)
    return 100 * M * K * N / (tiles * (M + rows + cols) * rows * cols)


def report(tmp_path, *axes):
    output = tmp_path / "report.json"
    result = run_cli("report", "--pack", PACK, "--input", INPUTS, *axes, "-o", output)
    assert result.code == 0, result.stderr
    return json.loads(output.read_text()), result.stdout


@pytest.mark.parametrize("M, status", [(255, "warn"), (256, "ok"), (257, "ok")])
def test_status_flips_at_the_threshold(tmp_path, M, status):
    found, table = report(tmp_path, "--axis", f"M={M}")
    (check,) = found["diagnostics"]
    assert check["value"] == pytest.approx(utilisation(M), rel=1e-12)
    assert check["status"] == status and check["at"] == {"M": M}
    assert f"{status:<4} utilisation" in table


def test_the_worst_point_is_reported(tmp_path):
    found, _ = report(tmp_path, "--axis", "M=64,4096")
    (check,) = found["diagnostics"]
    assert check["at"] == {"M": 64} and check["value"] == pytest.approx(20.0)
    assert check["threshold"]["unit"] == "%" and check["threshold"]["source"].startswith("assumption")
    assert schema_issues(found, "pack-report", "report.json") == []


def broken_pack(tmp_path, old: str, new: str) -> str:
    text = PACK.read_text()
    assert old in text
    text = text.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "old, new, fragment",
    [
        ("value: 'n_mac / (n_cycles * R * Cc)'", "value: 'n_mac / (n_cycles * R * Cx)'", "diagnostics[0].value"),
        ("value: 'n_mac / (n_cycles * R * Cc)'", "value: '__import__(\"os\")'", "diagnostics[0].value"),
        (
            "unit: '%'\n    threshold: {value: 50, unit: '%'",
            "unit: '%'\n    threshold: {value: 50, unit: 's'",
            "threshold.unit",
        ),
        ("uses: {n_mac: macs, n_cycles: cycles}", "uses: {n_mac: macs, n_cycles: cycle}", "did you mean cycles"),
        ("uses: {n_mac: macs, n_cycles: cycles}", "uses: {n_mac: macs, n_cycles: t_compute}", "but its unit % is"),
    ],
)
def test_an_invalid_diagnostic_is_a_clear_error(tmp_path, old, new, fragment):
    result = run_cli("report", "--pack", broken_pack(tmp_path, old, new), "--input", INPUTS)
    assert result.code == 2
    assert result.stderr.startswith("error: ") and fragment in result.stderr, result.stderr
