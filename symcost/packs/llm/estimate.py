"""One scenario -> the seed's section 6.1 response (feasibility, estimates with intervals,
bottlenecks, recommended configurations, explanations), plus the memory decomposition,
the coefficients used and the formulas behind every figure."""

from __future__ import annotations

import math
from typing import Any

from ...finite import bound_inputs, refuse_non_finite
from ...units import parse_unit
from .analytic import AnalyticModel, analytic_model
from .assess import CLASSES, bottlenecks, feasibility_codes, memory_explanations, reason_codes
from .calibration import Bundle
from .caveats import context_warnings, efficiency_warnings, sliding_window_warnings, uncalibrated_warnings
from .inputs import context_needed
from .multi_device import mode_of
from .pack_symbols import ScenarioNumbers
from .scenario import Scenario
from .uncalibrated import backend_calibrated, band, runtime_calibrated, widening_factors

GB = parse_unit("GB").si_factor  # the response gives memory in GB
# response field -> (pack quantity, factor from SI, metric whose held-out errors give the interval)
ESTIMATES = {
    "decode_toks_sec": ("decode_tps", 1.0, "decode_toks_sec"),
    "decode_toks_sec_per_sequence": ("decode_tps_per_sequence", 1.0, "decode_toks_sec"),
    "prefill_toks_sec": ("prefill_tps", 1.0, "prefill_toks_sec"),
    "ttft_ms": ("ttft", 1e3, "ttft_ms_p50"),
    "latency_ms": ("latency", 1e3, "latency_ms_p50"),
    "output_toks_sec": ("output_tps", 1.0, "output_toks_sec"),
}
# Times are inverse rates: a rate measured above its prediction is a time below it.
INVERSE = frozenset({"ttft_ms", "latency_ms"})
MEMORY = {
    "weights_gb": "W",
    "kv_cache_gb": "M_kv",
    "activations_gb": "M_act",
    "runtime_buffers_gb": None,
    "fragmentation_reserve_gb": "M_reserve",
    "total_gb": "M_total",
    "per_device_need_gb": "M_device_need",
    "per_device_usable_gb": "C_use",
    "offloaded_weights_gb": "W_off",
    "vram_peak_gb": "M_vram_total",
    "ram_peak_gb": "M_ram_peak",
}


def estimate(scenario: Scenario, bundle: Bundle | None = None, model: AnalyticModel | None = None) -> dict[str, Any]:
    model = model or analytic_model()
    if bundle is not None and scenario.coefficients is None:
        scenario = scenario.with_(coefficients=bundle.coefficients_for(scenario))
    bound = model.bind(scenario)
    results = model.evaluate(bound.numbers(model.input_names))
    code = int(feasibility_codes(results))
    offload_path = "host_memory_bandwidth" if bound.number("cpu_layers") else "pcie_bandwidth"
    found = bottlenecks(results, offload_path)
    reasons = reason_codes(results)
    names = [b.name for b in found if b.share >= 0.1] + (["vram_capacity"] if reasons else [])
    on_backend = backend_calibrated(bundle, scenario)
    figures = {**_estimates(results, bundle, on_backend), "memory": _memory(results, bound)}
    refuse_non_finite(
        _flat(figures),
        lambda _: f"the scenario {_scenario_text(scenario)}",
        lambda: bound_inputs(model.pack, model.bind_exact(scenario).bound),  # SymPy only to name the culprits
    )
    coefficients = _coefficients(scenario, bound)
    calibrated = runtime_calibrated(bundle, scenario.runtime)
    return {
        "feasibility": str(CLASSES[code]),
        "reason_codes": reasons,
        "estimates": {key: value for key, value in figures.items() if key != "memory"},
        "memory": figures["memory"],
        "bottlenecks": names,
        "bottleneck_shares_pct": {b.name: round(100 * b.share, 2) for b in found},
        "explanations": memory_explanations(results) + [b.explanation for b in found if b.share >= 0.1],
        "warnings": _warnings(scenario, model, (calibrated, on_backend), coefficients),
        "runtime_calibrated": calibrated,
        "backend_calibrated": on_backend,
        "scenario": describe(scenario, bound),
        "coefficients": coefficients,
        "calibration": bundle.bundle_id if bundle else None,
    }


