"""The audit document of one LLM scenario: the pack's formulas, this scenario's inputs with
provenance, and every quantity as ``name = formula = value``."""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from ...audit import AuditDocument, pack_audit
from ...audit.document import Block, Heading, Paragraph
from ...audit.mathtex import AuditPrinter, MathLayout
from ...audit.sections import symbol_names
from .analytic import AnalyticModel
from .caveats import efficiency_warnings
from .inputs import BoundScenario
from .scenario import Scenario

DIGITS = 6


def scenario_audit(
    model: AnalyticModel, scenario: Scenario, bound: BoundScenario, results: dict[str, object]
) -> AuditDocument:
    names = symbol_names(model.pack)
    layout = MathLayout(AuditPrinter(names, digits=DIGITS))
    # Each bound value as the binder found it, a default formula shown as the number it resolves to.
    values = {symbol: replace(value, value=bound.values[symbol]) for symbol, value in bound.bound.items()}
    blocks: list[Block] = [
        Heading(1, f"This scenario: {scenario.model.id} on {scenario.hardware.id}"),
        Paragraph(
            (
                f"Runtime {scenario.runtime.id}, format {scenario.quant.id}, prompt {scenario.workload.prompt_tokens} "
                f"tokens, {scenario.workload.gen_tokens} generated, concurrency {scenario.workload.concurrency}, "
                f"TP {scenario.layout.tensor_parallel} x PP {scenario.layout.pipeline_parallel}, offload "
                f"{scenario.layout.offload}; coefficients: {scenario.coefficients_origin}. The symbol table above "
                "gives every input's value (SI: B, s, B/s; FLOP counts are dimensionless) and the catalog entry "
                "and field it comes from.",
            )
        ),
        *_sources(scenario),
        *(Paragraph((note,)) for note in efficiency_warnings(bound.numbers(("eta_bw", "eta_flops")))),
        Heading(2, "Every quantity: formula and value"),
    ]
    for quantity in model.pack.quantities:
        blocks += layout.equation(
            names[quantity.name], model.definitions[quantity.name], sp.Float(float(results[quantity.name]))
        )
    audit = pack_audit(model.pack, values=values, extra=blocks)
    return AuditDocument(
        f"LLM estimate audit: {scenario.model.id} on {scenario.hardware.id}", audit.version_line, audit.blocks
    )


def _sources(scenario: Scenario) -> list[Block]:
    """Each catalog entry's own provenance, once."""
    entries = (scenario.model, scenario.quant, scenario.hardware, scenario.runtime)
    return [Heading(2, "Sources of the catalog entries")] + [
        Paragraph((f"{entry.kind} {entry.id}: {entry.get('source', 'no source given')}",)) for entry in entries
    ]
