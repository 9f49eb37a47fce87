"""A scenario: catalog entries, workload, layout and coefficients -> the pack's inputs in SI.

:func:`scenario_values` is the one place catalog fields become pack inputs:
it converts units (GB -> B, TFLOPS -> FLOP/s, ms -> s), fills architecture
defaults (head_dim = hidden / heads; a dense model is one expert of size 0),
and picks the device figures (the first GPU type, or the CPU of a CPU-only
server). :func:`layout_problems` says why a layout cannot run at all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from ...errors import SymcostError
from .catalog import CatalogEntry

GB = 1e9
TERA = 1e12
OFFLOAD_POLICIES = ("none", "auto", "full")
# Formats that store blocks of integers and scales: kernels dequantize them while computing.
DEQUANTIZING_FAMILIES = frozenset({"gguf", "awq", "gptq", "exl2", "mlx", "mxfp", "nvfp"})


class ScenarioError(SymcostError):
    """A scenario that cannot be evaluated (a layout the model or hardware cannot take)."""


@dataclass(frozen=True)
class Workload:
    prompt_tokens: int
    gen_tokens: int
    concurrency: int = 1
    depth_tokens: int = 0                 # already in the KV cache before the prompt
    decode_start_tokens: int | None = None  # KV tokens when generation starts (default depth + prompt)
    context_alloc: int | None = None      # context the runtime allocates per sequence (default: what is needed)
    saturate: bool = False                # max-load run: as many sequences as fit

    @property
    def decode_start(self) -> int:
        return self.depth_tokens + self.prompt_tokens if self.decode_start_tokens is None else self.decode_start_tokens

    @property
    def context_needed(self) -> int:
        return max(self.depth_tokens + self.prompt_tokens, self.decode_start) + self.gen_tokens


@dataclass(frozen=True)
class ParallelLayout:
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    offload: str = "auto"                 # none | auto (what does not fit) | full (every weight in host RAM)

    @property
    def devices(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel


@dataclass(frozen=True)
class Coefficients:
    """The free coefficients calibration fits, and where these values come from."""

    eta_bw: float
    eta_flops: float
    t0_s: float
    kappa_bw: float = 1.0      # bandwidth efficiency of dequantizing formats relative to plain ones
    kappa_flops: float = 1.0   # compute efficiency of dequantizing formats relative to plain ones
    origin: str = "runtime defaults"

    @classmethod
    def defaults(cls, runtime: CatalogEntry) -> "Coefficients":
        raw = runtime["defaults"]
        return cls(raw["eta_bw"], raw["eta_flops"], raw["t0_ms"] * 1e-3, origin=f"defaults of runtime {runtime.id}")


@dataclass(frozen=True)
class Scenario:
    model: CatalogEntry
    hardware: CatalogEntry
    runtime: CatalogEntry
    quant: CatalogEntry
    workload: Workload
    layout: ParallelLayout = ParallelLayout()
    coefficients: Coefficients | None = None

    def with_(self, **changes: Any) -> "Scenario":
        return replace(self, **changes)

    @property
    def pooling_keys(self) -> tuple[str, str]:
        """(runtime backend, backend|hardware class): the levels calibration pools coefficients over."""
        backend = self.runtime.get("backend", self.runtime.id)
        return backend, f"{backend}|{self.hardware.get('class', 'unknown')}"

    @property
    def effective_coefficients(self) -> Coefficients:
        return self.coefficients or Coefficients.defaults(self.runtime)


def scenario_values(scenario: Scenario) -> dict[str, float]:
    """The pack's inputs (binding -> SI value) for one scenario."""
    problems = layout_problems(scenario)
    if problems:
        raise ScenarioError("; ".join(message for _, message in problems))
    return {**model_values(scenario.model), **quant_values(scenario), **hardware_values(scenario),
            **runtime_values(scenario), **workload_values(scenario.workload),
            **layout_values(scenario.layout, scenario.runtime)}


