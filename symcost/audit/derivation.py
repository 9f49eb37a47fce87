"""Audit sections for an accounted model: burst sums, breakdowns, per-token chain, break-even.

They exist where the pack has a burst structure (an ``index`` section) and
the inputs are bound: each term's closed-form sum over a phase's steps, the
breakdown totals a report prints (by stage, component, feature, channel),
the quantities that turn a burst into per-token metrics, and the analytical
break-even points.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sympy as sp

from ..accounting import VIEWS, Accounting, TermTotal
from ..aggregates import sum_steps
from .document import Block, Code, Heading, Math, Paragraph, code_list
from .mathtex import MathLayout
from .sections import QUANTITY_SYMBOLS

QUANTITY_UNITS = {"energy": "J", "latency": "s", "count": "operations", "area": "m^2"}
BREAKDOWN_QUANTITIES = ("energy", "latency", "count")
_LAYER = sp.Symbol("ell")


def burst_sum_sections(accounting: Accounting, layout: MathLayout) -> list[Block]:
    pack = accounting.pack
    blocks: list[Block] = [
        Heading(1, "Closed-form burst sums"),
        Paragraph(
            (
                "For every active term and phase: its definition (a sum over the phase's steps, and over the layers for "
                "layer-scope terms) and the closed form symcost derived, with the bound inputs substituted (SI units). "
                "Step ",
                Math(layout.printer.formula(pack.index.step)),
                " sees context ",
                Math(r"L = L_{\mathrm{p}} + i") if "L_prompt" in pack.symbols else "L",
                ".",
            )
        ),
    ]
    for phase in pack.vocabulary["phases"]:
        entries = [entry for entry in accounting.entries if entry.phase == phase]
        if not entries:
            continue
        blocks.append(Heading(2, f"Phase {phase}"))
        zero = [entry.term.name for entry in entries if entry.expression == 0]
        for entry in entries:
            if entry.expression != 0:
                blocks.append(
                    Paragraph(
                        (
                            "Term ",
                            Code(entry.term.name),
                            f" ({entry.term.quantity}, {QUANTITY_UNITS[entry.term.quantity]} per burst"
                            f"{', stage ' + entry.term.stage if entry.term.stage else ''}):",
                        )
                    )
                )
                blocks += layout.equation(
                    QUANTITY_SYMBOLS[entry.term.quantity], _definition(accounting, entry), entry.expression
                )
        if zero:
            blocks.append(Paragraph(("Zero for these inputs: ", *code_list(zero), ".")))
    return blocks


def _definition(accounting: Accounting, entry: TermTotal) -> sp.Expr:
    """The entry as a sum: over the phase's steps (and layers), as the accounting contract states it."""
    term, index = entry.term, accounting.pack.index
    if term.scope == "static":
        return term.expression
    lo, hi = index.phases[entry.phase]
    if term.scope == "phase":
        return term.expression.replace(
            lambda node: isinstance(node, sum_steps) and len(node.args) == 1,
            lambda node: sum_steps(node.args[0], lo, hi),
        )
    summand = sp.Sum(term.expression, (_LAYER, 1, index.layers)) if term.scope == "layer" else term.expression
    return sp.Sum(summand, (index.step, lo, hi - 1))


def breakdown_sections(
    accounting: Accounting, layout: MathLayout, extra: Mapping[str, Sequence[Block]] | None = None
) -> list[Block]:
    """The totals a report prints per stage, component, feature and channel (summed over the burst's phases);
    ``extra`` adds a pack's own entries to a view (e.g. the selfspec report's static energy)."""
    phases = tuple(accounting.pack.index.phases)
    blocks: list[Block] = [
        Heading(1, "Breakdowns"),
        Paragraph(
            (
                "What each breakdown entry of a report is: the terms it collects and their closed-form sum over a "
                "burst (all phases; per burst, SI units). Stages partition every charge once; channels split the "
                "stage view; component latencies are busy times that overlap.",
            )
        ),
    ]
    for view in VIEWS:
        blocks.append(Heading(2, f"By {view}"))
        for name in sorted(
            {entry.tag(view) for entry in accounting.entries if entry.tag(view) and entry.phase in phases}
        ):
            blocks += _breakdown_entry(accounting, layout, view, name, phases)
        blocks += list((extra or {}).get(view, ()))
    return blocks


