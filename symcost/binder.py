"""The binder: a pack's bound symbols get their values from an :class:`~symcost.input_tree.InputTree`.

A symbol's ``binding`` is a dotted path into the tree, or a list of paths
tried in order (the first present wins: a fallback). The value found is

* a number, in the unit its field's name implies (``mem_bw_gbps`` is GB/s,
  ``energy_pj`` pJ: :func:`symcost.units.field_unit`), else in the symbol's
  own unit (or always in the symbol's unit when it declares ``reinterpret_unit``);
* a quantity text such as ``'2 TB/s'``, converted to the symbol's unit;
* a word the symbol's ``categories`` map to a number (``mlp: gated`` -> 3);
* ``true``/``false`` (1/0), or a :class:`~symcost.input_tree.Measured` leaf a
  pack's reader put there, or an expression a reader derived;
* for a table symbol (``table: <outcome>``), a mapping outcome -> weight,
  which becomes a :class:`~symcost.distributions.Table` of exact probabilities.

Numbers become exact rationals (the decimal the file wrote) times the unit's
factor to SI; a unit of another dimension than the symbol's is an error. A
path that is absent takes the symbol's ``default``: a number in its unit, a
formula over other symbols (:func:`resolved` turns it into a number once the
others are bound), NaN for ``unknown``, or the first of its alternatives whose
``given`` path the inputs hold. With none, the error names the path, the
inputs and the closest paths present; a table without its path stays unbound
(a pack picks between forms of its inputs with ``given``).
:func:`resolve_formulas` puts the bound values into the formulas among them
and keeps an evaluator's inputs symbolic.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp

from .distributions import Table, TableError, expected, table_from_mapping
from .errors import InputError, InputIssue
from .input_tree import MISSING, InputTree, Measured
from .pack import FormulaPack, SymbolSpec
from .units import field_unit, parse_unit, to_unit

UNBOUND_SOURCES = frozenset({"derived", "constant", "engine", "layer", "outcome"})


@dataclass(frozen=True)
class BoundValue:
    """A symbol's value in SI units, with where it came from (and the number and unit as written)."""

    value: sp.Expr
    provenance: str
    source_unit: str | None = None
    source_value: float | None = None
    formula: sp.Expr | None = None  # the pack's formula the value comes from (a default), for audits


@dataclass(frozen=True)
class LayerGroup:
    """Layers of a burst-structured pack that share their layer-symbol values (a draft policy): how many,
    and those values."""

    count: int
    values: dict[sp.Symbol, sp.Expr]
    label: str


@dataclass(frozen=True)
class Bindings:
    """What the burst-accounting engine takes: every bound value, and the layer groups."""

    values: dict[sp.Symbol, BoundValue]
    groups: tuple[LayerGroup, ...]

    def substitutions(self, keep: frozenset[sp.Symbol] = frozenset()) -> dict[sp.Symbol, sp.Expr]:
        return {symbol: bound.value for symbol, bound in self.values.items() if symbol not in keep}


def bind_symbols(
    pack: FormulaPack, tree: InputTree, *, skip: frozenset[str] = frozenset()
) -> dict[sp.Symbol, BoundValue]:
    """Values of every symbol of ``pack`` that has a binding (or a default), except symbols named in
    ``skip``; every problem is raised at once as an :class:`InputError`."""
    values: dict[sp.Symbol, BoundValue] = {}
    issues: list[InputIssue] = []
    for spec in pack.symbols.values():
        if spec.source in UNBOUND_SOURCES or spec.name in skip or (spec.binding is None and spec.default is None):
            continue
        if spec.table is not None and not _given(tree, spec.binding_paths):
            continue
        try:
            values[spec.symbol] = bind_one(spec, tree, pack.name)
        except _BindingProblem as problem:
            issues.append(InputIssue(problem.where, f"symbol {spec.name}", str(problem)))
    if issues:
        raise InputError(issues)
    return values


class _BindingProblem(Exception):
    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


