"""The audit document of one LLM scenario: the pack's formulas, this scenario's inputs with
provenance, and every quantity as ``name = formula = value``."""
from __future__ import annotations

import sympy as sp

from ..audit import Document, pack_audit
from ..audit.document import Block, Heading, Math, Paragraph, Table
from ..audit.mathtex import AuditPrinter, Layout
from ..audit.sections import symbol_names
from .analytic import AnalyticModel
from .scenario import Scenario

DIGITS = 6


def scenario_audit(model: AnalyticModel, scenario: Scenario, values: dict[str, float],
                   results: dict[str, object]) -> Document:
    names = symbol_names(model.pack)
    layout = Layout(AuditPrinter(names, digits=DIGITS))
    rows = tuple(((Math(layout.printer.formula(spec.symbol)),), (f"{values[spec.binding]:.{DIGITS}g}",),
                  (spec.unit,), (_provenance(spec.binding, scenario),)) for spec in model.inputs)
    blocks: list[Block] = [
        Heading(1, f"This scenario: {scenario.model.id} on {scenario.hardware.id}"),
        Paragraph((f"Runtime {scenario.runtime.id}, format {scenario.quant.id}, prompt {scenario.workload.prompt_tokens} "
                   f"tokens, {scenario.workload.gen_tokens} generated, concurrency {scenario.workload.concurrency}, "
                   f"TP {scenario.layout.tensor_parallel} x PP {scenario.layout.pipeline_parallel}, offload "
                   f"{scenario.layout.offload}. Inputs in SI units (B, s, B/s; FLOP counts are dimensionless).",)),
        Table(("Input", "Value (SI)", "Unit", "Provenance"), rows, (0.18, 0.17, 0.1, 0.55)),
        Heading(2, "Every quantity: formula and value"),
    ]
    for quantity in model.pack.quantities:
        blocks += layout.equation(names[quantity.name], model.definitions[quantity.name],
                                  sp.Float(float(results[quantity.name])))
    audit = pack_audit(model.pack, extra=blocks)
    return Document(f"LLM estimate audit: {scenario.model.id} on {scenario.hardware.id}", audit.version_line, audit.blocks)


def _provenance(binding: str, scenario: Scenario) -> str:
    part, _, field = binding.partition(".")
    if part == "coefficients":
        return scenario.effective_coefficients.origin
    if part in ("workload", "layout"):
        return f"request ({field})"
    entry = {"model": scenario.model, "quant": scenario.quant, "hardware": scenario.hardware,
             "runtime": scenario.runtime}[part]
    where = "catalog" if entry.origin == "catalog" else entry.origin
    return f"{entry.kind} {entry.id} ({where}), field {field}: {entry.get('source', 'no source given')}"
