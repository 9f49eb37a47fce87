"""The selfspec cost model's outputs and their names.

``<scenario>.<metric>`` for the pack's per-token and per-burst quantities,
``<scenario>.<view>.<phase>.<name>.<quantity>`` for breakdowns (per burst),
``<scenario>.leakage.<component>.energy`` for each component's static energy
over the burst (the pack's quantities charged to a component),
``<scenario>.committed_tokens`` for E[a+1], with scenario ``speculative`` or
``baseline`` (no speculation: K = 0, one token per step), view ``stage``,
``component``, ``feature`` or ``channel``, ``area.<view>.<name>``, and the area totals
``area.on_chip`` and ``area.off_chip`` (split by the pack's ``off_chip`` list).

The feature view holds the DPU features and ``other``: the work no feature is
charged for (analog reads, converters, buffers, control, KV-cache traffic), so
that it covers a phase's total like the other views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names and units below serve warm reports, which run without SymPy
    import sympy as sp

    from ...accounting import Accounting, TermTotal

METRICS = (
    "energy_per_token",
    "latency_per_token",
    "throughput",
    "tokens_per_joule",
    "power",
    "burst_energy",
    "burst_latency",
    "serial_latency",
    "dynamic_energy",
    "leakage_energy",
    "leakage_power",
    "wasted_steps",
)
OTHER_FEATURE = "other"  # the feature view's entry for work no feature is charged for
LEAKAGE = "leakage"  # static energy: outputs <scenario>.leakage.<component>.energy, and the reports' entries
BREAKDOWN_QUANTITIES = ("energy", "latency", "count")
# The sweep's default columns: what a reader of a sweep file wants first.
DEFAULT_COLUMNS = (
    "speculative.energy_per_token",
    "speculative.latency_per_token",
    "speculative.throughput",
    "speculative.tokens_per_joule",
    "baseline.energy_per_token",
    "baseline.latency_per_token",
)
_UNITS = {
    "energy_per_token": "J",
    "latency_per_token": "s",
    "throughput": "1/s",
    "tokens_per_joule": "1/J",
    "power": "W",
    "burst_energy": "J",
    "burst_latency": "s",
    "serial_latency": "s",
    "dynamic_energy": "J",
    "leakage_energy": "J",
    "leakage_power": "W",
    "committed_tokens": "1",
    "wasted_steps": "1",
    "energy": "J",
    "latency": "s",
    "count": "1",
}


def output_unit(name: str) -> str:
    """The SI unit of an output, from its name."""
    if name.startswith("area."):
        return "m^2"
    return _UNITS[name.rsplit(".", 1)[-1]]


def collect_outputs(
    accounting: Accounting, baseline_accounting: Accounting | None = None
) -> tuple[dict[str, sp.Expr], list[tuple[sp.Symbol, sp.Expr]]]:
    """Metrics and breakdowns for the speculative and the baseline scenario, and the area.

    The baseline comes from ``baseline_accounting`` when given (K fixed to 0
    before accounting), else from substituting K = 0 and E[a+1] = 1. Metrics
    are quantity symbols; the returned definitions (evaluated in order) give
    their values, once per scenario.
    """
    import sympy as sp

    pack = accounting.pack
    plain = {pack.symbol("K"): sp.Integer(0), pack.symbol("E_commit"): sp.Integer(1)}
    substitution = {} if baseline_accounting else plain
    baseline_accounting = baseline_accounting or accounting
    outputs: dict[str, sp.Expr] = {}
    definitions = accounting.definitions()
    baseline_definitions = baseline_accounting.definitions()
    renamed = {symbol: sp.Symbol(f"baseline__{symbol.name}", real=True) for symbol, _ in baseline_definitions}
    definitions += [
        (renamed[symbol], expression.xreplace({**substitution, **renamed}))
        for symbol, expression in baseline_definitions
    ]
    for scenario, source, replaced in (
        ("speculative", accounting, {}),
        ("baseline", baseline_accounting, substitution),
    ):
        outputs[f"{scenario}.committed_tokens"] = pack.symbol("E_commit").xreplace(
            plain if scenario == "baseline" else {}
        )
        for metric in METRICS:
            if metric in source.quantity_symbols:
                symbol = source.quantity_symbols[metric]
                outputs[f"{scenario}.{metric}"] = renamed[symbol] if scenario == "baseline" else symbol
        for component, name in component_charges(source).items():
            symbol = source.quantity_symbols[name]
            outputs[f"{scenario}.{LEAKAGE}.{component}.energy"] = renamed[symbol] if scenario == "baseline" else symbol
        for phase in pack.index.phases:
            for quantity in BREAKDOWN_QUANTITIES:
                if quantity != "count":
                    outputs[f"{scenario}.total.{phase}.{quantity}"] = source.total(quantity, phase).xreplace(replaced)
                for view in ("stage", "component", "feature", "channel"):
                    for name, expression in source.breakdown(view, quantity, phase).items():
                        outputs[f"{scenario}.{view}.{phase}.{name}.{quantity}"] = expression.xreplace(replaced)
                if quantity != "count":
                    outputs[f"{scenario}.feature.{phase}.{OTHER_FEATURE}.{quantity}"] = sp.Add(
                        *(entry.expression for entry in featureless(source, quantity, phase))
                    ).xreplace(replaced)
    for view in ("stage", "component"):
        for name, expression in accounting.breakdown(view, "area").items():
            outputs[f"area.{view}.{name}"] = expression
    outputs.update(area_totals(accounting))
    for name, expression, maximum, _message in accounting.limits:
        outputs[f"limit.{name}.value"], outputs[f"limit.{name}.maximum"] = expression, maximum
    return outputs, definitions


def area_totals(accounting: Accounting) -> dict[str, sp.Expr]:
    """``area.on_chip`` and ``area.off_chip``: the component areas summed by the pack's ``off_chip`` list."""
    import sympy as sp

    components = accounting.breakdown("component", "area")
    off_chip = set(accounting.pack.off_chip)
    return {
        "area.on_chip": sp.Add(*(area for name, area in components.items() if name not in off_chip)),
        "area.off_chip": sp.Add(*(area for name, area in components.items() if name in off_chip)),
    }


def component_charges(accounting: Accounting) -> dict[str, str]:
    """The active energy quantities the pack charges to a component (its static energy): component -> quantity."""
    from ...units import parse_unit  # here: a warm report imports this module for its output names alone

    energy = parse_unit("J").dimension
    return {
        quantity.component: quantity.name
        for quantity in accounting.pack.quantities
        if quantity.component
        and quantity.name in accounting.quantity_symbols
        and parse_unit(quantity.unit).dimension == energy
    }


def featureless(accounting: Accounting, quantity: str, phase: str | None = None) -> list[TermTotal]:
    """The stage view's entries that no feature is charged for: the feature view's ``other``."""
    return [
        entry for entry in accounting.select(quantity=quantity, phase=phase, view="stage") if entry.term.feature is None
    ]
