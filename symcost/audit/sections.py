"""Audit sections that need only a formula pack (and, optionally, bound values).

Every pack has these: its symbols (with values and provenance where the
inputs are bound), its macros, its terms grouped by phase, stage and channel,
its quantities, the proxy and out-of-scope terms with their reasons, its
limits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

import sympy as sp

from ..binder import BoundValue, LayerGroup
from ..pack import FormulaPack, TermSpec
from .document import Block, Bullets, Code, Heading, Math, Paragraph, Table, code_list
from .mathtex import TABLE_WIDTH, AuditPrinter, MathLayout, breaks_into, symbol_latex

SOURCES = ("axis", "stats", "model", "layer", "hardware", "constant")
DERIVED_WIDTHS = (0.18, 0.07, 0.33, 0.14, 0.18)
TERM_WIDTHS = (0.2, 0.1, 0.13, 0.09, 0.09, 0.35)
QUANTITY_SYMBOLS = {"energy": "E", "latency": "T", "count": "n", "area": "A", "power": "P", "bytes": "B"}
STATUS_TITLES = {"proxy": "Proxy terms", "out_of_scope": "Out-of-scope terms"}


def symbol_names(pack: FormulaPack) -> dict[str, str]:
    """LaTeX for every name a formula of ``pack`` may print: symbols, quantities, aggregates."""
    names = {name: symbol_latex(name) for name in pack.aggregates}
    names.update({quantity.name: quantity.latex or symbol_latex(quantity.name) for quantity in pack.quantities})
    names.update({reduction.name: reduction.latex or symbol_latex(reduction.name) for reduction in pack.reductions})
    names.update({spec.name: spec.latex or symbol_latex(spec.name) for spec in pack.symbols.values()})
    return names


def symbol_sections(
    pack: FormulaPack,
    layout: MathLayout,
    printer: AuditPrinter,
    values: Mapping[sp.Symbol, BoundValue] | None,
    groups: Sequence[LayerGroup],
) -> list[Block]:
    blocks: list[Block] = [
        Heading(1, "Symbols"),
        Paragraph(
            (
                "Every symbol the pack declares, with its unit and source. ",
                "Bound values are the figures of the input files as written (unit of the field) and, where the unit "
                "differs, in SI, the unit every formula is evaluated in; provenance says which file, field or "
                "library entry each one comes from."
                if values is not None
                else "No input files are bound: values are not shown.",
            )
        ),
    ]
    bound = [spec for spec in pack.symbols.values() if spec.definition is None]
    order = {source: index for index, source in enumerate(SOURCES)}
    bound.sort(key=lambda spec: order.get(spec.source, len(SOURCES)))
    rows = [
        (
            (_symbol_cell(spec, printer), (spec.unit,), (spec.source,))
            + _value_and_provenance(spec, printer, values, groups)
        )
        for spec in bound
    ]
    blocks.append(
        Table(
            ("Symbol", "Unit", "Source", "Value", "Description and provenance"),
            tuple(rows),
            (0.2, 0.08, 0.1, 0.2, 0.32),
        )
    )
    blocks += _derived_table(pack, layout, printer, values, groups)
    return blocks


def _symbol_cell(spec, printer: AuditPrinter) -> tuple:
    """The name as written in the pack, and its typeset form where the pack gives one
    (other names print as themselves, the part after the first underscore as a subscript)."""
    return (Code(spec.name), " ", Math(printer.formula(spec.symbol))) if spec.latex else (Code(spec.name),)


def _value_and_provenance(spec, printer: AuditPrinter, values, groups) -> tuple[tuple, tuple]:
    description = (spec.description,)
    if spec.source == "layer":
        per_group = "; ".join(
            f"{group.count} x [{group.label}]: {group.values.get(spec.symbol, '?')}" for group in groups
        )
        return ((per_group or "per layer group",), description)
    bound = values.get(spec.symbol) if values is not None else None
    if bound is None:
        return (({"axis": "free", "outcome": "summed over"}.get(spec.source, "not bound"),), description)
    shown: tuple = (Math(printer.formula(bound.value)),)
    if bound.source_value is not None and bound.source_unit not in (None, "1"):
        shown = (f"{bound.source_value:.6g} {bound.source_unit} (SI: ", *shown, ")")
    notes = [spec.description, f"from {bound.provenance}"]
    if spec.reinterpret_unit:
        notes.append(f"read as {spec.unit}: {' '.join(spec.reinterpret_unit.split())}")
    return (shown, ("; ".join(notes),))


def _derived_table(pack: FormulaPack, layout: MathLayout, printer: AuditPrinter, values, groups) -> list[Block]:
    derived = [spec for spec in pack.symbols.values() if spec.definition is not None]
    if not derived:
        return []
    resolved = _resolved(pack, values, groups)
    rows, below = [], []
    for spec in derived:
        value: tuple = ("",)
        if resolved:
            shown = {printer.formula(table[spec.symbol]) for table in resolved}
            value = (Math(shown.pop()),) if len(shown) == 1 else ("per layer group: ", Math(", ".join(sorted(shown))))
        definition = _formula_cell(
            spec.definition, printer, DERIVED_WIDTHS[2], below, spec.name, printer.formula(spec.symbol)
        )
        rows.append((_symbol_cell(spec, printer), (spec.unit,), definition, value, (spec.description,)))
    return [
        Heading(2, "Derived symbols"),
        Paragraph(
            (
                "Defined by a formula over symbols declared before them; the value is the definition "
                "with the bound inputs substituted (prompt length, step index and stats stay symbolic).",
            )
        ),
        Table(("Symbol", "Unit", "Definition", "Value", "Description"), tuple(rows), DERIVED_WIDTHS),
        *_long_formulas(below, layout),
    ]


def _formula_cell(expression: sp.Expr, printer: AuditPrinter, share: float, below: list, name: str, lhs: str) -> tuple:
    """The formula inline if it wraps into its column, else a pointer to the same formula displayed below the table."""
    if breaks_into(expression, printer, int(share * TABLE_WIDTH)):
        return (Math(printer.formula(expression)),)
    below.append((name, lhs, expression))
    return ("displayed below the table",)


def _long_formulas(below: list, layout: MathLayout) -> list[Block]:
    blocks: list[Block] = []
    for name, lhs, expression in below:
        blocks.append(Paragraph((Code(name), ":")))
        blocks += layout.equation(lhs, expression)
    return blocks


def _resolved(pack: FormulaPack, values, groups) -> list[dict[sp.Symbol, sp.Expr]]:
    """Derived values with the bound inputs substituted, once per layer group (one table without groups)."""
    if values is None:
        return []
    kept_symbolic = {spec.symbol for spec in pack.symbols.values() if spec.source in ("axis", "stats")}
    base = {symbol: bound.value for symbol, bound in values.items() if symbol not in kept_symbolic}
    return [pack.resolve_derived({**base, **group.values}) for group in groups] or [pack.resolve_derived(base)]


def function_section(pack: FormulaPack, layout: MathLayout) -> list[Block]:
    if not pack.functions:
        return []
    blocks: list[Block] = [
        Heading(1, "Functions"),
        Paragraph(("Macros of the pack, expanded where a formula calls them.",)),
    ]
    for function in pack.functions:
        call = (
            rf"\mathrm{{{function.name.replace('_', chr(92) + '_')}}}\left("
            + ", ".join(layout.printer.formula(param) for param in function.params)
            + r"\right)"
        )
        if function.description:
            blocks.append(Paragraph((Code(function.name), ": " + " ".join(function.description.split()))))
        blocks += layout.equation(call, function.expression)
    return blocks


def term_sections(pack: FormulaPack, layout: MathLayout, printer: AuditPrinter, active: set[str] | None) -> list[Block]:
    """The pack's terms (those active for the inputs, when given) grouped by phase, stage and channel."""
    terms = [term for term in pack.terms if active is None or term.name in active]
    blocks: list[Block] = [
        Heading(1, "Terms"),
        Paragraph(
            (
                "Each term's formula as the pack states it (macros expanded, derived symbols by name), grouped by "
                "phase and stage, ordered by channel. Layer-scope terms are per layer and step, step-scope terms "
                "per step, phase-scope terms per phase, static terms once.",
            )
        ),
    ]
    for phase in pack.vocabulary["phases"]:
        in_phase = [term for term in terms if phase in term.phases]
        if not in_phase:
            continue
        blocks.append(Heading(2, f"Phase {phase}"))
        by_stage: dict[str | None, list[TermSpec]] = defaultdict(list)
        for term in in_phase:
            by_stage[term.stage].append(term)
        for stage in [*pack.vocabulary["stages"], None]:
            if stage not in by_stage:
                continue
            title = f"Stage {stage}" if stage else "No stage (component busy time, outside the totals)"
            blocks.append(Heading(3, f"{phase}: {title}"))
            below: list = []
            rows = [
                _term_row(term, printer, below) for term in sorted(by_stage[stage], key=lambda t: (t.channel, t.name))
            ]
            blocks.append(
                Table(("Term", "Channel", "Component, feature", "Scope", "Status", "Formula"), tuple(rows), TERM_WIDTHS)
            )
            blocks += _long_formulas(below, layout)
    inactive = [term.name for term in pack.terms if active is not None and term.name not in active]
    if inactive:
        blocks.append(
            Paragraph(("Not active for these inputs (their 'when' condition is 0): ", *code_list(inactive), "."))
        )
    return blocks