def model_values(model: CatalogEntry) -> dict[str, float]:
    moe = model.get("moe") or {}
    mla = model.get("mla") or {}
    routed = bool(moe.get("enabled"))
    values = {
        "model.layers": model["layers"], "model.hidden_size": model["hidden_size"], "model.n_heads": model["n_heads"],
        "model.n_kv_heads": model["n_kv_heads"], "model.head_dim": model.get("head_dim") or model["hidden_size"] / model["n_heads"],
        "model.intermediate_size": model["intermediate_size"], "model.vocab_size": model["vocab_size"],
        "model.tied_embeddings": float(bool(model.get("tied_embeddings"))),
        "model.mlp_matrices": 3 if model.get("mlp", "gated") == "gated" else 2,
        "model.is_mla": float(model.get("attention") == "mla"),
        # A dense model is one "expert" of size 0 on no MoE layer: the MoE terms vanish.
        "model.moe.experts": moe["experts"] if routed else 1, "model.moe.top_k": moe["top_k"] if routed else 1,
        "model.moe.shared_experts": moe.get("shared_experts", 0) if routed else 0,
        "model.moe.expert_intermediate_size": moe.get("expert_intermediate_size", 0) if routed else 0,
        "model.dense_layers": moe.get("dense_layers", 0) if routed else model["layers"],
    }
    for field in ("kv_lora_rank", "q_lora_rank", "qk_rope_head_dim", "qk_nope_head_dim", "v_head_dim"):
        values[f"model.mla.{field}"] = mla.get(field, 0)
    return values


def quant_values(scenario: Scenario) -> dict[str, float]:
    quant = scenario.quant
    return {"quant.bits_per_weight": quant["bits_per_weight"], "quant.kv_bits": quant.get("kv_bits", 16),
            "quant.dequantizes": float(quant.get("family") in DEQUANTIZING_FAMILIES)}


def hardware_values(scenario: Scenario) -> dict[str, float]:
    hardware = scenario.hardware
    device = compute_device(hardware)
    cpu = hardware.get("cpu") or {}
    link = hardware.get("interconnect") or {}
    unified = hardware.get("memory") == "unified" or not hardware.get("gpus")
    host_bw = cpu.get("mem_bw_gbps") or device["mem_bw_gbps"]
    return {
        "hardware.mem_bw": device["mem_bw_gbps"] * GB,
        "hardware.device_memory": device["memory_gb"] * GB,
        "hardware.usable_memory_fraction": hardware.get("usable_memory_fraction", 1.0),
        "hardware.peak_flops": peak_tflops(device, scenario.quant.get("compute", "fp16")) * TERA,
        "hardware.interconnect_bw": (link.get("bw_gbps") or hardware.get("host_link_gbps") or host_bw) * GB,
        "hardware.interconnect_latency": link.get("latency_us", 0.0) * 1e-6,
        "hardware.host_link_bw": (hardware.get("host_link_gbps") or link.get("bw_gbps") or host_bw) * GB,
        "hardware.host_mem_bw": host_bw * GB,
        "hardware.host_memory": hardware.get("ram_gb", 0.0) * GB,
        "hardware.is_unified": float(unified),
        # Unknown rated power is nan: the power figures come out nan and are reported as unknown.
        "hardware.device_power": float(device.get("tdp_w") or math.nan),
        "hardware.cpu_power": float(cpu.get("tdp_w") or math.nan),
    }


def compute_device(hardware: CatalogEntry) -> dict[str, Any]:
    """The device that computes: the first GPU type, or the CPU of a CPU-only server."""
    gpus = hardware.get("gpus") or []
    if gpus:
        gpu = gpus[0]
        return {**gpu, "memory_gb": gpu["vram_gb"], "count": sum(g.get("count", 1) for g in gpus)}
    cpu = hardware.get("cpu") or {}
    if not cpu.get("fp16_tflops") or not cpu.get("mem_bw_gbps"):
        raise ScenarioError(f"hardware {hardware.id} has no GPU and its CPU lacks fp16_tflops or mem_bw_gbps")
    return {**cpu, "memory_gb": hardware["ram_gb"], "count": 1}


def peak_tflops(device: dict[str, Any], precision: str) -> float:
    """Dense peak at ``precision`` when the device lists it (fp8, bf16), else the FP16 figure."""
    field = {"fp8": "fp8_tflops", "bf16": "bf16_tflops", "fp4": "fp8_tflops"}.get(precision)
    return device.get(field) or device["fp16_tflops"] if field else device["fp16_tflops"]


