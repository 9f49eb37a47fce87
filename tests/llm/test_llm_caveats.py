"""Honest estimates: runtimes the calibration never measured are marked and their intervals widened by the
measured leave-one-runtime-out factors, efficiencies above 1 carry a note, sliding-window models warn
past their window; in the library, the CLI and the HTTP API."""

from __future__ import annotations

import json
import math

import pytest
from conftest import ROOT, run_cli
from service.service_server import Server

from symcost.errors import SymcostError
from symcost.packs.llm.calibration import held_out_errors
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.estimate import estimate
from symcost.packs.llm.observations import observations
from symcost.packs.llm.records import records_from_csv
from symcost.packs.llm.requests import packaged_bundle, scenario_from_request
from symcost.packs.llm.scenario import Coefficients, Scenario, Workload
from symcost.packs.llm.uncalibrated import (
    WIDENING_FILE,
    family_errors,
    measured_widening,
    runtime_calibrated,
    widen,
    widening_factors,
)

CSV = ROOT / "data" / "llm_bench_calibration.csv"
WIDENING = json.loads((ROOT / "catalogs" / WIDENING_FILE).read_text())


def scenario(
    model="llama-3.1-8b", runtime="llama.cpp", quant="q4_k_m", prompt=512, gen=128, coefficients=None
) -> Scenario:
    return Scenario(
        catalog("models").get(model),
        catalog("hardware").get("rtx-4090"),
        catalog("runtimes").get(runtime),
        catalog("quantizations").get(quant),
        Workload(prompt, gen),
        coefficients=coefficients,
    )


# ---------------------------------------------------------------- uncalibrated runtimes
def test_widening_file_equals_leave_one_runtime_out_errors_of_the_calibration_data():
    items = observations(records_from_csv(CSV))
    by_runtime = family_errors(held_out_errors(items, fold="runtime"))
    # The packaged bundle's residuals are the held-out errors its intervals come from, of the same data.
    fresh = measured_widening(packaged_bundle().residuals, by_runtime)
    assert fresh == WIDENING["families"]
    # An unseen runtime is harder to predict; the serving figures have one runtime, which is also their one source.
    assert fresh["decode"]["factor"] > 1 and fresh["prefill"]["factor"] > 1 and fresh["serving"]["factor"] == 1
    for entry in fresh.values():  # the widened bundle interval contains the leave-one-runtime-out one
        low, high = (entry["factor"] * bound for bound in entry["bundle_log_bounds"])
        runtime = entry["held_out_runtime_log_bounds"]
        assert low <= runtime[0] + 1e-3 and runtime[1] <= high + 1e-3


@pytest.mark.parametrize(
    "runtime, calibrated",
    [("llama.cpp", True), ("ollama", True), ("vllm", False), ("exllamav2", False), ("mlx", False), ("sglang", False)],
)
def test_a_runtime_is_calibrated_when_the_bundle_fitted_runs_of_its_backend(runtime, calibrated):
    assert runtime_calibrated(packaged_bundle(), catalog("runtimes").get(runtime)) is calibrated
    assert runtime_calibrated(None, catalog("runtimes").get(runtime)) is None


def test_uncalibrated_runtime_intervals_are_the_bundles_widened_by_the_stored_factors():
    bundle = packaged_bundle()
    response = estimate(scenario(runtime="vllm", quant="awq-int4"), bundle)
    assert response["runtime_calibrated"] is False
    decode, ttft = response["estimates"]["decode_toks_sec"], response["estimates"]["ttft_ms"]
    base = bundle.interval("decode_toks_sec", decode["p50"])
    factor = WIDENING["families"]["decode"]["factor"]
    rounding = 2e-3  # the response's figures have four significant digits: up to 1e-3 in each log
    assert math.log(decode["p90"] / decode["p50"]) == pytest.approx(
        factor * math.log(base["p90"] / base["p50"]), abs=rounding
    )
    assert math.log(decode["p10"] / decode["p50"]) == pytest.approx(
        factor * math.log(base["p10"] / base["p50"]), abs=rounding
    )
    base_ttft = bundle.interval("ttft_ms_p50", ttft["p50"], inverse=True)
    assert ttft["p90"] / ttft["p50"] > base_ttft["p90"] / base_ttft["p50"]
    assert any(line.startswith("Uncalibrated for vllm") and f"x{factor:.2f}" in line for line in response["warnings"])


def test_calibrated_runtime_keeps_the_bundles_interval_and_has_no_uncalibrated_warning():
    bundle = packaged_bundle()
    response = estimate(scenario(), bundle)
    decode = response["estimates"]["decode_toks_sec"]
    expected = bundle.interval("decode_toks_sec", decode["p50"])
    assert response["runtime_calibrated"] is True
    assert decode["p10"] == pytest.approx(expected["p10"], rel=1e-3) and decode["p90"] == pytest.approx(
        expected["p90"], rel=1e-3
    )
    assert not any("Uncalibrated" in line for line in response["warnings"])


def test_widen_scales_each_bound_in_log_space_around_the_median():
    assert widen({"p10": 50.0, "p50": 100.0, "p90": 200.0}, 2.0) == pytest.approx(
        {"p10": 25.0, "p50": 100.0, "p90": 400.0}
    )
    assert widening_factors() == {family: entry["factor"] for family, entry in WIDENING["families"].items()}


