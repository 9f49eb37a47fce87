"""The reference calculator's report layout (pJ, ns, mm^2 keys) filled from symcost's outputs.

``selfspec_report`` gives the JSON that ``ppa-calculator`` writes: same nesting,
same field names, same units. Every number is one of symcost's evaluated
outputs converted to the field's unit; the fields symcost does not model
(``activation_counts``, ``memory_traffic``) are ``null``, a value the
reference itself writes where it has no such breakdown. docs/compat.md lists
the differences.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

import numpy as np

from .... import __version__
from ..model import CostModel
from ..report import area_summary
from . import echo

PJ_PER_J, NS_PER_S = 1e12, 1e9
NW_PER_W = 1e9
PHASES = ("draft", "verify_drafted", "verify_bonus")
STAGES = ("qkv", "wo", "ffn", "qk", "pv", "softmax", "elementwise", "kv_cache", "buffers_add", "control")
AREA_BLOCKS = ("qkv", "wo", "ffn", "digital")
COMPONENTS = (
    "arrays",
    "dac",
    "adc_draft",
    "adc_residual",
    "input_registers",
    "output_registers",
    "tia",
    "snh",
    "mux",
    "io_buffers",
    "subarray_switches",
    "write_drivers",
    "attention_engine",
    "kv_cache",
    "sram",
    "hbm",
    "fabric",
    "softmax_unit",
    "elementwise_unit",
    "buffers_add",
    "control",
)
AREA_COMPONENTS = (
    "arrays",
    "dac",
    "adc_draft",
    "adc_residual",
    "attention_cim_sram",
    "attention_cim_mac",
    "input_registers",
    "output_registers",
    "tia",
    "snh",
    "mux",
    "io_buffers",
    "subarray_switches",
    "write_drivers",
    "sram",
    "fabric",
    "digital_overhead",
)
CHANNELS = ("compute", "movement")
METRICS = (
    ("energy_pj_per_token", "energy_per_token", PJ_PER_J),
    ("latency_ns_per_token", "latency_per_token", NS_PER_S),
    ("throughput_tokens_per_s", "throughput", 1.0),
    ("tokens_per_joule", "tokens_per_joule", 1.0),
)
# The reference's labels for how each schedule runs a burst (its pipeline_policy block).
PIPELINE_POLICIES = {
    "serialized": {
        "draft_stage": "serialized",
        "verify_stage": "serialized",
        "mismatch_policy": "not-modeled",
        "full_accept_policy": "always-charge-verify-bonus-phase",
        "bonus_in_verify_wavefront": False,
    },
    "layer-pipelined": {
        "draft_stage": "serialized",
        "verify_stage": "wavefront",
        "mismatch_policy": "no-early-stop-execute-full-burst",
        "full_accept_policy": "bonus-always-executed-commit-only-on-full-accept",
        "bonus_in_verify_wavefront": True,
    },
}
NOT_MODELLED = ("activation_counts", "memory_traffic")


class Outputs:
    """One point of an evaluation: outputs by name, 0 for an entry the pack does not have."""

    def __init__(self, results: dict[str, np.ndarray], index: int):
        self.results, self.index = results, index

    def __call__(self, name: str, scale: float = 1.0) -> float:
        values = self.results.get(name)
        return 0.0 if values is None else float(np.ravel(values)[self.index]) * scale


def metrics(point: Outputs, scenario: str) -> dict[str, float]:
    return {field: point(f"{scenario}.{name}", scale) for field, name, scale in METRICS}


def delta(speculative: dict[str, float], baseline: dict[str, float]) -> dict[str, float | None]:
    fields: dict[str, float | None] = {}
    for field, _name, _scale in METRICS:
        fields[f"{field}_ratio"] = speculative[field] / baseline[field] if baseline[field] else None
        fields[f"{field}_diff"] = speculative[field] - baseline[field]
    return fields


def _energy_latency(point: Outputs, prefix: str) -> dict[str, float]:
    return {"energy_pj": point(f"{prefix}.energy", PJ_PER_J), "latency_ns": point(f"{prefix}.latency", NS_PER_S)}


def phase_breakdown(point: Outputs, scenario: str, phase: str) -> dict[str, Any]:
    def pairs(view: str, names: Sequence[str]) -> dict[str, float]:
        entries: dict[str, float] = {}
        for name in names:
            for key, number in _energy_latency(point, f"{scenario}.{view}.{phase}.{name}").items():
                entries[f"{name}_{key}"] = number
        return entries

    features: dict[str, float] = {}
    for feature in echo.FEATURES:
        features[f"{feature}_ops"] = point(f"{scenario}.feature.{phase}.{feature}.count")
        features.update(
            {
                f"{feature}_{key}": number
                for key, number in _energy_latency(point, f"{scenario}.feature.{phase}.{feature}").items()
            }
        )
    return {
        **_energy_latency(point, f"{scenario}.total.{phase}"),
        "stages": {**pairs("stage", STAGES), **{f"{block}_mm2": 0.0 for block in AREA_BLOCKS}},
        "components": pairs("component", COMPONENTS),
        "dpu_features": features,
        "channels": pairs("channel", CHANNELS),
        **{field: None for field in NOT_MODELLED},
    }


def _summed(parts: list[Any]) -> Any:
    """Field-by-field sum of equally shaped breakdowns (``None`` stays ``None``)."""
    if isinstance(parts[0], dict):
        return {key: _summed([part[key] for part in parts]) for key in parts[0]}
    return None if parts[0] is None else sum(parts)


def phases(point: Outputs, scenario: str) -> dict[str, Any]:
    by_phase = {phase: phase_breakdown(point, scenario, phase) for phase in PHASES}
    return {**by_phase, "total": _summed(list(by_phase.values()))}


def sweep_point(results: dict[str, np.ndarray], index: int, length: int) -> dict[str, Any]:
    point = Outputs(results, index)
    speculative, baseline = metrics(point, "speculative"), metrics(point, "baseline")
    return {
        "l_prompt": length,
        "speculative": speculative,
        "baseline": baseline,
        "delta": delta(speculative, baseline),
        "breakdown": phases(point, "speculative"),
        "baseline_breakdown": phases(point, "baseline"),
        "leakage": {
            "total_power_nw": point("speculative.leakage_power", NW_PER_W),
            "energy_pj": point("speculative.leakage_energy", PJ_PER_J),
            "burst_latency_ns": point("speculative.burst_latency", NS_PER_S),
        },
    }


def area_fields(model: CostModel, results: dict[str, np.ndarray]) -> dict[str, Any]:
    area = area_summary(results)
    stages = {f"{stage}_{key}": 0.0 for stage in STAGES for key in ("energy_pj", "latency_ns")}
    return {
        "area": {**stages, **{f"{block}_mm2": area["by_block"].get(block, 0.0) for block in AREA_BLOCKS}},
        "area_breakdown_mm2": {
            "on_chip_mm2": area["total_mm2"],
            "off_chip_hbm_mm2": area["off_chip_mm2"],
            "on_chip_components": {f"{name}_mm2": area["by_component"].get(name, 0.0) for name in AREA_COMPONENTS},
        },
    }


def first_winning_length(points: list[dict[str, Any]]) -> int | None:
    """The smallest evaluated prompt length where speculation gives more tokens per joule."""
    for point in sorted(points, key=lambda item: item["l_prompt"]):
        ratio = point["delta"]["tokens_per_joule_ratio"]
        if ratio is not None and ratio > 1.0:
            return point["l_prompt"]
    return None


def movement_accounting(model: CostModel) -> dict[str, Any]:
    """symcost's movement terms by status, with the reasons for proxies and exclusions."""
    by_status = model.accounting.terms_by_status()

    def movement(status: str, with_reason: bool) -> list[str]:
        return [
            f"{term.name} ({term.reason})" if with_reason else term.name
            for term in by_status[status]
            if term.channel == "movement"
        ]

    return {
        "modeled": movement("modeled", False),
        "proxy_modeled": movement("proxy", True),
        "excluded": movement("out_of_scope", True),
        "ownership_rules": {},
    }


