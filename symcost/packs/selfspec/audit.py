"""The selfspec pack's audit document: the generic pack audit with the burst sums, the break-even
derivations, the report's own breakdown entries (static energy, the feature view's ``other``) and the
resolved hardware coefficients."""

from __future__ import annotations

from functools import partial

import sympy as sp

from ...accounting import VIEWS, Accounting
from ...audit.build import break_even_blocks, pack_audit
from ...audit.document import (
    AuditDocument,
    Block,
    Bullets,
    Code,
    Heading,
    Paragraph,
    Table,
    blocks_as_data,
    blocks_from_data,
    code_list,
)
from ...audit.mathtex import MathLayout
from ...forked import fork_json
from .inputs.hardware import HardwareSpec
from .outputs import LEAKAGE, OTHER_FEATURE, component_charges, featureless


def model_audit(model, *, break_even: bool = True) -> AuditDocument:
    """The full audit of a :class:`~symcost.packs.selfspec.model.CostModel`, break-even included.

    The break-even section (solving and laying out its equations) is made in a forked child process while
    this one lays out the other sections (:mod:`symcost.forked`), or here where that is not possible."""
    pending = fork_json(partial(_break_even_data, model)) if break_even else None
    accounting = model.accounting
    return pack_audit(
        model.pack,
        values=accounting.bindings.values,
        groups=accounting.bindings.groups,
        accounting=accounting,
        break_even=(lambda: blocks_from_data(pending.result())) if pending else None,
        extra=coefficient_section(model.hardware),
        inputs=(model.model.source, model.hardware.source, model.stats.source),
        breakdown_extra=lambda layout: report_entries(accounting, layout),
    )


def _break_even_data(model) -> list:
    from .breakeven import find_break_even

    return blocks_as_data(break_even_blocks(model.pack, find_break_even(model)))


def report_entries(accounting: Accounting, layout: MathLayout) -> dict[str, list[Block]]:
    """The report's own breakdown entries, by view: the static energy in every view (one entry per component
    in the component view) and the feature view's ``other``."""
    static = _static_entry(accounting, layout, "leakage_energy", "the static energy of the burst")
    by_component = component_charges(accounting)
    entries: dict[str, list[Block]] = {view: [Heading(3, f"{view} {LEAKAGE}"), *static] for view in VIEWS}
    if by_component:
        entries["component"] = [
            block
            for component, quantity in by_component.items()
            for block in (
                Heading(3, f"component {LEAKAGE}.{component}"),
                *_static_entry(accounting, layout, quantity, f"the static energy of {component}"),
            )
        ]
    entries["feature"] += [Heading(3, f"feature {OTHER_FEATURE}"), *_featureless_entry(accounting, layout)]
    return entries


def _static_entry(accounting: Accounting, layout: MathLayout, quantity: str, what: str) -> list[Block]:
    return [
        Paragraph(
            (
                f"Energy (J per burst): {what}, the pack's quantity ",
                Code(quantity),
                " (see the per-token expressions); it takes no time of its own:",
            )
        ),
        *layout.equation("E", accounting.quantities[quantity]),
    ]


def _featureless_entry(accounting: Accounting, layout: MathLayout) -> list[Block]:
    blocks: list[Block] = []
    for quantity, unit, symbol in (("energy", "J", "E"), ("latency", "s", "T")):
        entries = [
            entry for phase in accounting.pack.index.phases for entry in featureless(accounting, quantity, phase)
        ]
        terms = sorted({entry.term.name for entry in entries})
        blocks.append(
            Paragraph(
                (
                    f"{quantity.capitalize()} ({unit} per burst) that no feature is charged for, from ",
                    *code_list(terms),
                    ":",
                )
            )
        )
        blocks += layout.equation(symbol, sp.Add(*(entry.expression for entry in entries)))
    return blocks


def coefficient_section(hardware: HardwareSpec) -> list[Block]:
    rows = [
        ((Code(path),), (f"{coefficient.value:.6g}",), (coefficient.unit,), (coefficient.provenance,))
        for path, coefficient in sorted(hardware.coefficients.items())
    ]
    blocks: list[Block] = [
        Heading(1, "Hardware coefficients"),
        Paragraph(
            (
                f"Every figure resolved from the hardware file ({hardware.mode}"
                f"{', library ' + hardware.library if hardware.library else ''}), in the unit its field names, with its "
                "provenance: the file itself, the component library, or a schema default.",
            )
        ),
        Table(("Field", "Value", "Unit", "Provenance"), tuple(rows), (0.3, 0.12, 0.07, 0.41)),
    ]
    if hardware.feature_mapping:
        items = [(Code(feature), f": {mapping}") for feature, mapping in sorted(hardware.feature_mapping.items())]
        blocks += [Paragraph(("Coefficients used by each DPU feature:",)), Bullets(tuple(items))]
    return blocks
