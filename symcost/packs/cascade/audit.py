"""The audit document of a cascade: the pack's formulas, then this cascade's inputs, closed forms and values.

Builds on :func:`symcost.audit.pack_audit` (symbols, quantities and their
formulas, as for any pack) and adds what the cascade engine made of them:
every input with its value and provenance, and every figure as
``quantity = closed form = value``, stage by stage, level by level.
"""

from __future__ import annotations

import sympy as sp

from ...audit import AuditDocument, pack_audit
from ...audit.document import Block, Code, Heading, Math, Paragraph, Table
from ...audit.mathtex import AuditPrinter, MathLayout
from ...audit.sections import symbol_names
from .model import CascadeModel
from .placement import LevelFit

DIGITS = 6


def cascade_audit(model: CascadeModel, fits: tuple[LevelFit, ...]) -> AuditDocument:
    names = symbol_names(model.pack)
    names.update(
        {
            symbol.name: _instance_latex(names[pack_name], suffix)
            for symbol, (pack_name, suffix) in model.origins.items()
        }
    )
    layout = MathLayout(AuditPrinter(names, digits=DIGITS))
    figures = model.figures()
    blocks: list[Block] = [
        Heading(1, f"This cascade: {model.config.name}"),
        Paragraph(
            (
                "The engine evaluates the stage quantities once per stage (subscript: the stage's index, 0 the smallest), "
                "the level quantities once per memory level (subscript: its name) and the cascade quantities once. "
                "Inputs stay symbolic in the closed forms below; each is followed by its value for this file (SI).",
            )
        ),
    ]
    blocks.append(
        Table(
            ("Input", "Value (SI)", "Provenance"),
            tuple(
                ((Math(layout.printer.formula(symbol)),), (f"{value:.{DIGITS}g}",), (model.provenance[symbol],))
                for symbol, value in model.values.items()
            ),
            (0.2, 0.2, 0.6),
        )
    )
    groups = [
        (f"Stage {index}: {stage.name}", f"stage.{stage.name}.") for index, stage in enumerate(model.config.stages)
    ]
    groups += [(f"Memory level {level.name}", f"level.{level.name}.") for level in model.config.levels]
    groups.append(("Whole cascade", "cascade."))
    lhs = {quantity.name: names[quantity.name] for quantity in model.pack.quantities}
    for title, prefix in groups:
        blocks.append(Heading(2, title))
        for output, expression in model.outputs.items():
            if output.startswith(prefix):
                blocks += layout.equation(lhs[output[len(prefix) :]], expression, sp.Float(figures[output]))
    blocks.append(Heading(2, "Placement"))
    blocks += [Paragraph((Code(fit.name), ": fits." if fit.fits else ": " + "; ".join(fit.problems))) for fit in fits]
    audit = pack_audit(model.pack, inputs=[model.config.path], extra=blocks)
    return AuditDocument(f"Cascade audit: {model.config.name}", audit.version_line, audit.blocks)


def _instance_latex(latex: str, suffix: str | None) -> str:
    """A stage's or level's instance of a pack symbol: the symbol subscripted by the stage index or level name."""
    if suffix is None:
        return latex
    label = suffix if suffix.isdigit() else r"\mathrm{" + suffix.replace("_", r"\_") + "}"
    return rf"{{{latex}}}_{{{label}}}"
