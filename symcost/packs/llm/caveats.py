"""Warnings an estimate carries: where its figures stand on assumptions the scenario breaks.

Each function returns a list of sentences (empty when nothing applies); they
compare numbers, they compute no cost.
"""

from __future__ import annotations

from typing import Any

from .scenario import Scenario, runtime_backend


def context_warnings(scenario: Scenario, needed: int) -> list[str]:
    """The request needs more context than the model supports."""
    limit = scenario.model.get("context_max")
    if limit and needed > limit:
        return [f"The request needs {needed} tokens of context; {scenario.model.id} supports {limit}."]
    return []


def sliding_window_warnings(scenario: Scenario, needed: int) -> list[str]:
    """The context outgrows the model's sliding window: the pack still counts full attention on every layer."""
    window = scenario.model.get("sliding_window")
    if not window or needed <= window["tokens"]:
        return []
    layers, tokens = window["layers"], window["tokens"]
    return [
        f"{scenario.model.id} attends within a {tokens}-token sliding window on {layers} of its "
        f"{scenario.model['layers']} layers, and this request's context ({needed} tokens) exceeds it: the KV-cache "
        "and attention figures assume full attention on every layer, so they overstate memory and attention time "
        "where the runtime caps the windowed layers' cache."
    ]


def uncalibrated_warnings(
    scenario: Scenario, calibrated: tuple[bool | None, bool | None], widening: dict[str, float]
) -> list[str]:
    """The calibration never measured this runtime, or this runtime on this backend and hardware class (or there is
    none): its intervals are wider or absent. ``calibrated``: (runtime seen, runtime seen on the backend and class)."""
    runtime_seen, backend_seen = calibrated
    if runtime_seen is None:
        return ["No calibration: the figures use the runtime's starting coefficients and carry no interval."]
    if backend_seen:
        return []
    factors = ", ".join(f"{family} x{factor:.2f}" for family, factor in sorted(widening.items()))
    widened = (
        "the p10-p90 intervals are widened by what leave-one-runtime-out errors support "
        f"({factors}; docs/llm-accuracy.md)."
    )
    if runtime_seen:
        backend, machine_class = scenario.compute_backend, scenario.hardware.get("class", "unknown")
        return [
            f"Uncalibrated for the {backend} backend on {machine_class}: the calibration has no measured run of "
            f"{scenario.runtime.id} on {backend} on a {machine_class} machine, so the figures use the runtime's "
            f"coefficients fitted on other backends or hardware classes and {widened}"
        ]
    return [
        f"Uncalibrated for {scenario.runtime.id}: the calibration has no measured run of the "
        f"{runtime_backend(scenario.runtime)} backend, so the figures use the global coefficients and {widened}"
    ]


def efficiency_warnings(coefficients: dict[str, Any]) -> list[str]:
    """An efficiency above 1 is a fitted factor against the catalog's peaks, not a utilization."""
    above = [f"{name} {coefficients[name]:g}" for name in ("eta_bw", "eta_flops") if coefficients[name] > 1]
    if not above:
        return []
    return [
        f"{' and '.join(above)} above 1: fitted coefficients are effective factors against the catalog's peak "
        "figures, not measured utilizations; above 1 the measured runs were faster than the peak predicts for the "
        "bytes or FLOPs the model counts (a peak understated for the machines measured, or work the kernels skip)."
    ]