def bind_one(spec: SymbolSpec, tree: InputTree, pack_name: str = "") -> BoundValue:
    """The value of one symbol: the first of its paths present, else its default."""
    paths = list(spec.binding_paths)
    for path in paths:
        found = tree.lookup(path)
        if found is not MISSING and found is not None:
            return _converted(spec, found, path, tree)
    default, chosen = _chosen_default(spec, tree)
    if default is not None:
        value = default if isinstance(default, sp.Basic) else _exact(default) * _factor(parse_unit(spec.unit).si_factor)
        absent = " or ".join(paths)
        where = [f"{absent} not given"] if paths else []
        where += [f"{chosen} given"] if chosen else []
        return BoundValue(
            value,
            f"pack default for {spec.name}{' (' + '; '.join(where) + ')' if where else ''}",
            formula=value if isinstance(default, sp.Basic) and not value.is_number else None,
        )
    hints = [close for path in paths for close in tree.closest(path)]
    hint = f"; did you mean {', '.join(dict.fromkeys(hints))}?" if hints else ""
    where = ", ".join(dict.fromkeys(tree.origins.values())) or "the inputs"
    raise _BindingProblem(
        where if tree.origins else (pack_name or "inputs"),
        f"needs {' or '.join(paths)} (in {spec.unit}), which the inputs do not give{hint}",
    )


def _given(tree: InputTree, paths: tuple[str, ...]) -> bool:
    return any(tree.lookup(path) not in (MISSING, None) for path in paths)


def _chosen_default(spec: SymbolSpec, tree: InputTree) -> tuple[Any, str | None]:
    """The default that applies, and the path that chose it (an alternative's ``given``)."""
    if not isinstance(spec.default, tuple):
        return spec.default, None
    for choice in spec.default:
        if choice.given is None or _given(tree, (choice.given,)):
            return choice.value, choice.given
    return None, None


def resolve_formulas(
    values: dict[sp.Symbol, BoundValue], keep: frozenset[sp.Symbol] = frozenset()
) -> dict[sp.Symbol, BoundValue]:
    """``values`` with every bound formula (a default such as ``expected(P, a + 1)``) given the values of the
    bound symbols it uses, except those in ``keep``, which stay symbols (evaluator inputs). A table is always
    substituted; an expectation over a table that is not bound is an error naming it."""
    numbers = {
        symbol: bound.value for symbol, bound in values.items() if symbol not in keep or isinstance(bound.value, Table)
    }
    resolved = dict(values)
    for symbol, bound in values.items():
        value = bound.value
        for _ in range(len(values)):  # formulas may use formulas: substitute until nothing changes
            substituted = value.xreplace(numbers)
            if substituted == value:
                break
            value = substituted
        unbound = sorted({str(node.args[0]) for node in value.atoms(expected) if not isinstance(node.args[0], Table)})
        if unbound:
            raise InputError(
                [
                    InputIssue(
                        "inputs",
                        f"symbol {symbol}",
                        f"takes an expectation over {', '.join(unbound)}, which the inputs do not give",
                    )
                ]
            )
        resolved[symbol] = BoundValue(value, bound.provenance, bound.source_unit, bound.source_value, bound.formula)
    return resolved


def _converted(spec: SymbolSpec, found: Any, path: str, tree: InputTree) -> BoundValue:
    origin = tree.origin(path)
    if spec.table is not None:
        if not isinstance(found, Mapping):
            raise _BindingProblem(
                origin.split(":")[0],
                f"{path}: expected a mapping outcome -> weight (a histogram), got a {type(found).__name__}",
            )
        try:
            return BoundValue(table_from_mapping(spec.table, found), origin)
        except TableError as error:
            raise _BindingProblem(origin.split(":")[0], f"{path}: {error}") from None
    if isinstance(found, sp.Basic):
        return BoundValue(found, origin)
    if isinstance(found, Measured):
        if isinstance(found.value, sp.Basic):  # a reader's derived value (E[a+1] as a formula in K)
            return BoundValue(found.value, found.provenance)
        return _from_number(spec, found.value, found.unit, found.provenance, path, exact=found.exact)
    if isinstance(found, bool):
        return BoundValue(sp.Integer(int(found)), origin, "1", int(found))
    if isinstance(found, (int, float)):
        leaf = path.rsplit(".", 1)[-1]
        unit = spec.unit if spec.reinterpret_unit else field_unit(leaf) or spec.unit
        return _from_number(spec, found, unit, origin, path)
    if isinstance(found, str) and spec.categories:
        return _category(spec, found, path, origin)
    if isinstance(found, str):
        try:
            number = to_unit(found, parse_unit(spec.unit))
        except ValueError as error:
            raise _BindingProblem(origin.split(":")[0], f"{path}: {error}") from None
        return BoundValue(_exact(number) * _factor(parse_unit(spec.unit).si_factor), origin, spec.unit, number)
    raise _BindingProblem(
        origin.split(":")[0],
        f"{path}: expected a number or a quantity such as '2 {spec.unit}', got a {type(found).__name__}",
    )


