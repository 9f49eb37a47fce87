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

The lookup itself (paths, defaults, categories, units) is
:mod:`symcost.binder_core`, apart from SymPy: this module gives it SymPy's
exact numbers (:class:`ExactNumbers`); the llm pack's warm path gives it
fractions, so that it binds by the same rules without importing SymPy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import sympy as sp

from .binder_core import BoundValue, bind_spec, bind_specs
from .distributions import Table, expected, table_from_mapping
from .errors import InputError, InputIssue
from .input_tree import InputTree
from .pack import FormulaPack, SymbolSpec

__all__ = ["BoundValue", "Bindings", "LayerGroup", "bind_one", "bind_symbols", "resolve_formulas", "resolved"]


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


class ExactNumbers:
    """Bound values as SymPy expressions: the decimals files wrote as exact rationals."""

    def exact(self, number: float | int, si_factor: float) -> sp.Expr:
        return _exact(number) * _factor(si_factor)

    def inexact(self, number: float, si_factor: float) -> sp.Expr:
        return sp.Float(number) * sp.Float(si_factor)

    def default(self, default: Any, si_factor: float) -> tuple[sp.Expr, sp.Expr | None]:
        if isinstance(default, sp.Basic):
            return default, None if default.is_number else default
        return self.exact(default, si_factor), None

    def expression(self, found: Any) -> sp.Basic | None:
        return found if isinstance(found, sp.Basic) else None

    def table(self, spec: SymbolSpec, mapping: Mapping) -> Table:
        return table_from_mapping(spec.table, mapping)


EXACT = ExactNumbers()


def bind_symbols(
    pack: FormulaPack, tree: InputTree, *, skip: frozenset[str] = frozenset()
) -> dict[sp.Symbol, BoundValue]:
    """Values of every symbol of ``pack`` that has a binding (or a default), except symbols named in
    ``skip``; every problem is raised at once as an :class:`InputError`."""
    bound = bind_specs(pack.symbols.values(), tree, pack.name, EXACT, skip)
    return {pack.symbols[name].symbol: value for name, value in bound.items()}


def bind_one(spec: SymbolSpec, tree: InputTree, pack_name: str = "") -> BoundValue:
    """The value of one symbol: the first of its paths present, else its default."""
    return bind_spec(spec, tree, pack_name, EXACT)


def resolve_formulas(
    values: dict[sp.Symbol, BoundValue], keep: frozenset[sp.Symbol] = frozenset()
) -> dict[sp.Symbol, BoundValue]:
    """``values`` with every bound formula (a default such as ``expected(P, a + 1)``) given the values of the
    bound symbols it uses, except those in ``keep``, which stay symbols (evaluator inputs). A table is always
    substituted; an expectation over a table that is not bound is an error naming it."""
    substitutions = {
        symbol: bound.value for symbol, bound in values.items() if symbol not in keep or isinstance(bound.value, Table)
    }
    resolved_values = {}
    for symbol, bound in values.items():
        value = _substituted(bound.value, substitutions)
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
        resolved_values[symbol] = replace(bound, value=value)
    return resolved_values


def resolved(pack: FormulaPack, values: dict[sp.Symbol, sp.Expr], *, derived: bool = False) -> dict[sp.Symbol, sp.Expr]:
    """Bound ``values`` with the defaults that are formulas over other symbols (bound ones, or derived
    ones over bound ones) resolved to numbers; with ``derived``, every derived symbol's value too."""
    specs = list(pack.symbols.values())
    wanted = set().union(*(value.free_symbols for value in values.values()))
    for spec in reversed(specs):  # the derived symbols a default uses, and those they use
        if spec.definition is not None and (derived or spec.symbol in wanted):
            wanted |= spec.definition.free_symbols | {spec.symbol}
    table = dict(values)
    # A pack's defaults and derived symbols use symbols declared before them: in declaration order each formula
    # meets values already resolved. A reader's own expression may use any bound symbol, declared later too.
    for spec in specs:
        formula = spec.definition if spec.symbol in wanted and spec.definition is not None else table.get(spec.symbol)
        if formula is not None and formula.free_symbols:
            table[spec.symbol] = _substituted(formula, table)
    return table if derived else {symbol: table[symbol] for symbol in values}


def _substituted(expression: sp.Basic, substitutions: Mapping[sp.Symbol, sp.Basic]) -> sp.Basic:
    """``expression`` with ``substitutions`` put in until nothing changes (a value may use other values)."""
    for _ in range(len(substitutions)):  # an acyclic chain is at most this long; a cyclic one stops here
        replaced = expression.xreplace(substitutions)
        if replaced == expression:
            break
        expression = replaced
    return expression


def _exact(number: float | int) -> sp.Rational:
    # The decimal the file wrote, exactly: 0.2 is 1/5, so N (1 - rho) is an exact integer where it should be.
    return sp.Rational(repr(number)) if isinstance(number, float) else sp.Integer(number)


def _factor(si_factor: float) -> sp.Expr:
    return sp.Integer(1) if si_factor == 1 else sp.Rational(repr(si_factor))