def notes(model: CostModel) -> list[str]:
    return [
        f"Written by symcost {__version__} (formula pack {model.pack.name} v{model.pack.version}) in the "
        "selfspec-calculator report layout; activation_counts and memory_traffic are not modelled (null).",
        *(
            f"{status}: {term.name}: {term.reason}"
            for status, group in model.accounting.terms_by_status().items()
            if status != "modeled"
            for term in group
        ),
    ]


def selfspec_report(
    model: CostModel, prompt_lengths: Sequence[int], paths: dict[str, str] | None = None
) -> dict[str, Any]:
    """The report ``ppa-calculator`` writes for the same inputs, from symcost's evaluator."""
    lengths = [int(length) for length in prompt_lengths]
    results = model.evaluate(L_prompt=np.asarray(lengths, dtype=np.int64))
    points = [sweep_point(results, index, length) for index, length in enumerate(lengths)]
    hardware = model.hardware
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "k": model.stats.k,
        "reuse_policy": hardware.reuse_policy,
        "hardware_mode": hardware.mode,
        "resolved_library": echo.resolved_library(hardware),
        "model_knobs": echo.model_knobs(model.model),
        "hardware_knobs": echo.hardware_knobs(hardware),
        "paths": paths,
        "points": points,
        "break_even_tokens_per_joule_l_prompt": first_winning_length(points),
        **area_fields(model, results),
        "dpu_feature_mapping": echo.feature_mapping(hardware),
        "movement_accounting": movement_accounting(model),
        "pipeline_policy": {"schedule": hardware.schedule, **PIPELINE_POLICIES[hardware.schedule]},
        "notes": notes(model),
    }
