"""The FP16 matmul rate a runtime reaches: llama.cpp accumulates in FP16 (cuBLAS CUBLAS_COMPUTE_16F), so on a
GeForce card, which lists twice its FP32-accumulate rate for that, its prefill computes at the higher rate; a runtime
accumulating in FP32, and any card without the field, use fp16_tflops."""

from __future__ import annotations

import pytest

from symcost.packs.llm.analytic import analytic_model, scenario_values
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.requests import scenario_from_request
from symcost.packs.llm.scenario import Coefficients

ETA_FLOPS = 0.5
COEFFICIENTS = Coefficients(eta_bw=0.8, eta_flops=ETA_FLOPS, t0_s=1e-3)


def prefill_compute_rate(runtime: str, hardware: str) -> float:
    """FLOP/s of prefill's compute term: its FLOPs over its compute time, for an F16 model (no dequantization)."""
    request = {"model_id": "llama-3-8b", "runtime_id": runtime, "hardware": {"hardware_id": hardware}, "quant": "f16"}
    scenario = scenario_from_request(request).with_(coefficients=COEFFICIENTS)
    results = analytic_model().evaluate(scenario_values(scenario))
    return float(results["FLOP_prefill"] / results["t_pf_compute"])


@pytest.mark.parametrize(
    "runtime, hardware, peak_tflops",
    [
        ("llama.cpp", "rtx-4090", 330.3),  # Ada whitepaper: FP16 tensor with FP16 accumulate
        ("vllm", "rtx-4090", 165.2),  # FP32 accumulate: half rate on GeForce
        ("llama.cpp", "a100-sxm-80gb", 312.0),  # no FP16-accumulate figure: the one FP16 rate
        ("ollama", "rtx-3090", 142.0),  # Ollama runs llama.cpp's kernels
    ],
)
def test_prefill_computes_at_the_rate_of_the_runtimes_accumulate_precision(runtime, hardware, peak_tflops):
    assert prefill_compute_rate(runtime, hardware) == pytest.approx(ETA_FLOPS * peak_tflops * 1e12, rel=1e-9)


def test_every_fp16_accumulate_rate_is_twice_the_fp32_accumulate_rate_of_a_geforce_card():
    listed = [
        (entry.id, gpu)
        for entry in catalog("hardware")
        for gpu in entry.get("gpus") or []
        if "fp16_acc16_tflops" in gpu
    ]
    assert len(listed) >= 9
    for hardware_id, gpu in listed:
        assert gpu["sku"].startswith("RTX ") and "Ada" not in gpu["sku"], hardware_id
        assert gpu["fp16_acc16_tflops"] == pytest.approx(2 * gpu["fp16_tflops"], rel=0.01), hardware_id
