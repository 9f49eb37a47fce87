"""Request and response bodies of the HTTP API (pydantic; published in the OpenAPI document).

Requests are strict: unknown fields are refused, sizes are bounded, so a
request that validates can be evaluated without further checks beyond the
catalog lookups. No model takes or gives an infinite or NaN float: the body
check refuses them first, and a response holding one is a bug (a 500), never
a 200 with nulls.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

Name = Field(min_length=1, max_length=120)
MAX_TOKENS = 10_000_000
Degree = Annotated[int, Field(ge=1, le=64)]
Count = Annotated[int, Field(ge=1, le=MAX_TOKENS)]
Id = Annotated[str, Field(min_length=1, max_length=120)]


class Finite(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)


class Strict(Finite):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class HardwareRef(Strict):
    hardware_id: str = Name


class WorkloadIn(Strict):
    context_tokens: int = Field(512, ge=0, le=MAX_TOKENS, description="prompt tokens")
    output_tokens: int = Field(128, ge=0, le=MAX_TOKENS, description="generated tokens per sequence")
    concurrency: int = Field(1, ge=1, le=100_000, description="concurrent sequences")
    depth_tokens: int = Field(0, ge=0, le=MAX_TOKENS, description="tokens already in the KV cache")
    context_window: int | None = Field(None, ge=1, le=MAX_TOKENS, description="context allocated per sequence")


class Parallelism(Strict):
    tensor_parallel: int = Field(1, ge=1, le=64)
    pipeline_parallel: int = Field(1, ge=1, le=64)
    devices: int | None = Field(None, ge=1, le=64, description="devices in a multi-device mode (instead of TP/PP)")
    split_mode: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        description="the runtime's multi-device mode (default: its own, e.g. llama.cpp layer)",
    )


Backend = Literal["cuda", "rocm", "metal", "vulkan", "sycl", "cpu"]
Objective = Literal["throughput", "latency", "max_model_size", "perf_per_dollar", "min_hardware"]


class EstimateRequest(Strict):
    """Seed 004 section 6.1 request."""

    model_id: str = Name
    runtime_id: str = Field("llama.cpp", min_length=1, max_length=120)
    quant: str | None = Field(None, min_length=1, max_length=120)
    hardware: HardwareRef
    workload: WorkloadIn = WorkloadIn()
    parallelism: Parallelism = Parallelism()
    offload: Literal["none", "auto", "full"] = "auto"
    flash_attention: StrictBool | None = Field(
        None, description="fused attention (llama.cpp -fa); default: the runtime's (llama.cpp on, Ollama off)"
    )
    backend: Backend | None = Field(None, description="compute backend; default: the hardware's, if the runtime has it")
    objective: Objective = "throughput"
    recommend: int = Field(3, ge=0, le=20, description="recommended configurations to return")


class Band(Finite):
    p10: float | None = None
    p50: float
    p90: float | None = None


class EstimateResponse(Finite):
    """Seed 004 section 6.1 response, with the memory decomposition, shares and coefficients added."""

    feasibility: Literal["in_vram", "with_offload", "insufficient_memory"]
    reason_codes: list[str]
    estimates: dict[str, Band]
    memory: dict[str, float]
    bottlenecks: list[str]
    bottleneck_shares_pct: dict[str, float]
    recommended_configs: list[dict[str, Any]]
    explanations: list[str]
    warnings: list[str] = Field(
        description="where the figures rest on assumptions the scenario breaks: an "
        "uncalibrated runtime, an efficiency above 1, a context beyond the model's limit or "
        "its sliding window"
    )
    runtime_calibrated: bool | None = Field(
        description="false when the calibration has no measured run of the "
        "runtime's backend (global coefficients, widened intervals); null "
        "without a calibration"
    )
    backend_calibrated: bool | None = Field(
        description="false when the calibration has no measured run of the "
        "runtime on the scenario's backend and hardware class (widened "
        "intervals); null without a calibration"
    )
    scenario: dict[str, Any]
    coefficients: dict[str, Any]
    calibration: str | None


class SolveRequestIn(Strict):
    model_ids: list[Id] = Field(min_length=1, max_length=8)
    hardware_ids: list[Id] | None = Field(None, min_length=1, max_length=64, description="default: every profile")
    runtime_id: str = Field("llama.cpp", min_length=1, max_length=120)
    backend: Backend | None = Field(None, description="compute backend; default: each machine's for the runtime")
    quants: list[Id] | None = Field(None, min_length=1, max_length=32)
    tensor_parallel: list[Degree] | None = Field(None, min_length=1, max_length=8)
    pipeline_parallel: list[Degree] | None = Field(None, min_length=1, max_length=8)
    offload: list[Literal["none", "auto", "full"]] = Field(["none", "auto", "full"], min_length=1)
    context_caps: list[Count] | None = Field(None, min_length=1, max_length=8)
    concurrency: list[Annotated[int, Field(ge=1, le=100000)]] | None = Field(None, min_length=1, max_length=16)
    workload: WorkloadIn = WorkloadIn()
    objective: Objective | None = Field(None, description="default: throughput with hardware_ids, else min_hardware")
    min_decode_tps: float | None = Field(None, ge=0, le=1e9)
    max_ttft_ms: float | None = Field(None, ge=0, le=1e12)
    top: int = Field(5, ge=1, le=50)


class SolveResponse(Finite):
    objective: str
    candidates: int
    evaluated: int
    feasible: int
    top: list[dict[str, Any]]
    rejected: dict[str, int]


class Health(BaseModel):
    status: Literal["ok"] = Field(description="always ok: the server process accepts and answers requests")


class CalibrateResponse(BaseModel):
    run_id: str
    stored: bool = Field(description="false when a record with this run_id was already stored")
    pending: int = Field(description="stored records not yet in a calibration bundle")
    recalibration_queued: bool


class QuarantinedRecord(BaseModel):
    run_id: str
    reason: str = Field(
        description="why the fit could not use it (a non-finite or non-positive figure or "
        "prediction, a name the catalogs no longer know, ...)"
    )


class CalibrationStatus(BaseModel):
    records: int
    pending: int
    bundles: int
    recalibrate_after: int
    latest_bundle: dict[str, Any] | None
    recalibrating: bool
    last_error: str | None
    quarantined: list[QuarantinedRecord] = Field(
        description="stored records the newest bundle set aside (counted in its n_records, not fitted)"
    )


class SelfspecDocuments(Strict):
    """The selfspec pack's model, hardware and stats documents (the reference's formats)."""

    model: dict[str, Any]
    hardware: dict[str, Any]
    stats: dict[str, Any]


class SelfspecRequest(SelfspecDocuments):
    """The core symcost report of the documents at some prompt lengths."""

    prompt_lengths: list[Count] = Field([128, 512, 2048], min_length=1, max_length=64)


class SelfspecCurveRequest(SelfspecRequest):
    prompt_lengths: list[Count] = Field(min_length=2, max_length=512)


class LimitAtInputs(Finite):
    expression: str = Field(description="the limited expression with the documents' values in")
    maximum: float | None = Field(
        description="the largest value it may take, for these documents (null: it depends on the prompt length)"
    )


class PackLimit(Finite):
    name: str
    message: str
    expression: str = Field(description="the limited expression, as the pack declares it")
    maximum: str = Field(description="its upper bound, as the pack declares it")
    applies: bool = Field(description="whether the documents switch the limit on (its 'when')")
    at_inputs: LimitAtInputs | None = None


class SelfspecLimitsResponse(Finite):
    """The selfspec pack's validity limits evaluated for the request's documents."""

    pack: str
    limits: list[PackLimit]
    prompt_length_max: int | None = Field(
        description="the longest prompt every applying limit allows (null: no limit bounds it)"
    )