def _term_row(term: TermSpec, printer: AuditPrinter, below: list) -> tuple:
    name: tuple = (Code(term.name),)
    if term.description:
        name += (": " + " ".join(term.description.split()),)
    tags = ", ".join(tag for tag in (term.component, term.feature) if tag) or "-"
    formula = _formula_cell(term.expression, printer, TERM_WIDTHS[5], below, term.name, QUANTITY_SYMBOLS[term.quantity])
    return (name, (term.channel,), (tags,), (term.scope,), (term.status,), formula)


def quantity_section(pack: FormulaPack, layout: MathLayout) -> list[Block]:
    if not pack.quantities:
        return []
    blocks: list[Block] = [
        Heading(1, "Quantities"),
        Paragraph(
            (
                "Named results, in order, as the pack defines them; each may use earlier quantities and the engine's "
                "aggregates (phase totals, one step's or one layer's value).",
            )
        ),
    ]
    for quantity in pack.quantities:
        condition = (
            (" Applies where ", Math(layout.printer.formula(quantity.when)), " is non-zero.")
            if quantity.when is not None
            else ()
        )
        blocks.append(
            Paragraph(
                (Code(quantity.name), f" ({quantity.unit}): " + " ".join(quantity.description.split()), *condition)
            )
        )
        blocks += layout.equation(layout.printer.formula(quantity.symbol), quantity.expression)
    return blocks


