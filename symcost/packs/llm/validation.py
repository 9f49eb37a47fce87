"""Prediction error on measured runs: tables per metric, hardware class and runtime, and drift alarms.

Errors are (predicted - measured) / measured. Drift alarms use the seed's
thresholds (section 7): median absolute error above 12 % for decode, 18 % for
TTFT (and prefill, which TTFT is made of), 7 % for memory.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from .calibration import Bundle
from .observations import Batch, Observation

DRIFT_THRESHOLDS = {
    "decode_toks_sec": 0.12,
    "output_toks_sec": 0.12,
    "ttft_ms_p50": 0.18,
    "prefill_toks_sec": 0.18,
    "weights_gb": 0.07,
    "vram_peak_gb": 0.07,
    "ram_peak_gb": 0.07,
}


def relative_errors(items: Sequence[Observation], bundle: Bundle | None) -> np.ndarray:
    if not items:  # every record quarantined: a batch of nothing has no inputs to evaluate
        return np.empty(0)
    chooser = (lambda item: bundle.coefficients_for(item.scenario)) if bundle else None
    batch = Batch(items)
    return batch.predict(chooser) / batch.measured - 1


def error_table(items: Sequence[Observation], errors: np.ndarray, by: str | None = None) -> list[dict[str, Any]]:
    """Rows of (metric[, group], n, median |error| %, MAPE %, median signed error %)."""
    grouped: dict[tuple, list[float]] = defaultdict(list)
    for item, error in zip(items, errors):
        key = (item.metric,) + ((_group(item, by),) if by else ())
        grouped[key].append(error)
    rows = []
    for key, values in sorted(grouped.items()):
        values = np.array(values)
        row = {
            "metric": key[0],
            **({by: key[1]} if by else {}),
            "n": len(values),
            "median_abs_pct": round(100 * float(np.median(np.abs(values))), 2),
            "mape_pct": round(100 * float(np.mean(np.abs(values))), 2),
            "median_signed_pct": round(100 * float(np.median(values)), 2),
        }
        rows.append(row)
    return rows


def _group(item: Observation, by: str) -> str:
    return {
        "hardware_class": item.scenario.hardware.get("class", "unknown"),
        "runtime": item.backend,
        "hardware": item.hardware,
    }[by]


def drift_alarms(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per metric whose median absolute error exceeds its threshold."""
    alarms = []
    for row in rows:
        limit = DRIFT_THRESHOLDS.get(row["metric"])
        if limit is not None and row["median_abs_pct"] > 100 * limit:
            alarms.append(
                f"{row['metric']}: median error {row['median_abs_pct']:.1f} % > {100 * limit:.0f} % "
                f"over {row['n']} runs: recalibrate"
            )
    return alarms


def validation_report(
    items: Sequence[Observation], bundle: Bundle | None, quarantined: Sequence[dict[str, str]] = ()
) -> dict[str, Any]:
    """Error tables of ``items``; ``quarantined``: the records left out ({run_id, reason}), reported with them."""
    errors = relative_errors(items, bundle)
    overall = error_table(items, errors)
    return {
        "calibration": bundle.bundle_id if bundle else None,
        "observations": len(items),
        "by_metric": overall,
        "by_hardware_class": error_table(items, errors, "hardware_class"),
        "by_runtime": error_table(items, errors, "runtime"),
        "drift_alarms": drift_alarms(overall),
        "runs": [
            {
                "run_id": item.run_id,
                "metric": item.metric,
                "hardware": item.hardware,
                "error_pct": round(100 * float(error), 2),
            }
            for item, error in zip(items, errors)
        ],
        "quarantined": list(quarantined),
    }
