"""Requests in the seed's section 6.1 form -> scenarios, and the calibration a request uses.

The command line and the HTTP service both go through :func:`scenario_from_request`,
so a request means the same thing wherever it comes from.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from ...errors import SymcostError
from ...size_limits import MAX_CONCURRENCY, MAX_PARALLEL, MAX_TOKENS
from .backends import choose_backend
from .calibration import Bundle
from .catalog import CatalogEntry, resolve
from .multi_device import degrees_for
from .runtime_eras import era_of_version
from .scenario import ParallelLayout, Scenario, Workload
from .store import Store, default_path

PREFERRED_QUANTS = ("q4_k_m", "awq-int4", "bf16", "f16")
_UPPER_BOUNDS = {
    "concurrency": MAX_CONCURRENCY,
    "tensor_parallel": MAX_PARALLEL,
    "pipeline_parallel": MAX_PARALLEL,
    "devices": MAX_PARALLEL,
}
CALIBRATION_CHOICES = ("auto", "packaged", "store", "none")


class RequestError(SymcostError):
    """A request that names something impossible (negative sizes, unknown fields)."""


def scenario_from_request(
    request: dict[str, Any], model_entry: CatalogEntry | None = None, hardware_entry: CatalogEntry | None = None
) -> Scenario:
    """The scenario of a request; ``model_entry`` / ``hardware_entry`` stand in for user files."""
    runtime, era = runtime_and_era(request.get("runtime_id") or "llama.cpp")
    model = model_entry or resolve("models", _required(request, "model_id"))
    hardware = hardware_entry or resolve("hardware", _required(request.get("hardware") or {}, "hardware_id"))
    quant = resolve("quantizations", request.get("quant") or default_quant(runtime))
    workload = request.get("workload") or {}
    return Scenario(
        model,
        hardware,
        runtime,
        quant,
        _workload(workload),
        _layout(runtime, request.get("parallelism") or {}, request.get("offload", "auto"), _flash_attention(request)),
        runtime_era=era,
        backend=choose_backend(runtime, hardware, request.get("backend")),
    )


def runtime_and_era(text: str) -> tuple[CatalogEntry, str | None]:
    """``name[@version]``: the runtime, and the era of its version (a build b6918 or a date), None without one."""
    name, _, version = str(text).partition("@")
    runtime = resolve("runtimes", name)
    return runtime, era_of_version(runtime.get("backend", runtime.id), version) if version else None


def default_quant(runtime: CatalogEntry) -> str:
    """The format a request without one runs in: the runtime's own default_quant (what it is normally run with,
    e.g. EXL2 for ExLlamaV2), else the first of PREFERRED_QUANTS it runs."""
    supported = runtime.get("supported_quant") or []
    return runtime.get("default_quant") or next(
        (quant for quant in PREFERRED_QUANTS if quant in supported), supported[0] if supported else "f16"
    )


def _layout(runtime: CatalogEntry, raw: dict[str, Any], offload: str, flash: bool | None) -> ParallelLayout:
    """TP x PP as given, or ``devices`` in a multi-device mode of the runtime (``split_mode``, default its own)."""
    tp, pp = _positive(raw, "tensor_parallel", 1), _positive(raw, "pipeline_parallel", 1)
    if raw.get("devices") is None and raw.get("split_mode") is None:
        return ParallelLayout(tp, pp, offload, flash)
    if tp > 1 or pp > 1:
        raise RequestError("give devices (with split_mode) or tensor_parallel / pipeline_parallel, not both")
    return ParallelLayout(*degrees_for(runtime, _positive(raw, "devices", 1), raw.get("split_mode")), offload, flash)


def _flash_attention(request: dict[str, Any]) -> bool | None:
    """Fused attention asked for (true, false), or None for the runtime's own setting."""
    value = request.get("flash_attention")
    if value is not None and not isinstance(value, bool):
        raise RequestError(f"flash_attention: expected true, false or null (the runtime's default), got {value!r}")
    return value


def _workload(raw: dict[str, Any]) -> Workload:
    context = _count(raw, "context_tokens", 512)
    output = _count(raw, "output_tokens", 128)
    concurrency = _positive(raw, "concurrency", 1)
    window = _positive(raw, "context_window", 1) if raw.get("context_window") is not None else None
    return Workload(context, output, concurrency, _count(raw, "depth_tokens", 0), context_alloc=window)


def _required(raw: dict[str, Any], key: str) -> Any:
    if not raw.get(key):
        raise RequestError(f"missing {key}")
    return raw[key]


def _count(raw: dict[str, Any], key: str, default: int, low: int = 0) -> int:
    value = raw.get(key, default)
    high = _UPPER_BOUNDS.get(key, MAX_TOKENS)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise RequestError(f"{key} must be an integer in {low}..{high:,}, got {value!r}")
    return value


def _positive(raw: dict[str, Any], key: str, default: int) -> int:
    return _count(raw, key, default, low=1)


def packaged_bundle() -> Bundle:
    with resources.as_file(resources.files("symcost.catalogs").joinpath("calibration.json")) as path:
        return Bundle.from_json(json.loads(Path(path).read_text()))


def load_bundle(choice: str = "auto", db: str | Path | None = None) -> Bundle | None:
    """The calibration to use: the store's newest bundle, the packaged one, or none (runtime defaults).

    ``auto``: the store's newest bundle when the store exists and has one, else the packaged bundle.
    """
    if choice not in CALIBRATION_CHOICES:
        raise RequestError(f"calibration must be one of {', '.join(CALIBRATION_CHOICES)}, got {choice!r}")
    if choice == "none":
        return None
    if choice in ("store", "auto"):
        path = Path(db) if db else default_path()
        if path.exists():
            with Store(path) as store:
                latest = store.latest_bundle()
            if latest is not None:
                return latest
        if choice == "store":
            raise RequestError(f"no calibration bundle in {path}; run symcost llm calibrate first")
    return packaged_bundle()
