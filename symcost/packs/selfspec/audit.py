"""The selfspec pack's audit document: the generic pack audit with the burst sums, the break-even
derivations and the resolved hardware coefficients."""
from __future__ import annotations

from ...audit.build import pack_audit
from ...audit.document import Block, Bullets, Code, AuditDocument, Heading, Paragraph, Table
from .inputs.hardware import HardwareSpec


def model_audit(model, *, break_even: bool = True) -> AuditDocument:
    """The full audit of a :class:`~symcost.packs.selfspec.model.CostModel`, break-even included."""
    found = None
    if break_even:
        from .breakeven import find_break_even

        found = find_break_even(model)
    accounting = model.accounting
    return pack_audit(model.pack, values=accounting.bindings.values, groups=accounting.bindings.groups,
                      accounting=accounting, break_even=found, extra=coefficient_section(model.hardware),
                      inputs=(model.model.source, model.hardware.source, model.stats.source))


def coefficient_section(hardware: HardwareSpec) -> list[Block]:
    rows = [((Code(path),), (f"{coefficient.value:.6g}",), (coefficient.unit,), (coefficient.provenance,))
            for path, coefficient in sorted(hardware.coefficients.items())]
    blocks: list[Block] = [Heading(1, "Hardware coefficients"), Paragraph((
        f"Every figure resolved from the hardware file ({hardware.mode}"
        f"{', library ' + hardware.library if hardware.library else ''}), in the unit its field names, with its "
        "provenance: the file itself, the component library, or a schema default.",)),
        Table(("Field", "Value", "Unit", "Provenance"), tuple(rows), (0.3, 0.12, 0.07, 0.41))]
    if hardware.feature_mapping:
        items = [(Code(feature), f": {mapping}") for feature, mapping in sorted(hardware.feature_mapping.items())]
        blocks += [Paragraph(("Coefficients used by each DPU feature:",)), Bullets(tuple(items))]
    return blocks
