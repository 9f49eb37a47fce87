"""Formula packs: cost models as data.

A pack declares symbols (name, unit, source, binding, LaTeX), macros, cost
terms (a formula with phases, scope, stage, component, feature, channel and
status) and named quantities built from the terms (e.g. a schedule's burst
latency). Loading validates the file against
``schemas/formula-pack.schema.json``, expands ``for_each`` templates, parses
every formula with the whitelist parser, and checks that each term and
quantity has the dimension it promises.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import sympy as sp

from .aggregates import AGGREGATE_KINDS, AGGREGATE_QUANTITIES, ENGINE_FUNCTIONS, aggregate_name
from .cache_documents import checked_data_of
from .diagnostics import DiagnosticSpec, Threshold
from .dimensions import DimensionError, dimension_of
from .distributions import DISTRIBUTION_FUNCTIONS, expected
from .errors import FormulaError, InputError, InputIssue, SymcostError
from .formula import is_valid_name, parse_formula
from .units import DIMENSIONLESS, Dimension, describe_dimension, field_unit, parse_unit

UNKNOWN = "unknown"  # a symbol default that means "not known" (NaN)
QUANTITY_UNITS = {"energy": "J", "latency": "s", "area": "m^2", "power": "W", "bytes": "B", "count": "1"}
_DOMAINS = {
    "real": {"real": True},
    "nonnegative": {"nonnegative": True},
    "positive": {"positive": True},
    "integer": {"integer": True},
    "nonnegative_integer": {"integer": True, "nonnegative": True},
    "positive_integer": {"integer": True, "positive": True},
}


def domain_of(symbol: sp.Symbol) -> str:
    """The domain word (a key of the pack schema's ``domain``) a symbol was declared with."""
    sign = "positive" if symbol.is_positive else "nonnegative" if symbol.is_nonnegative else ""
    if symbol.is_integer:
        return f"{sign}_integer" if sign else "integer"
    return sign or "real"


@dataclass(frozen=True)
class DefaultChoice:
    """One alternative of a symbol's default: ``value`` (a number or a formula), applying when the inputs give
    the path ``given`` (or always, without one)."""

    value: float | sp.Expr
    given: str | None = None


_REFUSED = object()  # a declaration part with an issue reported


@dataclass(frozen=True)
class SymbolSpec:
    name: str
    description: str
    unit: str
    source: str
    symbol: sp.Symbol
    dimension: Dimension
    binding: str | tuple[str, ...] | None = None  # a path into the inputs, or paths tried in order
    definition: sp.Expr | None = None
    latex: str | None = None
    provenance: str | None = None
    # a number in ``unit``, a formula over earlier symbols, or alternatives (the first whose path is given)
    default: float | sp.Expr | tuple[DefaultChoice, ...] | None = None
    reinterpret_unit: str | None = None
    value: float | None = None
    table: sp.Symbol | None = None  # for a table symbol: the outcome its distribution is over
    categories: tuple[tuple[str, float], ...] = ()  # word at the binding path -> number in ``unit``

    @property
    def binding_paths(self) -> tuple[str, ...]:
        """The paths the value is read from, in the order they are tried."""
        if self.binding is None:
            return ()
        return tuple(self.binding) if isinstance(self.binding, tuple) else (self.binding,)


@dataclass(frozen=True)
class TermSpec:
    name: str
    quantity: str
    expression: sp.Expr
    text: str
    phases: tuple[str, ...]
    channel: str
    status: str
    scope: str = "step"
    stage: str | None = None
    component: str | None = None
    feature: str | None = None
    when: sp.Expr | None = None
    reason: str | None = None
    provenance: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class QuantitySpec:
    name: str
    unit: str
    symbol: sp.Symbol
    expression: sp.Expr
    text: str
    description: str
    when: sp.Expr | None = None
    latex: str | None = None
    scope: str | None = None  # where an engine evaluates it (e.g. the cascade's stage, level, cascade)
    series: bool = False  # a quantity of a whole series: it uses a reduction (see ReductionSpec)
    component: str | None = None  # the component a burst-level charge belongs to (e.g. its leakage energy)


@dataclass(frozen=True)
class ReductionSpec:
    """A per-element output (a term or quantity: one layer's cycles) reduced over the elements of a
    series (the layers): their sum, or their mean. ``over`` is the symbol that counts the elements."""

    name: str
    of: str
    over: sp.Symbol
    reduce: str  # sum | mean
    unit: str  # the unit of ``of`` (a sum and a mean keep it)
    symbol: sp.Symbol
    description: str
    latex: str | None = None


@dataclass(frozen=True)
class LimitSpec:
    """Inputs are valid only where ``expression <= maximum``."""

    name: str
    expression: sp.Expr
    maximum: sp.Expr
    message: str
    when: sp.Expr | None = None


@dataclass(frozen=True)
class FunctionSpec:
    """A macro of the pack (expanded where called; kept for audit documents)."""

    name: str
    params: tuple[sp.Symbol, ...]
    expression: sp.Expr
    text: str
    description: str | None = None


@dataclass(frozen=True)
class ComparisonSpec:
    """Two groups of breakdown entries whose per-token costs are compared (a break-even question)."""

    name: str
    description: str
    left: tuple[str, tuple[str, ...]]  # (view, names)
    right: tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class IndexSpec:
    """Step structure of a burst: step index, layer count, each phase's [from, to)."""

    step: sp.Symbol
    layers: sp.Symbol
    phases: dict[str, tuple[sp.Expr, sp.Expr]]


@dataclass(frozen=True)
class FormulaPack:
    name: str
    version: int
    description: str
    symbols: dict[str, SymbolSpec]
    terms: tuple[TermSpec, ...]
    vocabulary: dict[str, tuple[str, ...]]
    source: str
    quantities: tuple[QuantitySpec, ...] = ()
    index: IndexSpec | None = None
    aggregates: dict[str, sp.Symbol] = field(default_factory=dict)
    title: str | None = None
    limits: tuple[LimitSpec, ...] = ()
    comparisons: tuple[ComparisonSpec, ...] = ()
    functions: tuple[FunctionSpec, ...] = ()
    reductions: tuple[ReductionSpec, ...] = ()
    off_chip: tuple[str, ...] = ()  # components placed off the chip (area totals keep them apart)
    diagnostics: tuple[DiagnosticSpec, ...] = ()  # plausibility checks a report evaluates

    def expanded(self, expression: sp.Expr | TermSpec) -> sp.Expr:
        """An expression (or a term's) with every derived symbol replaced by its definition."""
        if isinstance(expression, TermSpec):
            expression = expression.expression
        for symbol, definition in self.derived_substitutions():
            expression = expression.xreplace({symbol: definition})
        return expression

    def resolve_derived(self, table: dict[sp.Symbol, sp.Expr]) -> dict[sp.Symbol, sp.Expr]:
        """``table`` (bound values) extended by every derived symbol's value, resolved in declaration order."""
        table = dict(table)
        for spec in self.symbols.values():
            if spec.definition is not None:
                table[spec.symbol] = spec.definition.xreplace(table)
        return table

    def derived_substitutions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        # Later derived symbols may use earlier ones: substitute newest first.
        derived = [spec for spec in self.symbols.values() if spec.definition is not None]
        return [(spec.symbol, spec.definition) for spec in reversed(derived)]

    def symbol(self, name: str) -> sp.Symbol:
        return self.symbols[name].symbol

    def find_symbol(self, name: str) -> SymbolSpec:
        """A symbol by its name or by (one of) its binding paths; an unknown name is an error with a did-you-mean."""
        if name in self.symbols:
            return self.symbols[name]
        # A path names the symbol it is the first binding of; a fallback path only names one otherwise.
        by_path = {spec.binding_paths[0]: spec for spec in self.symbols.values() if spec.binding_paths}
        for spec in self.symbols.values():
            for path in spec.binding_paths[1:]:
                by_path.setdefault(path, spec)
        if name in by_path:
            return by_path[name]
        close = difflib.get_close_matches(name, sorted({*self.symbols, *by_path}), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise SymcostError(f"{name!r} is neither a symbol of pack {self.name} nor a path one is bound to{hint}")

    def given_unit(self, name: str) -> str:
        """The unit values are given in under ``name``: the symbol's own, or for a binding path the unit
        its field's name implies (``gpu.mem_bw_gbps``: GB/s)."""
        spec = self.find_symbol(name)
        if name == spec.name or spec.reinterpret_unit:
            return spec.unit
        return field_unit(name.rsplit(".", 1)[-1]) or spec.unit


def load_pack(path: str | Path) -> FormulaPack:
    """Load, validate and parse a pack (cached per file content: packs are immutable)."""
    path = Path(path)
    stamp = path.stat().st_mtime_ns if path.is_file() else None
    return _load_pack(str(path.resolve()), stamp)


@lru_cache(maxsize=16)
def _load_pack(path: str, _stamp: int | None) -> FormulaPack:
    return _PackBuilder(checked_data_of(path, "formula-pack"), Path(path).name, path).build()


def expand_templates(entries: list[dict[str, Any]], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entry, repeated for every combination of its ``for_each`` values."""
    for index, entry in enumerate(entries):
        loops = entry.get("for_each")
        if not loops:
            yield f"{where}[{index}]", entry
            continue
        names = list(loops)
        for values in itertools.product(*(loops[name] for name in names)):
            binding = dict(zip(names, values))
            label = ",".join(f"{name}={value}" for name, value in binding.items())
            copy = {key: _fill(value, binding) for key, value in entry.items() if key != "for_each"}
            yield f"{where}[{index}]({label})", copy


def _fill(value: Any, binding: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, replacement in binding.items():
            value = value.replace("{" + name + "}", replacement)
        return value
    if isinstance(value, list):
        return [_fill(item, binding) for item in value]
    return value


@dataclass(frozen=True)
class _SymbolLookups:
    by_name: dict[str, sp.Symbol]
    dimensions: dict[sp.Symbol, Dimension]
    tables: frozenset[sp.Symbol]


class _PackBuilder:
    def __init__(self, data: dict, label: str, source: str):
        self.data = data
        self.label = label
        self.source = source
        self.issues: list[InputIssue] = []
        self.rejected: set[str] = set()  # symbols refused at their declaration
        self.symbols: dict[str, SymbolSpec] = {}  # only ever added to: its size tells its version
        self._lookups: tuple[int, _SymbolLookups] | None = None
        self.functions: dict[str, sp.Lambda] = {**ENGINE_FUNCTIONS, **DISTRIBUTION_FUNCTIONS}
        self.function_specs: list[FunctionSpec] = []
        self.aggregates: dict[str, sp.Symbol] = {}
        self.quantities: list[QuantitySpec] = []
        self.terms: tuple[TermSpec, ...] = ()
        self.reductions: dict[str, ReductionSpec] = {}
        self.reduction_paths: dict[str, str] = {}
        self.depends: dict[sp.Symbol, frozenset[sp.Symbol]] = {}  # quantity -> the symbols and reductions it uses

    def issue(self, path: str, message: str) -> None:
        self.issues.append(InputIssue(self.label, path, message))

    def build(self) -> FormulaPack:
        for index, raw in enumerate(self.data.get("functions", [])):
            self.add_function(index, raw)
        for where, raw in expand_templates(self.data["symbols"], "symbols"):
            self.add_symbol(where, raw)
        index = self.make_index()
        terms = tuple(
            term
            for where, raw in expand_templates(self.data.get("terms", []), "terms")
            if (term := self.make_term(where, raw))
        )
        self.check_unique_terms(terms)
        self.terms = terms
        quantities = list(expand_templates(self.data.get("quantities", []), "quantities"))
        # Declared before the quantities, which may use them (and after the terms they may reduce).
        for position, raw in enumerate(self.data.get("reductions", [])):
            self.add_reduction(f"reductions[{position}]", raw, quantities, index is not None)
        for where, raw in quantities:
            self.add_quantity(where, raw)
        self.check_reduced_outputs()
        limits = tuple(
            limit
            for index, raw in enumerate(self.data.get("limits", []))
            if (limit := self.make_limit(f"limits[{index}]", raw))
        )
        vocabulary = {key: tuple(self.data.get(key, ())) for key in ("phases", "stages", "components", "features")}
        comparisons = tuple(
            self.make_comparison(f"comparisons[{index}]", raw, terms)
            for index, raw in enumerate(self.data.get("comparisons", []))
        )
        off_chip = tuple(self.data.get("off_chip", ()))
        for position, component in enumerate(off_chip):
            self.check_name(f"off_chip[{position}]", component, "components")
        diagnostics = self.make_diagnostics()
        if self.issues:
            raise InputError(self.issues)
        return FormulaPack(
            self.data["pack"],
            self.data["version"],
            self.data["description"],
            self.symbols,
            terms,
            vocabulary,
            self.source,
            tuple(self.quantities),
            index,
            self.aggregates,
            self.data.get("title"),
            limits,
            comparisons,
            tuple(self.function_specs),
            tuple(self.reductions.values()),
            off_chip,
            diagnostics,
        )

    def make_comparison(self, where: str, raw: dict, terms: tuple[TermSpec, ...]) -> ComparisonSpec:
        sides = []
        for side in ("left", "right"):
            view, names = raw[side]["view"], tuple(raw[side]["names"])
            known = {getattr(term, view) for term in terms} - {None}
            for name in names:
                if name not in known:
                    close = difflib.get_close_matches(name, sorted(known), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    self.issue(f"{where}.{side}.names", f"no term has {view} {name!r}{hint}")
            sides.append((view, names))
        return ComparisonSpec(raw["name"], raw["description"], *sides)

    def make_diagnostics(self) -> tuple[DiagnosticSpec, ...]:
        """The checks, each over the symbols, the names earlier checks give (their values and named
        thresholds) and its own ``uses`` (report outputs, whose units are known when a report runs)."""
        earlier: dict[str, sp.Symbol] = {}
        checks = []
        for position, raw in enumerate(self.data.get("diagnostics", [])):
            where = f"diagnostics[{position}]"
            check = self.make_diagnostic(where, raw, earlier)
            for name, symbol in (
                (raw["name"], check and check.symbol),
                (raw["threshold"].get("name"), check and check.threshold.symbol),
            ):
                if name and (name in self.symbols or name in earlier):
                    self.issue(where, f"{name!r} is already a symbol or an earlier diagnostic's name")
                elif name and symbol is not None:
                    earlier[name] = symbol
            if check is not None:
                checks.append(check)
        return tuple(checks)

    def make_diagnostic(self, where: str, raw: dict, earlier: dict[str, sp.Symbol]) -> DiagnosticSpec | None:
        uses = {local: sp.Symbol(local, real=True) for local in raw.get("uses", {})}
        clashes = sorted(set(uses) & (set(self.symbols) | set(earlier)))
        if clashes:
            self.issue(f"{where}.uses", f"{clashes[0]!r} is already a symbol or an earlier diagnostic's name")
        table = {**earlier, **uses}
        value = self.parse(raw["value"], f"{where}.value", raw["name"], table)
        drivers = [
            (driver["name"], self.parse(driver["value"], f"{path}.value", raw["name"], table))
            for path, driver in expand_templates(raw.get("drivers", []), f"{where}.drivers")
        ]
        threshold = raw["threshold"]
        try:
            unit, threshold_unit = parse_unit(raw["unit"]), parse_unit(threshold["unit"])
        except ValueError as exc:
            return self.issue(where, str(exc))
        if unit.dimension != threshold_unit.dimension:
            self.issue(
                f"{where}.threshold.unit",
                f"{threshold['unit']!r} is not a unit of the same kind as the diagnostic's unit {raw['unit']!r}",
            )
        if value is None or any(formula is None for _, formula in drivers) or clashes:
            return None
        name = threshold.get("name")
        return DiagnosticSpec(
            raw["name"],
            raw["description"],
            sp.Symbol(raw["name"], real=True),
            value,
            raw["value"],
            raw["unit"],
            Threshold(
                threshold["value"], threshold["unit"], threshold["source"], sp.Symbol(name, real=True) if name else None
            ),
            raw["warn_when"],
            raw["ok"],
            raw["warn"],
            tuple((uses[local], output) for local, output in raw.get("uses", {}).items()),
            tuple(drivers),
        )

    def make_limit(self, where: str, raw: dict) -> LimitSpec | None:
        # A limit may use the terms (by name) and the per-element quantities, as quantities do.
        extra = {**self.term_expressions(), **{q.name: q.symbol for q in self.quantities if not q.series}}
        parts = [self.parse(raw[key], f"{where}.{key}", raw["name"], extra) for key in ("expression", "maximum")]
        when = self.parse(raw["when"], f"{where}.when", raw["name"]) if "when" in raw else None
        if any(part is None for part in parts):
            return None
        table = {spec.symbol: spec.dimension for spec in self.symbols.values()}
        table.update(self.aggregate_dimensions())
        try:
            same = dimension_of(parts[0], table) == dimension_of(parts[1], table)
        except DimensionError as exc:
            self.issue(where, f"dimension error: {exc}")
            return None
        if not same:
            self.issue(where, "expression and maximum have different dimensions")
            return None
        return LimitSpec(raw["name"], parts[0], parts[1], raw["message"], when)

    # -- declarations ------------------------------------------------------------------
    def add_function(self, index: int, raw: dict) -> None:
        where = f"functions[{index}]"
        if not is_valid_name(raw["name"]) or raw["name"] in self.functions:
            return self.issue(f"{where}.name", f"{raw['name']!r} is reserved or declared twice")
        params = [sp.Symbol(name) for name in raw["params"]]
        try:
            body = parse_formula(
                raw["expression"], {p.name: p for p in params}, name=raw["name"], functions=self.functions
            )
        except FormulaError as error:
            return self.issue(f"{where}.expression", str(error))
        self.functions[raw["name"]] = sp.Lambda(tuple(params), body)
        self.function_specs.append(
            FunctionSpec(raw["name"], tuple(params), body, raw["expression"], raw.get("description"))
        )

    def add_symbol(self, where: str, raw: dict) -> None:
        name = raw["name"]
        if not is_valid_name(name) or name in self.functions:
            self.rejected.add(name)
            return self.issue(f"{where}.name", f"{name!r} is reserved (dunder or a function name)")
        if name in self.symbols:
            return self.issue(f"{where}.name", f"symbol {name!r} is declared twice")
        try:
            unit = parse_unit(raw["unit"])
        except ValueError as exc:
            self.rejected.add(name)
            return self.issue(f"{where}.unit", str(exc))
        symbol = sp.Symbol(name, **_DOMAINS[raw.get("domain", "nonnegative")])
        definition = None
        if raw["source"] == "derived":
            definition = self.parse(raw["expression"], f"{where}.expression", name)
            if definition is None or not self.has_dimension(
                definition, unit.dimension, f"{where}.expression", f"unit {raw['unit']}"
            ):
                return
        default = self.make_default(where, raw, unit.dimension)
        outcome = self.table_outcome(where, raw, unit.dimension) if "table" in raw else None
        if default is _REFUSED or outcome is _REFUSED:
            return
        binding = raw.get("binding")
        self.symbols[name] = SymbolSpec(
            name,
            raw["description"],
            raw["unit"],
            raw["source"],
            symbol,
            unit.dimension,
            tuple(binding) if isinstance(binding, list) else binding,
            definition,
            raw.get("latex"),
            raw.get("provenance"),
            default,
            raw.get("reinterpret_unit"),
            raw.get("value"),
            outcome,
            tuple(raw.get("categories", {}).items()),
        )

    def make_default(self, where: str, raw: dict, dimension: Dimension):
        """A symbol's default: a number, a formula over symbols declared before it, or alternatives, each
        applying when the inputs give its path (:class:`DefaultChoice`); ``_REFUSED`` after an issue."""
        default = raw.get("default")
        if not isinstance(default, list):
            return self.default_value(default, f"{where}.default", raw, dimension)
        choices = []
        for position, choice in enumerate(default):
            value = self.default_value(choice["value"], f"{where}.default[{position}].value", raw, dimension)
            if value is _REFUSED:
                return _REFUSED
            choices.append(DefaultChoice(value, choice.get("given")))
        return tuple(choices)

    def default_value(self, value, where: str, raw: dict, dimension: Dimension):
        if not isinstance(value, str):
            return value
        if value == UNKNOWN:  # not known: what uses it comes out NaN, and is reported as unknown
            return sp.nan
        formula = self.parse(value, where, raw["name"])  # a formula over symbols declared before this one
        if formula is None or not self.has_dimension(formula, dimension, where, f"unit {raw['unit']}"):
            return _REFUSED
        return formula

    def table_outcome(self, where: str, raw: dict, dimension: Dimension):
        """The outcome symbol a table symbol's distribution is over (``_REFUSED`` after an issue)."""
        outcome = self.symbols.get(raw["table"])
        if outcome is None or outcome.source != "outcome":
            self.issue(
                f"{where}.table",
                f"{raw['table']!r} is not an outcome symbol declared before {raw['name']!r} (source: outcome)",
            )
            return _REFUSED
        if dimension != DIMENSIONLESS:
            self.issue(f"{where}.unit", f"a table holds probabilities: its unit must be '1', got {raw['unit']!r}")
            return _REFUSED
        return outcome.symbol

    def make_index(self) -> IndexSpec | None:
        raw = self.data.get("index")
        if raw is None:
            return None
        missing = [raw[key] for key in ("step", "layers") if raw[key] not in self.symbols]
        for name in missing:
            self.issue("index", f"names undeclared symbol {name!r}")
        phases = {}
        for phase, bounds in raw["phases"].items():
            if phase not in self.data.get("phases", []):
                self.issue(f"index.phases.{phase}", f"{phase!r} is not among the pack's phases")
            parsed = [
                self.parse(bounds[key], f"index.phases.{phase}.{key}", f"{phase}.{key}") for key in ("from", "to")
            ]
            phases[phase] = tuple(parsed)
        if missing or any(bound is None for bounds in phases.values() for bound in bounds):
            return None
        for phase in phases:
            for kind in AGGREGATE_KINDS:
                for quantity in AGGREGATE_QUANTITIES:
                    self.aggregates[aggregate_name(kind, quantity, phase)] = sp.Symbol(
                        aggregate_name(kind, quantity, phase), real=True
                    )
        return IndexSpec(self.symbols[raw["step"]].symbol, self.symbols[raw["layers"]].symbol, phases)

    def add_quantity(self, where: str, raw: dict) -> None:
        name = raw["name"]
        taken = set(self.symbols) | set(self.aggregates) | set(self.reductions)
        # Alternatives of one quantity (e.g. a burst latency per schedule) share a name; each needs a 'when'.
        taken |= {q.name for q in self.quantities if q.when is None or "when" not in raw}
        if not is_valid_name(name) or name in taken:
            return self.issue(f"{where}.name", f"{name!r} is reserved or already declared (alternatives need a 'when')")
        try:
            unit = parse_unit(raw["unit"])
        except ValueError as exc:
            return self.issue(f"{where}.unit", str(exc))
        reductions = {reduction.name: reduction.symbol for reduction in self.reductions.values()}
        extra = {
            **self.term_expressions(),
            **self.aggregates,
            **reductions,
            **{q.name: q.symbol for q in self.quantities if q.name != name},
        }
        expression = self.parse(raw["expression"], f"{where}.expression", name, extra)
        if expression is None or not self.has_dimension(
            expression,
            unit.dimension,
            f"{where}.expression",
            f"unit {raw['unit']}",
            extra_dimensions=self.aggregate_dimensions(),
        ):
            return
        when = self.parse(raw["when"], f"{where}.when", name) if "when" in raw else None
        if "component" in raw:
            self.check_name(f"{where}.component", raw["component"], "components")
        symbol = sp.Symbol(name, real=True)
        series = self.uses_reductions(symbol, expression, f"{where}.expression")
        if series is None:
            return
        self.quantities.append(
            QuantitySpec(
                name,
                raw["unit"],
                symbol,
                expression,
                raw["expression"],
                raw["description"],
                when,
                raw.get("latex"),
                raw.get("scope"),
                series,
                raw.get("component"),
            )
        )

    def uses_reductions(self, symbol: sp.Symbol, expression: sp.Expr, where: str) -> bool | None:
        """Whether a quantity is one of a whole series (it uses a reduction, directly or through another
        quantity); None, with an issue, when it also uses one element's inputs (an axis)."""
        found: set[sp.Symbol] = set(self.depends.get(symbol, ()))
        for used in self.expanded_symbols(expression):
            found |= self.depends.get(used, {used})
        self.depends[symbol] = frozenset(found)
        reduced = sorted(reduction.name for reduction in self.reductions.values() if reduction.symbol in found)
        if not reduced:
            return False
        per_element = sorted(
            spec.name for spec in self.symbols.values() if spec.source == "axis" and spec.symbol in found
        )
        if per_element:
            self.issue(
                where,
                f"uses the reduction {reduced[0]} (a figure of the whole series) and the per-element "
                f"input {per_element[0]}: a quantity of the series cannot depend on one element",
            )
            return None
        return True

    def expanded_symbols(self, expression: sp.Expr) -> set[sp.Symbol]:
        """The symbols an expression depends on once derived symbols are replaced by their definitions."""
        pending, found = list(expression.free_symbols), set()
        while pending:
            symbol = pending.pop()
            spec = self.symbols.get(symbol.name)
            if spec is not None and spec.definition is not None:
                pending += [used for used in spec.definition.free_symbols if used not in found]
            found.add(symbol)
        return found

    def add_reduction(self, where: str, raw: dict, quantities: list[tuple[str, dict]], indexed: bool) -> None:
        name, of, over = raw["name"], raw["of"], raw["over"]
        if indexed:
            return self.issue(
                where, "reductions are for packs without an index (a burst's steps are summed by the index)"
            )
        taken = {*self.symbols, *self.aggregates, *self.reductions, *self.term_expressions()}
        if not is_valid_name(name) or name in taken or any(entry["name"] == name for _, entry in quantities):
            return self.issue(f"{where}.name", f"{name!r} is reserved or already declared")
        units = {entry["name"]: entry["unit"] for _, entry in reversed(quantities)}
        units.update({term.name: QUANTITY_UNITS[term.quantity] for term in self.terms})
        if of not in units:
            close = difflib.get_close_matches(of, sorted(units), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            return self.issue(f"{where}.of", f"{of!r} is neither a term nor a quantity of the pack{hint}")
        counter = self.symbols.get(over)
        if counter is None or counter.dimension != DIMENSIONLESS:
            return self.issue(
                f"{where}.over",
                f"{over!r} is not a declared dimensionless symbol (the number of elements, e.g. n_layers)",
            )
        self.reduction_paths[name] = where
        self.reductions[name] = ReductionSpec(
            name,
            of,
            counter.symbol,
            raw["reduce"],
            units[of],
            sp.Symbol(name, real=True),
            raw["description"],
            raw.get("latex"),
        )

    def check_reduced_outputs(self) -> None:
        """A reduction reduces a per-element output, not a figure of the whole series."""
        series = {quantity.name for quantity in self.quantities if quantity.series}
        for reduction in self.reductions.values():
            if reduction.of in series:
                self.issue(
                    f"{self.reduction_paths[reduction.name]}.of",
                    f"{reduction.of!r} is a quantity of the whole series (it uses a reduction); reduce a "
                    "per-element output",
                )

    def term_expressions(self) -> dict[str, sp.Expr]:
        """A term's name stands for its per-layer/per-step expression (packs without an index combine terms this way)."""
        return {term.name: term.expression for term in self.terms if term.name not in self.symbols}

    def aggregate_dimensions(self) -> dict[sp.Symbol, Dimension]:
        dimensions = {}
        for name, symbol in self.aggregates.items():
            quantity = next(q for q in AGGREGATE_QUANTITIES if f"_{q}_" in f"_{name}_")
            dimensions[symbol] = parse_unit(AGGREGATE_QUANTITIES[quantity]).dimension
        for quantity in self.quantities:
            dimensions[quantity.symbol] = parse_unit(quantity.unit).dimension
        for reduction in self.reductions.values():
            dimensions[reduction.symbol] = parse_unit(reduction.unit).dimension
        return dimensions

    # -- parsing and checks ------------------------------------------------------------
    def lookups(self) -> _SymbolLookups:
        """The declared symbols by name, their dimensions and the table symbols, made again only after a
        declaration (each formula of a pack needs them: a thousand formulas over a thousand symbols)."""
        if self._lookups is None or self._lookups[0] != len(self.symbols):
            specs = self.symbols.values()
            self._lookups = (
                len(self.symbols),
                _SymbolLookups(
                    {spec.name: spec.symbol for spec in specs},
                    {spec.symbol: spec.dimension for spec in specs},
                    frozenset(spec.symbol for spec in specs if spec.table is not None),
                ),
            )
        return self._lookups[1]

    def parse(self, text: str, where: str, name: str, extra: dict[str, sp.Symbol] | None = None) -> sp.Expr | None:
        table = {**self.lookups().by_name, **extra} if extra else self.lookups().by_name
        try:
            expression = parse_formula(text, table, name=name, functions=self.functions)
        except FormulaError as error:
            if error.token not in self.rejected:  # a rejected symbol is reported once, where it is declared
                self.issue(where, str(error))
            return None
        return expression if self.expectations_over_tables(expression, where) else None

    def expectations_over_tables(self, expression: sp.Basic, where: str) -> bool:
        """Each ``expected(T, x)`` in ``expression`` takes its expectation over a table symbol ``T``."""
        tables = self.lookups().tables
        wrong = [node for node in expression.atoms(expected) if node.args[0] not in tables]
        for node in wrong:
            self.issue(
                where,
                f"expected({node.args[0]}, ...): the first argument must be a table symbol "
                f"(one declared with 'table: <outcome>'){'; tables: ' + ', '.join(sorted(map(str, tables))) if tables else ''}",
            )
        return not wrong

    def has_dimension(
        self,
        expression: sp.Expr,
        expected: Dimension,
        where: str,
        promised: str,
        extra_dimensions: dict[sp.Symbol, Dimension] | None = None,
    ) -> bool:
        dimensions = self.lookups().dimensions
        table = {**dimensions, **extra_dimensions} if extra_dimensions else dimensions
        try:
            found = dimension_of(expression, table)
        except DimensionError as exc:
            self.issue(where, f"dimension error: {exc}")
            return False
        if found != expected and expression != 0:
            self.issue(
                where,
                f"expected {describe_dimension(expected)} ({promised}), but the formula is {describe_dimension(found)}",
            )
            return False
        return True

    def make_term(self, where: str, raw: dict) -> TermSpec | None:
        if not is_valid_name(raw["name"]):
            self.issue(f"{where}.name", f"{raw['name']!r} is not a valid name (a template placeholder left unfilled?)")
            return None
        self.check_vocabulary(where, raw)
        expression = self.parse(raw["expression"], f"{where}.expression", raw["name"])
        if expression is None:
            return None
        quantity = raw["quantity"]
        if not self.has_dimension(
            expression, parse_unit(QUANTITY_UNITS[quantity]).dimension, f"{where}.expression", f"quantity {quantity}"
        ):
            return None
        when = self.parse(raw["when"], f"{where}.when", raw["name"]) if "when" in raw else None
        return TermSpec(
            raw["name"],
            quantity,
            expression,
            raw["expression"],
            tuple(raw["phases"]),
            raw["channel"],
            raw["status"],
            raw.get("scope", "step"),
            raw.get("stage"),
            raw.get("component"),
            raw.get("feature"),
            when,
            raw.get("reason"),
            raw.get("provenance"),
            raw.get("description"),
        )

    def check_unique_terms(self, terms: tuple[TermSpec, ...]) -> None:
        seen: set[str] = set()
        for term in terms:
            if term.name in seen:
                self.issue("terms", f"term name {term.name!r} is used twice")
            seen.add(term.name)

    def check_vocabulary(self, where: str, raw: dict) -> None:
        checks = [("phases", phase, f"{where}.phases") for phase in raw["phases"]]
        checks += [
            (vocabulary, raw[key], f"{where}.{key}")
            for key, vocabulary in (("stage", "stages"), ("component", "components"), ("feature", "features"))
            if key in raw
        ]
        for vocabulary, value, path in checks:
            self.check_name(path, value, vocabulary)

    def check_name(self, path: str, value: str, vocabulary: str) -> None:
        """``value`` must be one of the pack's ``vocabulary`` (phases, stages, components, features)."""
        allowed = self.data.get(vocabulary, [])
        if value not in allowed:
            close = difflib.get_close_matches(value, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.issue(
                path, f"{value!r} is not among the pack's {vocabulary} ({', '.join(allowed) or 'none declared'}){hint}"
            )