def reduction_section(pack: FormulaPack, layout: MathLayout) -> list[Block]:
    """Each reduction as a sum (or mean) over the elements of its series."""
    if not pack.reductions:
        return []
    names = symbol_names(pack)
    blocks: list[Block] = [
        Heading(1, "Reductions"),
        Paragraph(
            (
                "Outputs of one element of a series (one layer) summed or averaged over its elements; the engine that "
                "runs the pack supplies the elements. Quantities that use a reduction are figures of the whole series.",
            )
        ),
    ]
    for reduction in pack.reductions:
        count = layout.printer.formula(reduction.over)
        total = (
            rf"\sum_{{\ell=1}}^{{{count}}} \left({names.get(reduction.of, symbol_latex(reduction.of))}\right)_{{\ell}}"
        )
        blocks.append(
            Paragraph(
                (
                    Code(reduction.name),
                    f" ({reduction.unit}, {reduction.reduce} of ",
                    Code(reduction.of),
                    "): " + " ".join(reduction.description.split()),
                )
            )
        )
        blocks += layout.equation(
            layout.printer.formula(reduction.symbol),
            total if reduction.reduce == "sum" else rf"\frac{{1}}{{{count}}} {total}",
        )
    return blocks


def status_section(terms: Iterable[TermSpec]) -> list[Block]:
    """Proxy and out-of-scope terms with their reasons (each term once)."""
    blocks: list[Block] = [
        Heading(1, "Proxy and out-of-scope terms"),
        Paragraph(
            (
                "A proxy term is approximated by a named stand-in; an out-of-scope term is declared and counted as zero. "
                "Both are listed in every report.",
            )
        ),
    ]
    unique = {term.name: term for term in terms}
    for status, title in STATUS_TITLES.items():
        listed = [term for term in unique.values() if term.status == status]
        blocks.append(Heading(2, title))
        if not listed:
            blocks.append(Paragraph(("None.",)))
            continue
        rows = [
            ((Code(term.name),), (", ".join(term.phases),), (" ".join((term.reason or "").split()),)) for term in listed
        ]
        blocks.append(Table(("Term", "Phases", "Reason"), tuple(rows), (0.3, 0.2, 0.4)))
    return blocks


def limits_section(pack: FormulaPack, printer: AuditPrinter) -> list[Block]:
    if not pack.limits:
        return []
    items = [
        (
            Code(limit.name),
            ": ",
            Math(printer.formula(limit.expression) + r" \leq " + printer.formula(limit.maximum)),
            f" ({limit.message})",
        )
        for limit in pack.limits
    ]
    return [Heading(1, "Limits"), Paragraph(("Points outside these limits are refused:",)), Bullets(tuple(items))]