def _breakdown_entry(accounting: Accounting, layout: MathLayout, view: str, name: str, phases) -> list[Block]:
    blocks: list[Block] = [Heading(3, f"{view} {name}")]
    for quantity in BREAKDOWN_QUANTITIES:
        totals = [accounting.breakdown(view, quantity, phase).get(name) for phase in phases]
        if all(total is None for total in totals):
            continue
        terms = sorted(
            {
                entry.term.name
                for entry in accounting.select(quantity=quantity, view=view)
                if entry.tag(view) == name
                and entry.phase in phases
                and not (view == "channel" and entry.term.stage is None)
            }
        )
        blocks.append(
            Paragraph(
                (f"{quantity.capitalize()} ({QUANTITY_UNITS[quantity]} per burst), from ", *code_list(terms), ":")
            )
        )
        blocks += layout.equation(QUANTITY_SYMBOLS[quantity], sp.Add(*(total for total in totals if total is not None)))
    return blocks


def per_token_sections(accounting: Accounting, layout: MathLayout) -> list[Block]:
    pack = accounting.pack
    descriptions = {quantity.name: quantity.description for quantity in pack.quantities}
    blocks: list[Block] = [
        Heading(1, "Per-token expressions"),
        Paragraph(
            (
                "The pack's quantities for these inputs, in evaluation order; each refers to earlier ones by name. "
                "Quantities that depend on the step index are per step and are inlined where they are used.",
            )
        ),
    ]
    stats = [
        spec for spec in pack.symbols.values() if spec.source == "stats" and spec.symbol in accounting.bindings.values
    ]
    for spec in stats:
        bound = accounting.bindings.values[spec.symbol]
        blocks.append(
            Paragraph(
                (
                    Code(spec.name),
                    f": {spec.description} (from {bound.provenance}); symbolic below, bound when evaluated:",
                )
            )
        )
        # A value the pack defines by a formula (E[a+1] over a histogram) shows the formula, then its value.
        shown = (
            (bound.formula, bound.value)
            if bound.formula is not None and bound.formula != bound.value
            else (bound.value,)
        )
        blocks += layout.equation(layout.printer.formula(spec.symbol), *shown)
    step = pack.index.step
    for name, expression in accounting.quantities.items():
        per_step = " (per step)" if expression.has(step) else ""
        blocks.append(Paragraph((Code(name), f"{per_step}: " + " ".join(descriptions.get(name, "").split()))))
        blocks += layout.equation(layout.printer.formula(accounting.quantity_symbols[name]), expression)
    return blocks


def break_even_sections(found: Mapping[str, Mapping[str, object]], layout: MathLayout) -> list[Block]:
    """Each break-even question: both sides on the piece that holds the answer, and the solution."""
    blocks: list[Block] = [
        Heading(1, "Break-even"),
        Paragraph(
            (
                "Each comparison sets two per-token costs equal. The closed forms are piecewise; the equation is shown "
                "on the piece (every maximum, minimum and rounding fixed to its active branch) that holds the "
                "first crossing, or the end of the searched range when there is none.",
            )
        ),
    ]
    for comparison, by_quantity in found.items():
        for quantity, result in by_quantity.items():
            blocks.append(Heading(2, f"{comparison}, {quantity}"))
            blocks.append(Paragraph((f"{result.description}. Verdict: {result.verdict}.",)))
            blocks += layout.equation(r"C_{\mathrm{left}}", result.left)
            blocks += layout.equation(r"C_{\mathrm{right}}", result.right)
            if result.solution_latex:
                blocks.append(Paragraph(("Solution:",)))
                blocks += layout.equation(result.solution_latex)
    return blocks
