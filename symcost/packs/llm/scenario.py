"""A scenario: catalog entries, workload, layout and coefficients (what :mod:`.inputs` binds to the pack).

:func:`layout_problems` says why a layout cannot run at all (TP not dividing
the heads, more devices than the machine has, ...): a refusal before any
evaluation, with a reason code the solver counts, which is not a cost and
stays here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ...errors import SymcostError
from .backends import choose_backend, supported_backends
from .catalog import CatalogEntry
from .multi_device import has_kind, modes

OFFLOAD_POLICIES = ("none", "auto", "full")


class ScenarioError(SymcostError):
    """A scenario that cannot be evaluated (a layout the model or hardware cannot take)."""


@dataclass(frozen=True)
class Workload:
    """The request's tokens; what is left unset (None) takes the pack's default (S_d, S_alloc)."""

    prompt_tokens: int
    gen_tokens: int
    concurrency: int = 1
    depth_tokens: int = 0  # already in the KV cache before the prompt
    decode_start_tokens: int | None = None  # KV tokens when generation starts (default depth + prompt)
    context_alloc: int | None = None  # context the runtime allocates per sequence (default: what is needed)
    saturate: bool = False  # max-load run: as many sequences as fit


@dataclass(frozen=True)
class ParallelLayout:
    tensor_parallel: int = 1
    pipeline_parallel: int = 1
    offload: str = "auto"  # none | auto (what does not fit) | full (every weight in host RAM)
    flash_attention: bool | None = None  # fused attention asked for (llama.cpp -fa); None: the runtime's default

    @property
    def devices(self) -> int:
        return self.tensor_parallel * self.pipeline_parallel


@dataclass(frozen=True)
class Coefficients:
    """The free coefficients calibration fits (SI: t0 and t_layer in seconds), and where these values come from."""

    eta_bw: float
    eta_flops: float
    t0_s: float
    kappa_bw: float = 1.0  # bandwidth efficiency of dequantizing formats relative to plain ones
    kappa_flops: float = 1.0  # compute efficiency of dequantizing formats relative to plain ones
    t_layer_s: float = 0.0  # fixed time of one layer in a forward pass (0: the whole fixed overhead is t0)
    origin: str = "runtime defaults"


@dataclass(frozen=True)
class Scenario:
    model: CatalogEntry
    hardware: CatalogEntry
    runtime: CatalogEntry
    quant: CatalogEntry
    workload: Workload
    layout: ParallelLayout = ParallelLayout()
    coefficients: Coefficients | None = None
    runtime_era: str | None = None  # the runtime's era (a year); None: the newest the calibration knows
    backend: str | None = None  # compute backend (cuda, metal, ...); None: the runtime's and hardware's default

    def with_(self, **changes: Any) -> Scenario:
        return replace(self, **changes)

    @property
    def compute_backend(self) -> str:
        return self.backend or choose_backend(self.runtime, self.hardware)

    @property
    def pooling_keys(self) -> tuple[str, str]:
        """(runtime backend, backend|compute backend|hardware class): the levels calibration pools coefficients over."""
        backend = runtime_backend(self.runtime)
        return backend, f"{backend}|{self.compute_backend}|{self.hardware.get('class', 'unknown')}"

    @property
    def coefficients_origin(self) -> str:
        return self.coefficients.origin if self.coefficients else f"defaults of runtime {self.runtime.id}"


def runtime_backend(runtime: CatalogEntry) -> str:
    """The engine a runtime runs on (Ollama: llama.cpp), the level calibration pools coefficients by."""
    return runtime.get("backend", runtime.id)


def layout_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """(reason code, message) for each reason the layout cannot run; empty when it can."""
    model, layout, runtime = scenario.model, scenario.layout, scenario.runtime
    tp, pp = layout.tensor_parallel, layout.pipeline_parallel
    problems = []
    if layout.offload not in OFFLOAD_POLICIES:
        problems.append(
            ("bad_offload_policy", f"offload must be one of {', '.join(OFFLOAD_POLICIES)}, got {layout.offload!r}")
        )
    if tp < 1 or pp < 1:
        problems.append(
            ("bad_parallelism", f"tensor and pipeline parallel degrees must be >= 1 (got TP={tp}, PP={pp})")
        )
        return problems
    heads, kv_heads = model["n_heads"], model["n_kv_heads"]
    if heads % tp or (kv_heads % tp and tp % kv_heads):
        problems.append(
            (
                "tp_heads_mismatch",
                f"TP={tp} does not divide the {heads} attention heads / {kv_heads} KV heads "
                f"of {model.id} (valid: {', '.join(map(str, valid_tensor_parallel(model)))})",
            )
        )
    if pp > model["layers"]:
        problems.append(("pp_exceeds_layers", f"PP={pp} exceeds the {model['layers']} layers of {model.id}"))
    devices = device_count(scenario.hardware)
    if layout.devices > devices:
        problems.append(
            ("not_enough_devices", f"TP x PP = {layout.devices} devices, but {scenario.hardware.id} has {devices}")
        )
    if tp > 1 and not has_kind(runtime, "tensor"):
        problems.append(
            (
                "runtime_without_tp",
                f"runtime {runtime.id} has no tensor parallelism (its multi-device modes: {', '.join(modes(runtime))})",
            )
        )
    if pp > 1 and not has_kind(runtime, "pipeline"):
        problems.append(("runtime_without_pp", f"runtime {runtime.id} has no layer (pipeline) split"))
    problems += backend_problems(scenario)
    supported = runtime.get("supported_quant")
    if supported and scenario.quant.id not in supported:
        problems.append(
            (
                "quant_unsupported",
                f"runtime {runtime.id} does not run {scenario.quant.id} (it runs {', '.join(supported)})",
            )
        )
    return problems


def backend_problems(scenario: Scenario) -> list[tuple[str, str]]:
    """The runtime and the machine share no backend, or not the one the scenario names."""
    valid = supported_backends(scenario.runtime, scenario.hardware)
    if not valid:
        return [("no_common_backend", f"runtime {scenario.runtime.id} and {scenario.hardware.id} share no backend")]
    if scenario.backend and scenario.backend not in valid:
        return [
            (
                "backend_unsupported",
                f"backend {scenario.backend} cannot run {scenario.runtime.id} on "
                f"{scenario.hardware.id} (valid: {', '.join(valid)})",
            )
        ]
    return []


def valid_tensor_parallel(model: CatalogEntry, limit: int = 64) -> list[int]:
    heads, kv_heads = model["n_heads"], model["n_kv_heads"]
    return [tp for tp in range(1, limit + 1) if not heads % tp and (not kv_heads % tp or not tp % kv_heads)]


def device_count(hardware: CatalogEntry) -> int:
    """Devices that compute: every GPU of the machine (its list of GPU types walked), else its one CPU."""
    return sum(gpu.get("count", 1) for gpu in hardware.get("gpus") or []) or 1
