"""Elasticities from symbolic derivatives, against finite differences of separately built models."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli

from symcost import build_model
from symcost.packs.selfspec.sensitivity import sensitivities
from symcost.units import parse_unit

KNOBS = (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml")
LENGTHS = [128, 4096]


@pytest.fixture(scope="module")
def knobs():
    return sensitivities(*KNOBS, LENGTHS)


def _dimension(unit: str) -> str:
    return parse_unit(unit).dimension_name


def test_energy_is_homogeneous_of_degree_one_in_energies_and_powers(knobs):
    # Scaling every energy and power coefficient by s scales energy per token by s: Euler's theorem
    # says their elasticities sum to one (serialized schedule: no coefficient was left out).
    assert not any("branch" in reason for reason in knobs.left_out.values())
    total = sum(
        item.by_metric["energy_per_token"]
        for item in knobs.elasticities
        if _dimension(item.unit) in ("energy", "power", "energy per byte")
    )
    np.testing.assert_allclose(total, 1.0, rtol=1e-9)


def test_latency_elasticities_sum_to_one_over_times(knobs):
    total = sum(item.by_metric["latency_per_token"] for item in knobs.elasticities if _dimension(item.unit) == "time")
    np.testing.assert_allclose(total, 1.0, rtol=1e-9)


def test_ranked_by_largest_magnitude(knobs):
    peaks = [max(float(np.max(np.abs(v))) for v in item.by_metric.values()) for item in knobs.elasticities]
    assert peaks == sorted(peaks, reverse=True) and peaks[0] > 0.1


@pytest.mark.parametrize("coefficient", ["e_AR", "t_AD", "t_attention_qk"])
def test_matches_a_central_difference_of_a_model_keeping_that_coefficient(knobs, coefficient):
    item = next(item for item in knobs.elasticities if item.coefficient == coefficient)
    model = build_model(*KNOBS, keep=[coefficient])
    value = model.defaults[coefficient]
    step = 1e-4
    up = model.evaluate(L_prompt=np.array(LENGTHS, float), **{coefficient: value * (1 + step)})
    down = model.evaluate(L_prompt=np.array(LENGTHS, float), **{coefficient: value * (1 - step)})
    for metric in ("energy_per_token", "latency_per_token"):
        finite = (np.log(up[f"speculative.{metric}"]) - np.log(down[f"speculative.{metric}"])) / (
            np.log(1 + step) - np.log(1 - step)
        )
        np.testing.assert_allclose(item.by_metric[metric], finite, rtol=1e-6, atol=1e-9)


def test_pipelined_schedule_leaves_out_the_coefficients_that_decide_branches():
    found = sensitivities(
        EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml", [512]
    )
    deciding = [name for name, reason in found.left_out.items() if "decides which branch" in reason]
    assert deciding and all(item.coefficient not in deciding for item in found.elasticities)


def test_cli_table_and_json():
    table = run_cli(
        "sensitivity",
        "--model",
        KNOBS[0],
        "--hardware",
        KNOBS[1],
        "--stats",
        KNOBS[2],
        "--prompt-lengths",
        "128,4096",
        "--top",
        "3",
    )
    assert table.code == 0, table.stderr
    assert "e_AR" in table.stdout and "adc_residual.energy_pj_per_conversion" in table.stdout
    assert "more (--top 0 shows all)" in table.stdout
    as_json = run_cli("sensitivity", "--model", KNOBS[0], "--hardware", KNOBS[1], "--stats", KNOBS[2], "--json")
    data = json.loads(as_json.stdout)
    assert data["prompt_lengths"] == [2048.0] and data["elasticities"][0]["coefficient"]


def test_cli_missing_file_exits_2(tmp_path):
    result = run_cli("sensitivity", "--model", tmp_path / "none.yaml", "--hardware", KNOBS[1], "--stats", KNOBS[2])
    assert result.code == 2 and "file not found" in result.stderr


def test_derivatives_of_a_sum_are_sympys_own():
    import sympy as sp

    from symcost.packs.selfspec.sensitivity import _derivatives_of

    a, b, c, L = sp.symbols("e_a e_b P_c L_prompt", positive=True)
    sums = [a * L**2 / (3 * b) + c * L + a * b + 7, a * b * c / (L + 1) + L * (a + b) ** 2, 2 * a * b]
    for piece in sums:
        derivative = _derivatives_of(piece)
        for symbol in (a, b, c, L):
            assert sp.srepr(derivative(symbol)) == sp.srepr(sp.diff(piece, symbol))


def test_left_out_coefficients_come_in_the_same_order_whatever_the_hash_seed(tmp_path):
    arguments = ["sensitivity", "--model", EXAMPLES / "model_tiny.yaml", "--stats", EXAMPLES / "stats_k4.yaml"]
    arguments += ["--hardware", EXAMPLES / "hardware_soc_pipelined.yaml", "--prompt-lengths", "512", "--format"]
    runs = [
        run_cli(*arguments, "json", env={"PYTHONHASHSEED": seed, "SYMCOST_CACHE_DIR": str(tmp_path / seed)})
        for seed in ("1", "2", "3")
    ]
    assert all(run.code == 0 for run in runs), runs[0].stderr
    orders = [list(json.loads(run.stdout)["left_out"]) for run in runs]
    assert sum("decides which branch" in reason for reason in json.loads(runs[0].stdout)["left_out"].values()) > 1
    assert orders[0] == orders[1] == orders[2]
