"""What binding a scenario needs of the llm pack, kept as checked JSON so a warm run needs no SymPy.

Parsing formulas/llm.yaml into SymPy and building its chain took most of a warm ``llm estimate``
(importing SymPy 0.5 s, the pack 0.4 s), only to read each symbol's unit, bindings, default and
domain, the evaluator's input and output names, and a few small formulas (``d / H``,
``Max(S_0 + S_p, S_d) + S_g``). :func:`pack_symbols` keeps those in the evaluator cache
(:mod:`symcost.cache`), keyed by the pack file's bytes, symcost's source and SymPy's version file; the
formulas are JSON trees (:mod:`.formula_tree`). :meth:`PackSymbols.bind` binds by the binder's own
rules (:mod:`symcost.binder_core`) on exact fractions, so every number is the one SymPy's exact
binder gives: the file's decimal times the unit's factor, rounded to a float once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ...binder_core import BoundValue, bind_specs
from ...cache import CacheEntry, input_key, version_file
from ...errors import SymcostError
from ...input_tree import InputTree
from .formula_tree import Value, evaluate, to_tree

if TYPE_CHECKING:
    from ...chain import Chain
    from ...pack import SymbolSpec

RECIPE = "llm pack symbols 1"


@dataclass(frozen=True)
class Formula:
    """A default that is a formula, as a tree: over other symbols, or ``constant`` (a number such as NaN,
    which the binder takes as it is, not times the symbol's unit)."""

    tree: Any
    constant: bool = False


class Choice(NamedTuple):
    """One alternative of a default: it applies when the inputs give ``given`` (or always, without one)."""

    value: Any
    given: str | None


@dataclass(frozen=True)
class PackSymbol:
    """One symbol as the binder reads it (the fields of :class:`symcost.pack.SymbolSpec` it uses)."""

    name: str
    unit: str
    source: str
    dimension: tuple[int, ...]
    binding: str | tuple[str, ...] | None
    default: Any  # a number in ``unit``, a Formula, or a tuple of Choices
    reinterpret_unit: str | None
    categories: tuple[tuple[str, float], ...]
    definition: Any  # a derived symbol's formula tree
    table: None = None  # table symbols are refused: the llm pack has none

    @property
    def binding_paths(self) -> tuple[str, ...]:
        if self.binding is None:
            return ()
        return self.binding if isinstance(self.binding, tuple) else (self.binding,)


class FractionNumbers:
    """Bound values as exact fractions (:class:`symcost.binder_core.Numbers`)."""

    def exact(self, number: float | int, si_factor: float) -> Fraction:
        return _fraction(number) * (1 if si_factor == 1 else _fraction(si_factor))

    def inexact(self, number: float, si_factor: float) -> float:
        return float(number) * float(si_factor)

    def default(self, default: Any, si_factor: float) -> tuple[Any, Any]:
        if isinstance(default, Formula):
            return default, None if default.constant else default
        return self.exact(default, si_factor), None

    def expression(self, found: Any) -> None:
        return None  # a scenario's tree holds numbers and words only

    def table(self, spec: Any, mapping: Mapping) -> Any:
        raise ValueError(f"{spec.name} is a table symbol, which the llm pack does not have")


FRACTIONS = FractionNumbers()


def _fraction(number: float | int) -> Fraction:
    # The decimal the file wrote, exactly, as symcost.binder takes it (0.2 is 1/5).
    return Fraction(repr(number)) if isinstance(number, float) else Fraction(number)


@dataclass
class ScenarioNumbers:
    """A scenario's bound values, and the numbers of bound and derived symbols (resolved when asked for)."""

    symbols: PackSymbols
    bound: dict[str, BoundValue]
    _values: dict[str, Value] = field(default_factory=dict)

    def number(self, name: str) -> float:
        """The value of a bound or derived symbol, in SI."""
        return float(self._value(name, ()))

    def numbers(self, names: Iterable[str]) -> dict[str, float]:
        return {name: self.number(name) for name in names}

    def _value(self, name: str, using: tuple[str, ...]) -> Value:
        if name not in self._values:
            if name in using:
                raise SymcostError(f"the pack's formulas for {' -> '.join((*using, name))} use each other")
            definition = self.symbols.symbols[name].definition
            if name not in self.bound and definition is None:
                raise KeyError(f"{name} is neither bound nor derived")
            value = self.bound[name].value if name in self.bound else Formula(definition)
            if isinstance(value, Formula):
                value = evaluate(value.tree, lambda other: self._value(other, (*using, name)))
            self._values[name] = value
        return self._values[name]


@dataclass(frozen=True)
class PackSymbols:
    """The llm pack's symbols, and its evaluator's input and output names, without SymPy."""

    name: str
    symbols: dict[str, PackSymbol]
    input_names: tuple[str, ...]
    quantity_names: tuple[str, ...]

    def bind(self, tree: InputTree, source: str | None = None) -> ScenarioNumbers:
        """The values of the pack's bound symbols (of one ``source``, or all) for ``tree``, with the
        errors of :func:`symcost.binder.bind_symbols`."""
        specs = [spec for spec in self.symbols.values() if source in (None, spec.source)]
        return ScenarioNumbers(self, bind_specs(specs, tree, self.name, FRACTIONS))

    def bound_to(self, path: str) -> PackSymbol:
        """The symbol whose first binding is ``path``."""
        found = next((spec for spec in self.symbols.values() if spec.binding_paths[:1] == (path,)), None)
        if found is None:
            raise KeyError(f"no symbol of pack {self.name} is bound to {path}")
        return found


def pack_symbols(pack_path: str, chain: Callable[[], Chain]) -> PackSymbols:
    """The pack's symbols, from the cache when it holds them; ``chain()`` gives the pack's chain otherwise."""
    build = lambda: symbols_data(chain())  # noqa: E731
    entry = CacheEntry.for_key(
        input_key([RECIPE], [("pack", Path(pack_path)), ("sympy", version_file("sympy", "release.py"))])
    )
    data = entry.remember("symbols", build) if entry else build()
    try:
        return from_data(data)
    except (KeyError, TypeError, ValueError):  # not the form this code writes: build it afresh
        return from_data(build())


def symbols_data(chain: Chain) -> dict[str, Any]:
    """The JSON form of what :class:`PackSymbols` holds, from the pack's chain."""
    return {
        "name": chain.pack.name,
        "symbols": [_symbol_data(spec) for spec in chain.pack.symbols.values()],
        "inputs": [spec.name for spec in chain.inputs],
        "quantities": list(chain.quantity_names),
    }


def _symbol_data(spec: SymbolSpec) -> dict[str, Any]:
    if spec.table is not None:
        raise SymcostError(f"symbol {spec.name} is a table, which the warm llm binder does not take")
    return {
        "name": spec.name,
        "unit": spec.unit,
        "source": spec.source,
        "dimension": list(spec.dimension),
        "binding": list(spec.binding) if isinstance(spec.binding, tuple) else spec.binding,
        "default": _default_data(spec.default),
        "reinterpret_unit": spec.reinterpret_unit,
        "categories": [list(pair) for pair in spec.categories],
        "definition": None if spec.definition is None else to_tree(spec.definition),
    }


def _default_data(default: Any) -> Any:
    import sympy as sp

    if default is None:
        return None
    if isinstance(default, tuple):
        return {"choices": [{"value": _default_data(choice.value), "given": choice.given} for choice in default]}
    if isinstance(default, sp.Basic):
        # A formula that is a number is the value itself, as the SymPy binder keeps it (not times the unit).
        return {"constant" if default.is_number else "formula": to_tree(default)}
    return {"number": default}


def from_data(data: dict[str, Any]) -> PackSymbols:
    """:class:`PackSymbols` from its JSON form (ValueError, KeyError or TypeError when it is not that)."""
    symbols = {}
    for raw in data["symbols"]:
        binding = raw["binding"]
        symbols[raw["name"]] = PackSymbol(
            str(raw["name"]),
            str(raw["unit"]),
            str(raw["source"]),
            tuple(int(power) for power in raw["dimension"]),
            tuple(map(str, binding)) if isinstance(binding, list) else binding,
            _default(raw["default"]),
            raw["reinterpret_unit"],
            tuple((str(word), number) for word, number in raw["categories"]),
            raw["definition"],
        )
    return PackSymbols(str(data["name"]), symbols, tuple(data["inputs"]), tuple(data["quantities"]))


def _default(raw: dict[str, Any] | None) -> Any:
    if raw is None:
        return None
    if "number" in raw:
        return raw["number"]
    if "choices" in raw:
        return tuple(Choice(_default(choice["value"]), choice["given"]) for choice in raw["choices"])
    return Formula(raw["formula"]) if "formula" in raw else Formula(raw["constant"], constant=True)
