"""Tensor-parallel all-reduces: every multi-device machine has its interconnect latency, and a 405B
TP8 decode step pays the hand-computed all-reduce time (a share of the step that matters)."""

from __future__ import annotations

import pytest

from symcost.packs.llm.analytic import analytic_model, scenario_values
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.scenario import Coefficients, ParallelLayout, Scenario, Workload, device_count

MULTI_DEVICE = [entry for entry in catalog("hardware") if device_count(entry) > 1]


def test_the_catalog_has_machines_with_several_devices():
    assert {"8x-h100-sxm", "2x-a100-sxm-40gb"} <= {entry.id for entry in MULTI_DEVICE}


@pytest.mark.parametrize("entry", MULTI_DEVICE, ids=lambda entry: entry.id)
def test_every_multi_device_machine_gives_its_hop_and_collective_latency_with_a_source(entry):
    link = entry["interconnect"]
    assert link["latency_us"] > 0 and link["collective_latency_us"] > 0
    assert "latency_us" in entry["source"] and "collective_latency_us" in entry["source"]


def test_405b_tp8_decode_step_pays_two_ring_all_reduces_per_layer():
    scenario = Scenario(
        catalog("models").get("llama-3.1-405b"),
        catalog("hardware").get("8x-h100-sxm"),
        catalog("runtimes").get("vllm"),
        catalog("quantizations").get("fp8"),
        Workload(512, 128),
        ParallelLayout(tensor_parallel=8),
        Coefficients(0.8, 0.5, 1e-3),
    )
    results = {name: float(value) for name, value in analytic_model().evaluate(scenario_values(scenario)).items()}
    # By hand from the catalog: 126 layers x 2 all-reduces, each 6.6 us + 2 x 7 hops x 0.6 us of latency
    # plus 2 x 7/8 of the 16384 x 2-byte hidden state over 450 GB/s.
    one_all_reduce = 6.6e-6 + 14 * 0.6e-6 + 2 * 7 / 8 * 16384 * 2 / 450e9
    assert one_all_reduce == pytest.approx(15.127e-6, rel=1e-4)
    assert results["t_tp"] == pytest.approx(2 * 126 * one_all_reduce, rel=1e-12)
    assert results["share_interconnect"] == pytest.approx(2 * 126 * one_all_reduce / results["t_step"], rel=1e-12)
    # 3.8 ms beside ~18 ms of weight reads: far from the 0.19 % the step showed without link latencies.
    assert results["share_interconnect"] > 0.10
