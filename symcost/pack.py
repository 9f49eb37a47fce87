"""Formula packs: cost models as data.

A pack declares symbols (name, unit, source, description, LaTeX) and terms
(a formula with phases, stage, component, feature, channel and status).
Loading validates the file against ``schemas/formula-pack.schema.json``,
parses every formula with the whitelist parser, resolves derived symbols,
and checks that each term has the dimension its ``quantity`` promises.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from .dimensions import DimensionError, dimension_of
from .errors import FormulaError, InputError, InputIssue
from .formula import is_valid_name, parse_formula
from .inputs.checked import checked_document
from .units import Dimension, describe_dimension, parse_unit

QUANTITY_UNITS = {"energy": "J", "latency": "s", "area": "m^2", "power": "W", "bytes": "B", "count": "1"}
_DOMAINS = {
    "real": {"real": True}, "nonnegative": {"nonnegative": True}, "positive": {"positive": True},
    "integer": {"integer": True}, "nonnegative_integer": {"integer": True, "nonnegative": True},
    "positive_integer": {"integer": True, "positive": True},
}


@dataclass(frozen=True)
class SymbolSpec:
    name: str
    description: str
    unit: str
    source: str
    symbol: sp.Symbol
    dimension: Dimension
    binding: str | None = None
    definition: sp.Expr | None = None
    latex: str | None = None
    provenance: str | None = None


@dataclass(frozen=True)
class TermSpec:
    name: str
    quantity: str
    expression: sp.Expr
    text: str
    phases: tuple[str, ...]
    stage: str
    component: str | None
    feature: str | None
    channel: str
    status: str
    reason: str | None = None
    provenance: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class FormulaPack:
    name: str
    version: int
    description: str
    symbols: dict[str, SymbolSpec]
    terms: tuple[TermSpec, ...]
    vocabulary: dict[str, tuple[str, ...]]
    source: str

    def expanded(self, term: TermSpec) -> sp.Expr:
        """The term with every derived symbol replaced by its definition."""
        return term.expression.subs(self.derived_substitutions(), simultaneous=False)

    def derived_substitutions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        # Later derived symbols may use earlier ones: substitute newest first.
        derived = [spec for spec in self.symbols.values() if spec.definition is not None]
        return [(spec.symbol, spec.definition) for spec in reversed(derived)]


def load_pack(path: str | Path) -> FormulaPack:
    document = checked_document(path, "formula-pack")
    return _PackBuilder(document.data, document.label, str(path)).build()


class _PackBuilder:
    def __init__(self, data: dict, label: str, source: str):
        self.data = data
        self.label = label
        self.source = source
        self.issues: list[InputIssue] = []
        self.symbols: dict[str, SymbolSpec] = {}

    def issue(self, path: str, message: str) -> None:
        self.issues.append(InputIssue(self.label, path, message))

    def build(self) -> FormulaPack:
        for index, raw in enumerate(self.data["symbols"]):
            self.add_symbol(index, raw)
        terms = tuple(term for index, raw in enumerate(self.data["terms"]) if (term := self.make_term(index, raw)))
        if self.issues:
            raise InputError(self.issues)
        vocabulary = {key: tuple(self.data.get(key, ())) for key in ("phases", "stages", "components", "features")}
        return FormulaPack(self.data["pack"], self.data["version"], self.data["description"], self.symbols, terms,
                           vocabulary, self.source)

    def add_symbol(self, index: int, raw: dict) -> None:
        where = f"symbols[{index}]"
        name = raw["name"]
        if not is_valid_name(name):
            return self.issue(f"{where}.name", f"{name!r} is reserved (dunder or a function name)")
        if name in self.symbols:
            return self.issue(f"{where}.name", f"symbol {name!r} is declared twice")
        try:
            unit = parse_unit(raw["unit"])
        except ValueError as exc:
            return self.issue(f"{where}.unit", str(exc))
        symbol = sp.Symbol(name, **_DOMAINS[raw.get("domain", "nonnegative")])
        definition = None
        if raw["source"] == "derived":
            definition = self.parse(raw["expression"], f"{where}.expression", name)
            if definition is None:
                return
            if not self.has_dimension(definition, unit.dimension, f"{where}.expression", f"unit {raw['unit']}"):
                return
        self.symbols[name] = SymbolSpec(name, raw["description"], raw["unit"], raw["source"], symbol, unit.dimension,
                                        raw.get("binding"), definition, raw.get("latex"), raw.get("provenance"))

    def parse(self, text: str, where: str, name: str) -> sp.Expr | None:
        try:
            return parse_formula(text, {spec.name: spec.symbol for spec in self.symbols.values()}, name=name)
        except FormulaError as error:
            self.issue(where, str(error))
            return None

    def has_dimension(self, expression: sp.Expr, expected: Dimension, where: str, promised: str) -> bool:
        table = {spec.symbol: spec.dimension for spec in self.symbols.values()}
        try:
            found = dimension_of(expression, table)
        except DimensionError as exc:
            self.issue(where, f"dimension error: {exc}")
            return False
        if found != expected and expression != 0:
            self.issue(where, f"expected {describe_dimension(expected)} ({promised}), "
                       f"but the formula is {describe_dimension(found)}")
            return False
        return True

    def make_term(self, index: int, raw: dict) -> TermSpec | None:
        where = f"terms[{index}]"
        self.check_vocabulary(where, raw)
        expression = self.parse(raw["expression"], f"{where}.expression", raw["name"])
        if expression is None:
            return None
        quantity = raw["quantity"]
        if not self.has_dimension(expression, parse_unit(QUANTITY_UNITS[quantity]).dimension,
                                  f"{where}.expression", f"quantity {quantity}"):
            return None
        return TermSpec(raw["name"], quantity, expression, raw["expression"], tuple(raw["phases"]), raw["stage"],
                        raw.get("component"), raw.get("feature"), raw["channel"], raw["status"],
                        raw.get("reason"), raw.get("provenance"), raw.get("description"))

    def check_vocabulary(self, where: str, raw: dict) -> None:
        checks = [("phases", phase, f"{where}.phases") for phase in raw["phases"]]
        checks += [(vocabulary, raw[key], f"{where}.{key}") for key, vocabulary in
                   (("stage", "stages"), ("component", "components"), ("feature", "features")) if key in raw]
        for vocabulary, value, path in checks:
            allowed = self.data.get(vocabulary, [])
            if value not in allowed:
                close = difflib.get_close_matches(value, allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                self.issue(path, f"{value!r} is not among the pack's {vocabulary} ({', '.join(allowed) or 'none declared'}){hint}")
