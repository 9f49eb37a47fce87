"""Runtimes a calibration never measured: whether a bundle saw a runtime, and how much wider its intervals are.

A bundle's p10/p90 come from held-out errors (leave one source out, or one
hardware profile), in which every held-out figure's runtime was still in the fit. A runtime with no run in the
fit falls back to the global coefficients (no backend offset), whose errors are
larger. benchmarks/llm_accuracy.py measures how much larger: it predicts each
runtime backend of the calibration data from a fit without it
(leave-one-runtime-out) and stores, per metric family, the smallest factor
that widens the bundle's 80 % conformal interval (each log bound times it) over
the 80 % conformal interval of those errors, in catalogs/runtime_widening.json:
an unseen runtime's errors are shifted (its runtime offset is missing) as much
as they are spread, and a ratio of widths would miss the shift. An
uncalibrated runtime's interval is the bundle's, widened by that factor around
the prediction. So is that of a compute backend (vulkan, rocm, ...) the
fit never saw under the scenario's runtime, or saw on other hardware classes
only (ROCm on Radeon cards, not on Instinct GPUs): it falls back to the
runtime's offsets, fitted on other backends or classes, an error of the same kind.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from importlib import resources

from .calibration import FAMILIES, TIMING_METRICS, Bundle, conformal_bounds
from .catalog import CatalogEntry
from .observations import Observation
from .scenario import Scenario, runtime_backend

WIDENING_FILE = "runtime_widening.json"
LEVEL = 0.8


def runtime_calibrated(bundle: Bundle | None, runtime: CatalogEntry) -> bool | None:
    """True when the bundle's fit saw runs of the runtime's backend; None without a bundle."""
    if bundle is None:
        return None
    return runtime_backend(runtime) in bundle.coefficients.get("backends", {})


def backend_calibrated(bundle: Bundle | None, scenario: Scenario) -> bool | None:
    """True when the bundle's fit saw runs of the scenario's runtime on its compute backend and hardware class (its
    pooling group); None without a bundle.

    A group the fit never saw keeps only the runtime's and the backend's offsets, fitted on other hardware classes:
    the same kind of error as an unmeasured backend. llama.cpp's ROCm runs are all on Radeon (RDNA) cards, and its
    HIP kernels have run very differently on Instinct (CDNA) GPUs (before llama.cpp PR #14624 its quantized matmuls
    did not use CDNA's matrix cores), which one measured run cannot fit; such a scenario is marked and widened.
    """
    if bundle is None:
        return None
    engine, group = scenario.pooling_keys
    return engine in bundle.coefficients.get("backends", {}) and group in bundle.coefficients.get("groups", {})


@lru_cache(maxsize=1)
def widening_factors() -> dict[str, float]:
    """Metric family -> interval widening for an uncalibrated runtime (catalogs/runtime_widening.json)."""
    text = resources.files("symcost.catalogs").joinpath(WIDENING_FILE).read_text()
    return {family: entry["factor"] for family, entry in json.loads(text)["families"].items()}


def band(
    bundle: Bundle | None, calibrated: bool | None, metric: str, value: float, inverse: bool = False
) -> dict[str, float]:
    """p10 / p50 / p90 of a predicted figure: the bundle's interval, widened when it never saw the runtime on its
    backend (``calibrated``, from :func:`backend_calibrated`)."""
    if bundle is None:
        return {"p50": value}
    interval = bundle.interval(metric, value, level=LEVEL, inverse=inverse)
    if calibrated:
        return interval
    return widen(interval, widening_factors()[FAMILIES.get(metric, "decode")])


def widen(interval: dict[str, float], factor: float) -> dict[str, float]:
    """Each bound's log distance from the median times ``factor``."""
    median = interval["p50"]
    if median <= 0:
        return interval
    return {key: median * (bound / median) ** factor for key, bound in interval.items()}


def family_errors(errors: Sequence[tuple[Observation, float]]) -> dict[str, list[float]]:
    """Held-out log errors of the timing figures by metric family (the form of a bundle's residuals)."""
    found: dict[str, list[float]] = {}
    for item, error in errors:
        if item.metric in TIMING_METRICS:
            found.setdefault(FAMILIES[item.metric], []).append(error)
    return found


def measured_widening(by_bundle: dict[str, Sequence[float]], by_runtime: dict[str, Sequence[float]]) -> dict[str, dict]:
    """Per timing family: the conformal intervals of the held-out log errors a bundle's intervals come from and
    of leave-one-runtime-out log errors of the same observations, and the factor (at least 1) that widens the
    first over the second (each log bound of the bundle's times it, as :func:`widen` does)."""
    found = {}
    for family in sorted({FAMILIES[metric] for metric in TIMING_METRICS}):
        bundle = conformal_bounds(by_bundle[family], LEVEL)
        runtime = conformal_bounds(by_runtime[family], LEVEL)
        ratios = [needed / given for needed, given in zip(runtime, bundle) if needed * given > 0]
        factor = max([1.0, *ratios])
        found[family] = {
            "factor": round(factor, 4),
            "bundle_log_bounds": _rounded(bundle),
            "held_out_runtime_log_bounds": _rounded(runtime),
            "n": len(by_runtime[family]),
        }
    return found


def _rounded(bounds: tuple[float, float]) -> list[float]:
    return [round(value, 4) for value in bounds]