# ---------------------------------------------------------------- efficiencies above 1
def test_an_efficiency_above_one_carries_a_note_and_one_below_does_not():
    fast = estimate(scenario(coefficients=Coefficients(1.08, 0.5, 1e-3)))
    assert any(line.startswith("eta_bw 1.08 above 1") and "effective factors" in line for line in fast["warnings"])
    plain = estimate(scenario(coefficients=Coefficients(0.9, 0.5, 1e-3)))
    assert not any("above 1" in line for line in plain["warnings"])


# ---------------------------------------------------------------- sliding windows
@pytest.mark.parametrize(
    "model, quant, window, layers, total",
    [
        ("gemma-2-9b", "bf16", 4096, 21, 42),
        ("gemma-2-27b", "bf16", 4096, 23, 46),
        ("gemma-3-4b", "bf16", 1024, 29, 34),
        ("gpt-oss-20b", "mxfp4", 128, 12, 24),
        ("gpt-oss-120b", "mxfp4", 128, 18, 36),
        ("mistral-7b-v0.1", "bf16", 4096, 32, 32),
    ],
)
def test_sliding_window_models_name_their_window_and_warn_only_past_it(model, quant, window, layers, total):
    entry = catalog("models").get(model)
    assert entry["sliding_window"]["tokens"] == window and entry["sliding_window"]["layers"] == layers
    assert entry["layers"] == total and entry["sliding_window"]["source"]
    inside = estimate(scenario(model, quant=quant, prompt=window // 2, gen=window // 4))
    assert not any("sliding window" in line for line in inside["warnings"])
    past = estimate(scenario(model, quant=quant, prompt=window, gen=16))
    assert any(
        f"{window}-token sliding window on {layers} of its {total} layers" in line
        and f"({window + 16} tokens)" in line
        and "full attention on every layer" in line
        for line in past["warnings"]
    )


def test_models_without_a_window_never_warn_about_one():
    response = estimate(scenario(prompt=100_000))
    assert not any("sliding window" in line for line in response["warnings"])


# ---------------------------------------------------------------- CLI and HTTP API
def test_cli_marks_an_uncalibrated_runtime_and_prints_the_warnings():
    result = run_cli(
        "llm",
        "estimate",
        "--model",
        "gemma-3-4b",
        "--hardware",
        "rtx-4090",
        "--runtime",
        "vllm",
        "--quant",
        "bf16",
        "--prompt-tokens",
        "4096",
        "--recommend",
        "0",
    )
    assert result.code == 0, result.stderr
    assert "calibration: UNCALIBRATED for this runtime" in result.stdout
    warnings = [line for line in result.stdout.splitlines() if line.startswith("! ")]
    assert any("Uncalibrated for vllm" in line for line in warnings)
    assert any("1024-token sliding window" in line for line in warnings)
    calibrated = run_cli("llm", "estimate", "--model", "llama-3.1-8b", "--hardware", "rtx-4090", "--recommend", "0")
    assert calibrated.code == 0 and "UNCALIBRATED" not in calibrated.stdout


def _machine_with_an_efficiency_above_one() -> tuple[str, float]:
    """A catalog machine on which the packaged bundle gives llama.cpp an eta_bw above 1, and that eta_bw."""
    bundle = packaged_bundle()
    for hardware_id in catalog("hardware").ids():
        request = {"model_id": "llama-3.1-8b", "runtime_id": "llama.cpp", "hardware": {"hardware_id": hardware_id}}
        try:
            eta_bw = bundle.coefficients_for(scenario_from_request(request)).eta_bw
        except SymcostError:  # llama.cpp has no backend in common with the machine
            continue
        if eta_bw > 1:
            return hardware_id, eta_bw
    pytest.fail("the packaged bundle gives llama.cpp no efficiency above 1 on any catalog machine")


def test_cli_audit_notes_an_efficiency_above_one():
    hardware_id, eta_bw = _machine_with_an_efficiency_above_one()
    result = run_cli(
        "llm",
        "audit",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        hardware_id,
        "--runtime",
        "llama.cpp",
        "--format",
        "markdown",
    )
    assert result.code == 0, result.stderr
    assert f"eta\\_bw {eta_bw:g} above 1: fitted coefficients are effective factors" in result.stdout


def test_api_estimate_response_carries_the_calibration_mark_and_the_warnings(tmp_path):
    request = {
        "model_id": "gpt-oss-20b",
        "runtime_id": "vllm",
        "quant": "mxfp4",
        "hardware": {"hardware_id": "rtx-4090"},
        "workload": {"context_tokens": 2048, "output_tokens": 64},
        "recommend": 0,
    }
    with Server(tmp_path / "db.sqlite", options=["--workers", "1"]) as server:
        status, body = server.post("/v1/estimate", request)
        calibrated = server.post("/v1/estimate", {**request, "runtime_id": "llama.cpp"})[1]
        schema = server.get("/openapi.json")["components"]["schemas"]["EstimateResponse"]
    assert status == 200
    assert body["runtime_calibrated"] is False and calibrated["runtime_calibrated"] is True
    assert any("Uncalibrated for vllm" in line for line in body["warnings"])
    assert any("128-token sliding window" in line for line in body["warnings"])
    assert not any("Uncalibrated" in line for line in calibrated["warnings"])
    assert {"runtime_calibrated", "warnings"} <= set(schema["properties"]) and "warnings" in schema["required"]
