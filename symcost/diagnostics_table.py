"""A report's diagnostics (see symcost/diagnostics.py) as lines under its table.

Kept apart from the evaluation so that a warm report, whose diagnostics come from the evaluator cache,
prints them without importing SymPy.
"""

from __future__ import annotations

from collections.abc import Sequence

NOT_KNOWN = "not known"


def format_diagnostics(diagnostics: Sequence[dict]) -> str:
    """The checks as lines under a report's table (empty without any)."""
    if not diagnostics:
        return ""
    lines = ["diagnostics (each at the point of the report furthest toward its threshold):"]
    for entry in diagnostics:
        threshold = entry["threshold"]
        side = "at most" if entry["warn_when"] == "above" else "at least"
        at = ", ".join(f"{name}={value:g}" for name, value in entry["at"].items())
        shown = NOT_KNOWN if entry["value"] is None else _quantity(entry["value"], entry["unit"])
        lines.append(
            f"  {entry['status']:<4} {entry['name']} = {shown}{f' at {at}' if at else ''}; "
            f"{side} {_quantity(threshold['value'], threshold['unit'])} ({threshold['source']})"
        )
        lines.append(f"       {entry['message']}")
        if entry.get("drivers"):
            lines.append(
                "       largest parts: "
                + ", ".join(f"{item['name']} {_quantity(item['value'], entry['unit'])}" for item in entry["drivers"])
            )
    return "\n".join(lines)


def _quantity(value: float, unit: str) -> str:
    return f"{value:.4g}" + ("" if unit == "1" else f" {unit}")
