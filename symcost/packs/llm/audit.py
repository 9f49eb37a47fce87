"""The audit document of one LLM scenario: the pack's formulas, this scenario's inputs with
provenance, and every quantity as ``name = formula = value``."""
from __future__ import annotations

import sympy as sp

from ...audit import AuditDocument, pack_audit
from ...audit.document import Block, Heading, Paragraph
from ...audit.mathtex import AuditPrinter, MathLayout
from ...audit.sections import symbol_names
from ..selfspec.binding import BoundValue
from .analytic import AnalyticModel
from .scenario import Scenario

DIGITS = 6


def scenario_audit(model: AnalyticModel, scenario: Scenario, values: dict[str, float],
                   results: dict[str, object]) -> AuditDocument:
    names = symbol_names(model.pack)
    layout = MathLayout(AuditPrinter(names, digits=DIGITS))
    bound = {spec.symbol: BoundValue(sp.Float(values[spec.binding]), _provenance(spec.binding, scenario))
             for spec in model.inputs}
    blocks: list[Block] = [
        Heading(1, f"This scenario: {scenario.model.id} on {scenario.hardware.id}"),
        Paragraph((f"Runtime {scenario.runtime.id}, format {scenario.quant.id}, prompt {scenario.workload.prompt_tokens} "
                   f"tokens, {scenario.workload.gen_tokens} generated, concurrency {scenario.workload.concurrency}, "
                   f"TP {scenario.layout.tensor_parallel} x PP {scenario.layout.pipeline_parallel}, offload "
                   f"{scenario.layout.offload}. The symbol table above gives every input's value (SI: B, s, B/s; "
                   "FLOP counts are dimensionless) and provenance.",)),
        *_sources(scenario),
        Heading(2, "Every quantity: formula and value"),
    ]
    for quantity in model.pack.quantities:
        blocks += layout.equation(names[quantity.name], model.definitions[quantity.name],
                                  sp.Float(float(results[quantity.name])))
    audit = pack_audit(model.pack, values=bound, extra=blocks)
    return AuditDocument(f"LLM estimate audit: {scenario.model.id} on {scenario.hardware.id}", audit.version_line, audit.blocks)


def _provenance(binding: str, scenario: Scenario) -> str:
    part, _, field = binding.partition(".")
    if part == "coefficients":
        return scenario.effective_coefficients.origin
    if part in ("workload", "layout"):
        return f"request ({field})"
    entry = {"model": scenario.model, "quant": scenario.quant, "hardware": scenario.hardware,
             "runtime": scenario.runtime}[part]
    where = "catalog" if entry.origin == "catalog" else entry.origin
    return f"{entry.kind} {entry.id} ({where}), field {field}"


def _sources(scenario: Scenario) -> list[Block]:
    """Each catalog entry's own provenance, once."""
    entries = (scenario.model, scenario.quant, scenario.hardware, scenario.runtime)
    return [Heading(2, "Sources of the catalog entries")] + [
        Paragraph((f"{entry.kind} {entry.id}: {entry.get('source', 'no source given')}",)) for entry in entries]
