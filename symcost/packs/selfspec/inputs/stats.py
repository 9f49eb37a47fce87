"""The speculation statistics file: K and the accepted-prefix distribution P(a)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ....checked import checked_document
from ....errors import InputError, InputIssue


@dataclass(frozen=True)
class StatsSpec:
    """Burst length ``k`` and either a histogram over a in 0..k or a geometric alpha.

    ``histogram`` holds the counts (or weights) as given, keyed by a; the pack
    normalises it (a table symbol) and defines E[a+1] over it.
    """

    k: int
    histogram: dict[int, float] | None = None
    alpha: float | None = None
    source: str = ""


def read_stats(path: str | Path, overrides: dict[str, Any] | None = None) -> StatsSpec:
    """Read and check a stats file; ``overrides`` (dotted field -> value) change fields before the checks."""
    document = checked_document(path, "stats", overrides)
    data, label = document.data, document.label
    k = data["k"]
    if "geometric" in data:
        return StatsSpec(k=k, alpha=float(data["geometric"]["alpha"]), source=str(path))
    histogram = {int(a): float(count) for a, count in data["histogram"].items()}
    if not math.isfinite(sum(histogram.values())):
        # Weights are relative: scaled, two weights of 1e308 no longer sum to infinity.
        largest = max(histogram.values())
        histogram = {a: count / largest for a, count in histogram.items()}
    issues = [
        InputIssue(label, f"histogram.{a}", f"expected an accepted-prefix length in 0..{k} (k = {k}), got {a}")
        for a in histogram
        if not 0 <= a <= k
    ]
    if sum(histogram.values()) <= 0:
        issues.append(InputIssue(label, "histogram", "expected at least one positive count, got all zero"))
    if issues:
        raise InputError(issues)
    return StatsSpec(k=k, histogram=histogram, source=str(path))