def _flat(figures: dict[str, Any], prefix: str = "") -> dict[str, float]:
    flat = {}
    for key, value in figures.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def _scenario_text(scenario: Scenario) -> str:
    return f"{scenario.model.id} on {scenario.hardware.id} ({scenario.runtime.id}, {scenario.quant.id})"


def _estimates(results, bundle: Bundle | None, calibrated: bool | None) -> dict[str, dict[str, float]]:
    estimates = {}
    for field, (quantity, factor, metric) in ESTIMATES.items():
        value = float(results[quantity]) * factor
        interval = band(bundle, calibrated, metric, value, inverse=field in INVERSE)
        estimates[field] = {key: _round(number) for key, number in interval.items()}
    estimates["vram_peak_gb"] = {"p50": _round(float(results["M_vram_total"]) / GB)}
    estimates["ram_peak_gb"] = {"p50": _round(float(results["M_ram_peak"]) / GB)}
    power, energy = float(results["power"]), float(results["energy_per_token"])
    if math.isfinite(power):  # rated power known; an upper bound, energy scales with the decode time
        estimates["power_w"] = {"p50": _round(power)}
        interval = band(bundle, calibrated, "decode_toks_sec", energy, inverse=True)
        estimates["energy_per_token_j"] = {key: _round(number) for key, number in interval.items()}
    return estimates


def _memory(results, bound: ScenarioNumbers) -> dict[str, float]:
    memory = {}
    for field, quantity in MEMORY.items():
        number = bound.number("M_buf") if quantity is None else float(results[quantity])
        memory[field] = _round(number / GB)
    return memory


def _warnings(
    scenario: Scenario, model: AnalyticModel, calibrated: tuple[bool | None, bool | None], coefficients: dict[str, Any]
) -> list[str]:
    needed = context_needed(model.symbols, scenario.workload)
    return (
        context_warnings(scenario, needed)
        + sliding_window_warnings(scenario, needed)
        + uncalibrated_warnings(scenario, calibrated, widening_factors())
        + efficiency_warnings(coefficients)
    )


def describe(scenario: Scenario, bound: ScenarioNumbers) -> dict[str, Any]:
    w, layout = scenario.workload, scenario.layout
    return {
        "model_id": scenario.model.id,
        "hardware_id": scenario.hardware.id,
        "runtime_id": scenario.runtime.id,
        "backend": scenario.compute_backend,
        "quant": scenario.quant.id,
        "workload": {
            "prompt_tokens": w.prompt_tokens,
            "gen_tokens": w.gen_tokens,
            "concurrency": w.concurrency,
            "depth_tokens": w.depth_tokens,
            "context_alloc": int(bound.number("S_alloc")),
        },
        "tensor_parallel": layout.tensor_parallel,
        "pipeline_parallel": layout.pipeline_parallel,
        "multi_device_mode": mode_of(scenario.runtime, layout.tensor_parallel, layout.pipeline_parallel),
        "offload": layout.offload,
        "flash_attention": bool(bound.number("fa")),
    }


def _coefficients(scenario: Scenario, bound: ScenarioNumbers) -> dict[str, Any]:
    """The coefficients the pack used (fitted, or the runtime's starting values), t0 in ms as the runtimes write it,
    the per-layer time in us."""
    values = bound.numbers(("eta_bw", "eta_flops", "t0", "t_layer", "kappa_bw", "kappa_flops"))
    return {
        "eta_bw": _round(values["eta_bw"]),
        "eta_flops": _round(values["eta_flops"]),
        "t0_ms": _round(values["t0"] / parse_unit("ms").si_factor),
        "t_layer_us": _round(values["t_layer"] / parse_unit("us").si_factor),
        "kappa_bw": _round(values["kappa_bw"]),
        "kappa_flops": _round(values["kappa_flops"]),
        "origin": scenario.coefficients_origin,
    }


def _round(value: float) -> float:
    return float(f"{value:.4g}")
