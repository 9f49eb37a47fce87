"""The chain-of-quantities engine: a pack's terms and quantities as closed forms over its inputs.

For a pack without a burst structure (no ``index``), every term is one
expression over symbols, and every quantity a formula over symbols, terms
(by name) and the quantities before it. Derived symbols are expanded and
constants folded to numbers; what remains are the pack's inputs: symbols a
binding, a default or an axis supplies. Alternatives of one quantity carry a
``when``: the first whose condition is not zero holds. Quantities that use a
reduction (figures of a whole series, such as a net speedup from total
cycles) are kept apart in :attr:`Chain.series`: an engine that knows the
series' elements evaluates them (:mod:`symcost.reductions`).

:func:`build_chain` derives the :class:`Chain` once per pack; its
:meth:`Chain.compile` gives one vectorised evaluator of every term and
quantity (the quantities computed in order, each once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import sympy as sp

from .compile import Evaluator, compile_outputs
from .pack import QUANTITY_UNITS, FormulaPack, QuantitySpec, SymbolSpec
from .units import parse_unit, si_unit_text

NOT_INPUTS = frozenset({"derived", "constant", "outcome"})  # outcomes are summed over, never given


@dataclass(frozen=True)
class Chain:
    pack: FormulaPack
    inputs: tuple[SymbolSpec, ...]  # in declaration order
    terms: dict[str, sp.Expr]  # term -> expression over the inputs
    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...]  # quantity symbol -> formula over inputs and earlier quantities
    units: dict[str, str]  # output (and series quantity, reduction) -> its SI unit
    constants: dict[sp.Symbol, sp.Expr]  # constant symbols' exact SI values
    series: tuple[
        tuple[sp.Symbol, sp.Expr], ...
    ] = ()  # series quantity -> formula over reductions, inputs and earlier ones

    def resolve(self, expression: sp.Expr) -> sp.Expr:
        """A formula of the pack (a limit's, say) over the inputs: derived symbols expanded, constants folded."""
        return self.pack.expanded(expression).xreplace(self.constants)

    @property
    def quantity_names(self) -> tuple[str, ...]:
        return tuple(symbol.name for symbol, _ in self.definitions)

    @property
    def output_names(self) -> tuple[str, ...]:
        return (*self.terms, *self.quantity_names)

    def outputs(self, names: Sequence[str] | None = None) -> dict[str, sp.Expr]:
        """Each output's expression (quantities by their symbol, defined by :attr:`definitions`)."""
        quantities = {symbol.name: symbol for symbol, _ in self.definitions}
        chosen = names if names is not None else self.output_names
        return {name: self.terms[name] if name in self.terms else quantities[name] for name in chosen}

    def closed_form(self, name: str, fixed: dict[sp.Symbol, sp.Expr] | None = None) -> sp.Expr:
        """One output with every quantity it uses inlined: an expression over the inputs alone; with
        ``fixed``, those inputs replaced by their values (before inlining: the nested Max and Piecewise
        of a long chain then fold to numbers instead of growing)."""
        output = self.outputs([name])[name]
        if fixed is None:
            return output.xreplace(self._inlined)
        table = dict(fixed)
        for symbol, expression in _needed(list(self.definitions), {name: output}):
            table[symbol] = expression.xreplace(table)
        return output.xreplace(table)

    @cached_property
    def _inlined(self) -> dict[sp.Symbol, sp.Expr]:
        inlined: dict[sp.Symbol, sp.Expr] = {}
        for symbol, expression in self.definitions:
            inlined[symbol] = expression.xreplace(inlined)
        return inlined

    def compile(
        self,
        names: Sequence[str] | None = None,
        inputs: Sequence[sp.Symbol] | None = None,
        fixed: dict[sp.Symbol, sp.Expr] | None = None,
        extra: dict[str, sp.Expr] | None = None,
    ) -> Evaluator:
        """One evaluator of ``names`` (default: every output) and of the ``extra`` expressions over
        ``inputs`` (default: every input symbol), the symbols in ``fixed`` replaced by their values first."""
        fixed = fixed or {}
        outputs = {
            name: expression.xreplace(fixed) for name, expression in {**self.outputs(names), **(extra or {})}.items()
        }
        definitions = [(symbol, expression.xreplace(fixed)) for symbol, expression in self.definitions]
        arguments = list(inputs) if inputs is not None else [spec.symbol for spec in self.inputs]
        return compile_outputs(outputs, arguments, _needed(definitions, outputs))

    def compile_series(self, inputs: Sequence[sp.Symbol]) -> Evaluator:
        """One evaluator of the series quantities over the pack's reductions (by name) and ``inputs``."""
        arguments = [reduction.symbol for reduction in self.pack.reductions] + list(inputs)
        return compile_outputs({symbol.name: symbol for symbol, _ in self.series}, arguments, list(self.series))

    def scalar_function(self) -> Callable[..., Sequence[float]]:
        """Every quantity on Python floats (math module): one scenario without array overhead."""
        arguments = [spec.symbol for spec in self.inputs]
        chain = list(self.definitions)
        return sp.lambdify(
            arguments, [symbol for symbol, _ in chain], modules="math", cse=lambda outputs: (chain, outputs)
        )


def build_chain(pack: FormulaPack) -> Chain:
    """The pack's terms and quantities over its inputs (derived symbols expanded, constants folded)."""
    constants = {
        spec.symbol: sp.nsimplify(spec.value) * _factor(spec.unit)
        for spec in pack.symbols.values()
        if spec.source == "constant"
    }
    inputs = tuple(spec for spec in pack.symbols.values() if spec.source not in NOT_INPUTS)

    def closed(expression: sp.Expr) -> sp.Expr:
        return pack.expanded(expression).xreplace(constants)

    terms = {term.name: closed(term.expression) for term in pack.terms}
    units = {term.name: si_unit_text(parse_unit(QUANTITY_UNITS[term.quantity]).dimension) for term in pack.terms}
    units.update((reduction.name, si_unit_text(parse_unit(reduction.unit).dimension)) for reduction in pack.reductions)
    definitions, series = [], []
    for name, alternatives in _alternatives(pack.quantities).items():
        (series if alternatives[0].series else definitions).append(
            (alternatives[0].symbol, closed(_chosen(alternatives)))
        )
        units[name] = si_unit_text(parse_unit(alternatives[0].unit).dimension)
    chain = Chain(pack, inputs, terms, tuple(definitions), units, constants)
    # A series quantity may use per-element quantities that no axis drives (a bytes-per-cycle figure): inline them.
    return replace(chain, series=tuple((symbol, expression.xreplace(chain._inlined)) for symbol, expression in series))


def _alternatives(quantities: Sequence[QuantitySpec]) -> dict[str, list[QuantitySpec]]:
    grouped: dict[str, list[QuantitySpec]] = {}
    for quantity in quantities:
        grouped.setdefault(quantity.name, []).append(quantity)
    return grouped


def _chosen(alternatives: list[QuantitySpec]) -> sp.Expr:
    """One quantity's formula, or its alternatives as a Piecewise on their ``when`` (nan where none holds)."""
    if len(alternatives) == 1 and alternatives[0].when is None:
        return alternatives[0].expression
    pieces = [
        (quantity.expression, True if quantity.when is None else sp.Ne(quantity.when, 0)) for quantity in alternatives
    ]
    if pieces[-1][1] is not True:
        pieces.append((sp.nan, True))
    return sp.Piecewise(*pieces)


def _factor(unit: str) -> sp.Expr:
    factor = parse_unit(unit).si_factor
    return sp.Integer(1) if factor == 1 else sp.Rational(repr(factor))


def _needed(definitions: list[tuple[sp.Symbol, sp.Expr]], outputs: dict[str, sp.Expr]):
    """Only the definitions the outputs use, directly or through later definitions."""
    needed = set().union(*(expression.free_symbols for expression in outputs.values()))
    kept = []
    for symbol, expression in reversed(definitions):
        if symbol in needed:
            needed |= expression.free_symbols
            kept.append((symbol, expression))
    return kept[::-1]
