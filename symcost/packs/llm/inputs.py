"""The llm pack's inputs: a scenario as one input tree, bound by the pack's own bindings.

The catalog entries are mounted as they are written (``model``, ``hardware``,
``runtime``, ``quant``), beside the request's ``workload`` and ``layout`` and
the fitted ``coefficients``; every unit conversion, default, fallback and
categorical field (``mlp: gated``) is the pack's (formulas/llm.yaml), through
the one binder's rules (:mod:`symcost.binder_core`): on exact fractions for the
numbers (:func:`bind_numbers`, no SymPy), on SymPy for an audit's formulas
(:func:`bind_scenario`). Coefficients are
:class:`~symcost.input_tree.Measured` leaves: a fit computed them, and their
provenance is the calibration's. What stays in Python is what is not a value
of the pack: refusing a layout the model or machine cannot take
(:func:`~.scenario.layout_problems`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from ...binder_core import BoundValue
from ...input_tree import InputTree, Measured
from .catalog import CatalogEntry
from .pack_symbols import PackSymbols, ScenarioNumbers
from .scenario import Coefficients, Scenario, ScenarioError, Workload, layout_problems

if TYPE_CHECKING:  # the SymPy binding is for audits; estimates bind with PackSymbols
    import sympy as sp

    from ...pack import FormulaPack

ENTRY_ROLES = ("model", "hardware", "runtime", "quant")
# pack binding under coefficients -> (Coefficients field, unit of that field)
COEFFICIENT_FIELDS = {
    "eta_bw": ("eta_bw", "1"),
    "eta_flops": ("eta_flops", "1"),
    "t0": ("t0_s", "s"),
    "kappa_bw": ("kappa_bw", "1"),
    "kappa_flops": ("kappa_flops", "1"),
    "t_layer": ("t_layer_s", "s"),
}
REQUEST = "request"


@dataclass(frozen=True)
class BoundScenario:
    """A scenario's bound values (with provenance) and their numbers (SI, default formulas resolved)."""

    pack: FormulaPack
    bound: dict[sp.Symbol, BoundValue]
    values: dict[sp.Symbol, sp.Expr]

    @cached_property
    def by_name(self) -> dict[str, sp.Expr]:
        return {symbol.name: value for symbol, value in self.values.items()}

    @cached_property
    def derived(self) -> dict[str, sp.Expr]:
        """Every symbol's value by name, the derived ones included (resolved only when asked for)."""
        from ...binder import resolved

        return {symbol.name: value for symbol, value in resolved(self.pack, self.values, derived=True).items()}

    def number(self, name: str) -> float:
        """The value of a bound or derived symbol."""
        return float(self.by_name[name] if name in self.by_name else self.derived[name])

    def numbers(self, names: Iterable[str]) -> dict[str, float]:
        return {name: float(self.by_name[name]) for name in names}


def bind_scenario(pack: FormulaPack, scenario: Scenario) -> BoundScenario:
    """The pack's values for ``scenario`` as SymPy expressions (what an audit prints); a layout it cannot
    take is a :class:`ScenarioError`."""
    from ...binder import bind_symbols, resolved

    _refuse_layout(scenario)
    bound = bind_symbols(pack, scenario_tree(scenario))
    return BoundScenario(pack, bound, resolved(pack, {symbol: value.value for symbol, value in bound.items()}))


def bind_numbers(symbols: PackSymbols, scenario: Scenario) -> ScenarioNumbers:
    """The pack's numbers for ``scenario`` (the same as :func:`bind_scenario`'s, without SymPy)."""
    _refuse_layout(scenario)
    return symbols.bind(scenario_tree(scenario))


def _refuse_layout(scenario: Scenario) -> None:
    problems = layout_problems(scenario)
    if problems:
        raise ScenarioError("; ".join(message for _, message in problems))


def context_needed(symbols: PackSymbols, workload: Workload) -> int:
    """The context one sequence of ``workload`` needs: the pack's default context allocation (S_alloc)
    for the workload with no allocation of its own, from the workload alone."""
    fields = {key: value for key, value in workload_fields(workload).items() if key != "context_alloc"}
    bound = symbols.bind(InputTree({"workload": fields}, {"workload": REQUEST}), source="workload")
    return int(bound.number(symbols.bound_to("workload.context_alloc").name))


def scenario_tree(scenario: Scenario) -> InputTree:
    """The scenario as the pack reads it: each catalog entry mounted by its role, as written."""
    entries = dict(zip(ENTRY_ROLES, (scenario.model, scenario.hardware, scenario.runtime, scenario.quant)))
    data: dict[str, Any] = {role: entry.data for role, entry in entries.items()}
    data["workload"] = workload_fields(scenario.workload)
    data["layout"] = {
        "tensor_parallel": scenario.layout.tensor_parallel,
        "pipeline_parallel": scenario.layout.pipeline_parallel,
        "offload": scenario.layout.offload,
        "flash_attention": scenario.layout.flash_attention,
    }
    origins = {role: entry_label(entry) for role, entry in entries.items()}
    origins.update(workload=REQUEST, layout=REQUEST)
    if scenario.coefficients is not None:
        data["coefficients"] = coefficient_leaves(scenario.coefficients)
        origins["coefficients"] = scenario.coefficients.origin
    return InputTree(data, origins)


def workload_fields(workload: Workload) -> dict[str, Any]:
    """The request's workload as written; what it leaves unset takes the pack's defaults."""
    fields = {
        "prompt_tokens": workload.prompt_tokens,
        "gen_tokens": workload.gen_tokens,
        "concurrency": workload.concurrency,
        "depth_tokens": workload.depth_tokens,
        "decode_start_tokens": workload.decode_start_tokens,
        "context_alloc": workload.context_alloc,
        "saturate": workload.saturate,
    }
    return {key: value for key, value in fields.items() if value is not None}


def coefficient_leaves(coefficients: Coefficients) -> dict[str, Measured]:
    """Fitted coefficients as measured leaves: their value, unit and the calibration they come from."""
    return {
        binding: Measured(getattr(coefficients, field), unit, coefficients.origin)
        for binding, (field, unit) in COEFFICIENT_FIELDS.items()
    }


def entry_label(entry: CatalogEntry) -> str:
    return f"{entry.kind} {entry.id} ({'catalog' if entry.origin == 'catalog' else entry.origin})"