def _category(spec: SymbolSpec, word: str, path: str, origin: str) -> BoundValue:
    """The number a word stands for (``mlp: gated`` -> 3 weight matrices), from the symbol's ``categories``."""
    numbers = dict(spec.categories)
    if word not in numbers:
        close = difflib.get_close_matches(word, list(numbers), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise _BindingProblem(origin.split(":")[0], f"{path}: {word!r} is not one of {', '.join(numbers)}{hint}")
    return _from_number(spec, numbers[word], spec.unit, f"{origin} = {word}", path)


def _from_number(
    spec: SymbolSpec, number: float, unit_text: str, provenance: str, path: str, exact: bool = True
) -> BoundValue:
    """``number`` in ``unit_text`` as an SI value: exact for the decimals a file wrote; a float for a
    figure a reader computed (a library's interpolated figure carries no exact decimal)."""
    unit = parse_unit(spec.unit if spec.reinterpret_unit else unit_text)
    if unit.dimension != spec.dimension:
        raise _BindingProblem(
            provenance.split(":")[0],
            f"{path} is in {unit_text} ({unit.dimension_name}), but the symbol is in "
            f"{spec.unit} ({parse_unit(spec.unit).dimension_name})",
        )
    value = _exact(number) * _factor(unit.si_factor) if exact else sp.Float(number) * sp.Float(unit.si_factor)
    return BoundValue(value, provenance, unit_text, number)


def resolved(pack: FormulaPack, values: dict[sp.Symbol, sp.Expr], *, derived: bool = False) -> dict[sp.Symbol, sp.Expr]:
    """Bound ``values`` with the defaults that are formulas over other symbols (bound ones, or derived
    ones over bound ones) resolved to numbers; with ``derived``, every derived symbol's value too."""
    specs = list(pack.symbols.values())
    wanted = set().union(*(value.free_symbols for value in values.values()))
    for spec in reversed(specs):  # the derived symbols a default uses, and those they use
        if spec.definition is not None and (derived or spec.symbol in wanted):
            wanted |= spec.definition.free_symbols | {spec.symbol}
    table = dict(values)
    # A pack's defaults and derived symbols use symbols declared before them: one pass in declaration order.
    for spec in specs:
        formula = spec.definition if spec.symbol in wanted and spec.definition is not None else table.get(spec.symbol)
        if formula is not None and formula.free_symbols:
            table[spec.symbol] = formula.xreplace(table)
    # A reader's own expressions may use any bound symbol.
    for _ in range(len(table)):
        pending = {symbol: value for symbol, value in table.items() if value.free_symbols & table.keys()}
        if not pending:
            break
        table.update((symbol, value.xreplace(table)) for symbol, value in pending.items())
    return table if derived else {symbol: table[symbol] for symbol in values}


def _exact(number: float | int) -> sp.Rational:
    # The decimal the file wrote, exactly: 0.2 is 1/5, so N (1 - rho) is an exact integer where it should be.
    return sp.Rational(repr(number)) if isinstance(number, float) else sp.Integer(number)


def _factor(si_factor: float) -> sp.Expr:
    return sp.Integer(1) if si_factor == 1 else sp.Rational(repr(si_factor))
