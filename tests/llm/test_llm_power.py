"""Power and energy per token at rated figures: what the pack computes and when it is unknown."""

from __future__ import annotations

import math

import pytest

from symcost.packs.llm.analytic import analytic_model, scenario_values
from symcost.packs.llm.catalog import CatalogEntry, catalog
from symcost.packs.llm.estimate import estimate
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload


def scenario(
    hardware: CatalogEntry, tp: int = 1, pp: int = 1, offload: str = "auto", model: str = "llama-3.1-8b"
) -> Scenario:
    return Scenario(
        catalog("models").get(model),
        hardware,
        catalog("runtimes").get("vllm" if tp > 1 else "llama.cpp"),
        catalog("quantizations").get("q4_k_m" if tp == 1 else "awq-int4"),
        Workload(512, 128, 4),
        ParallelLayout(tp, pp, offload),
    )


def with_power(hardware_id: str, device_w: float | None, cpu_w: float | None) -> CatalogEntry:
    entry = catalog("hardware").get(hardware_id)
    data = {
        **entry.data,
        "gpus": [
            {**gpu, "tdp_w": device_w} if device_w else {k: v for k, v in gpu.items() if k != "tdp_w"}
            for gpu in entry["gpus"]
        ],
        "cpu": {**entry["cpu"], "tdp_w": cpu_w} if cpu_w else {k: v for k, v in entry["cpu"].items() if k != "tdp_w"},
    }
    return CatalogEntry("hardware", entry.id, data, "test")


@pytest.mark.parametrize("tp, pp", [(1, 1), (2, 1), (1, 2)])
def test_power_is_the_rated_power_of_the_devices_in_use_and_energy_is_power_times_step_per_token(tp, pp):
    hardware = with_power("8x-h100-sxm", 700.0, 700.0)
    results = analytic_model().evaluate(scenario_values(scenario(hardware, tp, pp)))
    assert float(results["power"]) == pytest.approx(700.0 * tp * pp, rel=1e-12)
    assert float(results["energy_per_token"]) == pytest.approx(
        700.0 * tp * pp * float(results["t_step"]) / 4, rel=1e-12
    )


def test_cpu_power_counts_only_when_offloaded_layers_run_on_the_cpu():
    hardware = with_power("rtx-4090", 450.0, 170.0)
    fits = analytic_model().evaluate(scenario_values(scenario(hardware)))
    offloaded = analytic_model().evaluate(scenario_values(scenario(hardware, model="llama-3.1-70b")))
    assert float(fits["power"]) == pytest.approx(450.0) and float(offloaded["W_off"]) > 0
    assert float(offloaded["power"]) == pytest.approx(620.0)


def test_unknown_rated_power_is_reported_as_unknown_not_as_zero():
    hardware = with_power("rtx-4090", None, None)
    response = estimate(scenario(hardware))
    assert "power_w" not in response["estimates"] and "energy_per_token_j" not in response["estimates"]
    assert math.isfinite(response["estimates"]["decode_toks_sec"]["p50"])
    known = estimate(scenario(with_power("rtx-4090", 450.0, None)))
    assert known["estimates"]["power_w"]["p50"] == 450.0
    assert known["estimates"]["energy_per_token_j"]["p50"] > 0