def runtime_values(scenario: Scenario) -> dict[str, float]:
    runtime, coefficients = scenario.runtime, scenario.effective_coefficients
    raw = runtime["defaults"]
    return {
        "coefficients.eta_bw": coefficients.eta_bw, "coefficients.eta_flops": coefficients.eta_flops,
        "coefficients.t0": coefficients.t0_s, "coefficients.kappa_bw": coefficients.kappa_bw,
        "coefficients.kappa_flops": coefficients.kappa_flops,
        "runtime.buffer": raw["buffer_gb"] * GB,
        "runtime.kv_reserve_fraction": raw["kv_reserve_fraction"],
        "runtime.memory_utilization": raw["memory_utilization"],
        "runtime.ubatch": raw["ubatch"],
        "runtime.offload_cpu_layers": float(runtime.get("offload") == "cpu_layers"),
        "runtime.microbatched_pp": float(runtime.get("pipeline") == "microbatched"),
        "runtime.max_batch": runtime.get("max_batch", 256),
    }


def workload_values(workload: Workload) -> dict[str, float]:
    return {
        "workload.depth_tokens": workload.depth_tokens, "workload.prompt_tokens": workload.prompt_tokens,
        "workload.decode_start_tokens": workload.decode_start, "workload.gen_tokens": workload.gen_tokens,
        "workload.context_alloc": workload.context_alloc or workload.context_needed,
        "workload.concurrency": workload.concurrency, "workload.saturate": float(workload.saturate),
    }


def layout_values(layout: ParallelLayout, runtime: CatalogEntry) -> dict[str, float]:
    offload = layout.offload if runtime.get("offload", "none") != "none" else "none"
    return {"layout.tensor_parallel": layout.tensor_parallel, "layout.pipeline_parallel": layout.pipeline_parallel,
            "layout.allow_offload": float(offload != "none"), "layout.full_offload": float(offload == "full")}


def layout_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(reason code, message) for each reason the layout cannot run; empty when it can."""
    model, layout, runtime = scenario.model, scenario.layout, scenario.runtime
    tp, pp = layout.tensor_parallel, layout.pipeline_parallel
    problems = []
    if layout.offload not in OFFLOAD_POLICIES:
        problems.append(("bad_offload_policy", f"offload must be one of {', '.join(OFFLOAD_POLICIES)}, got {layout.offload!r}"))
    if tp < 1 or pp < 1:
        problems.append(("bad_parallelism", f"tensor and pipeline parallel degrees must be >= 1 (got TP={tp}, PP={pp})"))
        return problems
    heads, kv_heads = model["n_heads"], model["n_kv_heads"]
    if heads % tp or (kv_heads % tp and tp % kv_heads):
        problems.append(("tp_heads_mismatch", f"TP={tp} does not divide the {heads} attention heads / {kv_heads} KV heads "
                                              f"of {model.id} (valid: {', '.join(map(str, valid_tensor_parallel(model)))})"))
    if pp > model["layers"]:
        problems.append(("pp_exceeds_layers", f"PP={pp} exceeds the {model['layers']} layers of {model.id}"))
    devices = compute_device(scenario.hardware)["count"]
    if layout.devices > devices:
        problems.append(("not_enough_devices", f"TP x PP = {layout.devices} devices, but {scenario.hardware.id} has {devices}"))
    if tp > 1 and not runtime.get("tensor_parallel", False):
        problems.append(("runtime_without_tp", f"runtime {runtime.id} has no tensor parallelism"))
    supported = runtime.get("supported_quant")
    if supported and scenario.quant.id not in supported:
        problems.append(("quant_unsupported", f"runtime {runtime.id} does not run {scenario.quant.id} "
                                              f"(it runs {', '.join(supported)})"))
    return problems


def valid_tensor_parallel(model: CatalogEntry, limit: int = 64) -> list[int]:
    heads, kv_heads = model["n_heads"], model["n_kv_heads"]
    return [tp for tp in range(1, limit + 1) if not heads % tp and (not kv_heads % tp or not tp % kv_heads)]
