"""The library entry point: input files -> compiled cost model -> numbers.

    >>> from symcost import build_model
    >>> model = build_model("model.yaml", "hardware.yaml", "stats.json")
    >>> results = model.evaluate(L_prompt=[128, 512, 2048])
    >>> results["speculative.energy_per_token"]        # J, one per prompt length
    >>> results["speculative.stage.draft.qkv.latency"]  # s per burst

Output names: ``<scenario>.<metric>`` for the pack's per-token quantities and
``<scenario>.<view>.<phase>.<name>.<quantity>`` for breakdowns (per burst),
``<scenario>.committed_tokens`` for E[a+1], with scenario
``speculative`` or ``baseline`` (no speculation: K = 0, one token per step),
view ``stage``, ``component``, ``feature`` or ``channel``, and ``area.<view>.<name>``.
"""
from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
import sympy as sp

from ...accounting import Accounting, account
from .binding import BoundValue, Bindings, bind
from ...cache import Entry, input_key
from ...compile import Evaluator, compile_outputs
from ...errors import SymcostError
from ...finite import InputValue, bound_inputs, check_limits, describe_point, refuse_non_finite
from ...documents import load_document
from .inputs import HardwareSpec, ModelSpec, StatsSpec, read_hardware, read_model, read_stats
from .inputs.library import search_path_files
from ...pack import FormulaPack, SymbolSpec, load_pack
from ...registry import resolve_pack
from ...units import parse_unit

METRICS = ("energy_per_token", "latency_per_token", "throughput", "tokens_per_joule", "power",
           "burst_energy", "burst_latency", "dynamic_energy", "leakage_energy", "leakage_power")
BREAKDOWN_QUANTITIES = ("energy", "latency", "count")


@dataclass(frozen=True)
class Recipe:
    """What a cost model is built from: the pack, the three inputs (paths or specs read in code), options."""

    pack_path: Path
    model: str | Path | ModelSpec
    hardware: str | Path | HardwareSpec
    stats: str | Path | StatsSpec
    library_path: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    only: tuple[str, ...] = ()  # output names or fnmatch patterns to compile (empty: all)
    vary: tuple[str, ...] | None = None  # evaluator inputs left variable (None: all); the rest are folded

    def read_model(self) -> ModelSpec:
        return self.model if isinstance(self.model, ModelSpec) else read_model(self.model)

    def read_hardware(self) -> HardwareSpec:
        return self.hardware if isinstance(self.hardware, HardwareSpec) else read_hardware(self.hardware, list(self.library_path))

    def read_stats(self) -> StatsSpec:
        return self.stats if isinstance(self.stats, StatsSpec) else read_stats(self.stats)

    def cache_entry(self) -> Entry | None:
        """The evaluator cache entry for these inputs (None for specs made in code, or with caching off)."""
        files = [self.model, self.hardware, self.stats]
        if not all(isinstance(item, (str, Path)) for item in files) or not all(Path(item).is_file() for item in files):
            return None
        versions = [_symcost_version(), sp.__version__, np.__version__]
        # By role and contents, never by path: the same documents in another folder hit the same entry.
        roles = [("pack", self.pack_path), *zip(("model", "hardware", "stats"), map(Path, files)),
                 ("packaged library", _packaged_library()),
                 *(("library path", path) for path in search_path_files(list(self.library_path))),
                 *(("library file", path) for path in _named_library(Path(self.hardware)))]
        key = input_key([*versions, "keep", *self.keep, "only", *self.only, "vary", *(self.vary or ["<all>"])], roles)
        return Entry.for_key(key)


@dataclass(frozen=True)
class SymbolicModel:
    """The closed forms: the pack, its accounting, every output as an expression, the quantity definitions."""

    pack: FormulaPack
    accounting: Accounting
    outputs: dict[str, sp.Expr]
    definitions: list[tuple[sp.Symbol, sp.Expr]]
    inputs: list[sp.Symbol]
    defaults: dict[str, float]
    kept: tuple[str, ...]
    aliases: dict[str, tuple[str, float]]


@dataclass
class CostModel:
    """A compiled cost model; its inputs and closed forms are read and derived on first use.

    A model loaded from the evaluator cache runs without SymPy until something
    asks for a closed form (``pack``, ``accounting``, ``outputs``, ``closed_form``).
    """

    recipe: Recipe
    evaluator: Evaluator
    defaults: dict[str, float]
    kept: tuple[str, ...]                   # coefficients left symbolic, by pack symbol name
    limits: tuple[tuple[str, str], ...]     # (name, message) of the pack's validity limits
    cache: Entry | None = None
    # Kept coefficients by every name a user may give (pack symbol, input field): (input, factor to SI)
    aliases: dict[str, tuple[str, float]] = field(default_factory=dict)

    def input_for(self, name: str) -> tuple[str, float]:
        """The evaluator input a user-facing name denotes, and the factor from its unit to SI.

        Axes (L_prompt, K, alpha, E_commit) are taken as they are; a kept
        coefficient is given in the unit its pack symbol declares (that of the
        input field, e.g. pJ).
        """
        if name in self.aliases:
            return self.aliases[name]
        if name in self.evaluator.input_names:
            return name, 1.0
        raise SymcostError(f"unknown input {name!r}; this model's inputs are "
                           f"{', '.join(sorted({*self.evaluator.input_names, *self.aliases}))}")

    @cached_property
    def model(self) -> ModelSpec:
        return self.recipe.read_model()

    @cached_property
    def hardware(self) -> HardwareSpec:
        return self.recipe.read_hardware()

    @cached_property
    def stats(self) -> StatsSpec:
        return self.recipe.read_stats()

    @cached_property
    def symbolic(self) -> SymbolicModel:
        return derive(self.recipe, self.model, self.hardware, self.stats)

    @property
    def pack(self) -> FormulaPack:
        return self.symbolic.pack

    @property
    def accounting(self) -> Accounting:
        return self.symbolic.accounting

    @property
    def outputs(self) -> dict[str, sp.Expr]:
        return self.symbolic.outputs

    @property
    def definitions(self) -> list[tuple[sp.Symbol, sp.Expr]]:
        return self.symbolic.definitions

    def remember(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()``'s JSON-able result, kept in the evaluator cache entry when there is one."""
        return self.cache.remember(name, compute) if self.cache else compute()

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr:
        """Output ``name`` as one expression, the pack's quantities substituted in.

        Evaluator inputs named in ``values`` are replaced by those numbers
        (e.g. K and E_commit from the stats); the others stay symbols.
        """
        expression = self._inline(self.outputs[name])
        # By name: a cached evaluator's input symbols carry no assumptions, the pack's do.
        return expression.xreplace({symbol: sp.Float(values[symbol.name]) for symbol in expression.free_symbols
                                    if symbol.name in values})

    def _inline(self, expression: sp.Expr) -> sp.Expr:
        # Only the definitions an expression uses, each inlined once: inlining all of them up
        # front multiplies out shared sub-expressions that no output needs.
        table, inlined = self._definition_table, self._inlined
        for symbol in expression.free_symbols & table.keys():
            if symbol not in inlined:
                inlined[symbol] = self._inline(table[symbol])
        return expression.xreplace({symbol: inlined[symbol] for symbol in expression.free_symbols & table.keys()})

    @cached_property
    def _definition_table(self) -> dict[sp.Symbol, sp.Expr]:
        return dict(self.definitions)

    @cached_property
    def _inlined(self) -> dict[sp.Symbol, sp.Expr]:
        return {}

    def evaluate(self, **inputs) -> dict[str, np.ndarray]:
        """Every output for the given inputs (``L_prompt`` at least; K, E_commit default to the stats).

        Raises :class:`SymcostError` where the inputs break one of the pack's limits.
        """
        values = {**self.defaults, **inputs}
        results = self.evaluator(**values)
        check_limits(results, self.limits, values)
        refuse_non_finite(results, lambda index: describe_point(values, index), self._bound_inputs)
        return results

    def _bound_inputs(self) -> list[InputValue]:
        pack = load_pack(self.recipe.pack_path)
        return bound_inputs(pack, bind(pack, self.model, self.hardware, self.stats).values)


def build_model(model_path: str | Path | ModelSpec, hardware_path: str | Path | HardwareSpec,
                stats_path: str | Path | StatsSpec, *,
                pack: str | Path = "selfspec", library_path: list[str] | None = None,
                keep: Iterable[str] = (), only: Iterable[str] = (), vary: Iterable[str] | None = None) -> CostModel:
    """Read and validate the inputs, account the pack, and compile its evaluator.

    ``keep`` names hardware symbols to leave symbolic (they become evaluator
    inputs, e.g. for a sweep over a coefficient). Each input is a file path or
    an already-read spec (a hardware file read with overrides, stats made in code).
    ``only`` restricts the evaluator to some outputs (names or fnmatch patterns
    such as ``speculative.*_per_token``): fewer outputs compile and run faster,
    e.g. for large sweeps. ``vary`` names the inputs that stay variable
    (e.g. only ``L_prompt``); the others are folded into the closed forms as
    their values from the inputs, which simplifies them before compilation.
    A compiled evaluator is cached on disk (:mod:`symcost.cache`): with the
    same inputs, the next build skips SymPy.
    """
    pack_path = resolve_pack(pack)
    recipe = Recipe(pack_path, model_path, hardware_path, stats_path, tuple(library_path or ()), tuple(keep), tuple(only),
                    None if vary is None else tuple(vary))
    entry = recipe.cache_entry()
    cached = entry.load() if entry else None
    if cached:
        function, meta = cached
        evaluator = Evaluator(tuple(sp.Symbol(name) for name in meta["inputs"]), tuple(meta["outputs"]), function)
        aliases = {name: (input_name, factor) for name, (input_name, factor) in meta["aliases"].items()}
        return CostModel(recipe, evaluator, meta["defaults"], tuple(meta["kept"]),
                         tuple(map(tuple, meta["limits"])), entry, aliases)
    symbolic = derive(recipe, recipe.read_model(), recipe.read_hardware(), recipe.read_stats())
    evaluator = compile_outputs(symbolic.outputs, symbolic.inputs, symbolic.definitions)
    limits = tuple((limit[0], limit[3]) for limit in symbolic.accounting.limits)
    if entry:
        entry.store(evaluator.function, evaluator.source(), {"inputs": list(evaluator.input_names), "outputs": list(evaluator.names),
                                                 "defaults": symbolic.defaults, "kept": list(symbolic.kept),
                                                 "limits": [list(limit) for limit in limits],
                                                 "aliases": symbolic.aliases})
    cost_model = CostModel(recipe, evaluator, symbolic.defaults, symbolic.kept, limits, entry, symbolic.aliases)
    cost_model.symbolic = symbolic
    return cost_model


def derive(recipe: Recipe, model: ModelSpec, hardware: HardwareSpec, stats: StatsSpec) -> SymbolicModel:
    """Bind the inputs to the pack and derive every output's closed form."""
    pack_spec = load_pack(recipe.pack_path)
    bindings = bind(pack_spec, model, hardware, stats)
    # A varied name that is not an axis or a stats input is a coefficient to keep symbolic.
    axes = {symbol.name for symbol in _axes(pack_spec)}
    kept = list(dict.fromkeys(_keepable(pack_spec, name)
                              for name in (*recipe.keep, *(name for name in recipe.vary or () if name not in axes))))
    vary = None if recipe.vary is None else [name if name in axes else _keepable(pack_spec, name).name
                                             for name in recipe.vary]
    # With K not varied, the accounting sees it as a number: the step sums become the few
    # steps they are instead of crossover formulas for any K; the baseline (K = 0) is then
    # accounted on its own rather than substituted afterwards.
    fixed = {pack_spec.symbol("K")} if vary is not None and "K" not in vary else set()
    accounting = account(pack_spec, bindings, kept, fixed)
    baseline = account(pack_spec, _baseline_bindings(pack_spec, bindings), kept,
                       fixed | {pack_spec.symbol("E_commit")}) if fixed else None
    inputs = _inputs(pack_spec, kept)
    # A stats value given as a formula (E[a+1] of a geometric acceptance, in K) is substituted,
    # not asked for: the evaluator then takes K (and the formula's other inputs) instead.
    formulas = {symbol: bindings.values[symbol].value for symbol in inputs
                if symbol in bindings.values and not bindings.values[symbol].value.is_number}
    outputs, definitions = collect_outputs(accounting, baseline)
    if recipe.only:
        outputs, definitions = _selected(outputs, definitions, recipe.only)
    outputs = {name: expression.xreplace(formulas) for name, expression in outputs.items()}
    definitions = [(symbol, expression.xreplace(formulas)) for symbol, expression in definitions]
    used = set().union(*(expression.free_symbols for expression in outputs.values()),
                       *(expression.free_symbols for _, expression in definitions))
    inputs = [symbol for symbol in inputs if symbol not in formulas and symbol in used]
    defaults = {symbol.name: float(bindings.values[symbol].value) for symbol in inputs if symbol in bindings.values}
    if vary is not None:
        outputs, definitions, inputs = _fold(outputs, definitions, inputs, defaults, vary)
        defaults = {name: value for name, value in defaults.items() if name in vary}
    return SymbolicModel(pack_spec, accounting, outputs, definitions, inputs, defaults,
                         tuple(symbol.name for symbol in kept), _aliases(pack_spec, kept))


def _baseline_bindings(pack: FormulaPack, bindings: Bindings) -> Bindings:
    """The same inputs without speculation: K = 0 and one committed token per step."""
    plain = {pack.symbol("K"): BoundValue(sp.Integer(0), "baseline: no speculation"),
             pack.symbol("E_commit"): BoundValue(sp.Integer(1), "baseline: one token per step")}
    return Bindings({**bindings.values, **plain}, bindings.groups)


def _aliases(pack: FormulaPack, kept: Sequence[sp.Symbol]) -> dict[str, tuple[str, float]]:
    aliases = {}
    for symbol in kept:
        spec = pack.symbols[symbol.name]
        factor = parse_unit(spec.unit).si_factor
        aliases.update((name, (spec.name, factor)) for name in _user_names(spec))
    return aliases


def _user_names(spec: SymbolSpec) -> list[str]:
    """Every name a user may give a coefficient by: pack symbol, input field with and without its file prefix."""
    return [spec.name] + ([spec.binding, spec.binding.split(".", 1)[1]] if spec.binding else [])


def _selected(outputs: dict[str, sp.Expr], definitions: list[tuple[sp.Symbol, sp.Expr]],
              patterns: Sequence[str]) -> tuple[dict[str, sp.Expr], list[tuple[sp.Symbol, sp.Expr]]]:
    """The outputs matching ``patterns`` (limits always kept), and only the definitions they use."""
    chosen = {name: expression for name, expression in outputs.items()
              if name.startswith("limit.") or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)}
    unmatched = [pattern for pattern in patterns if not any(fnmatch.fnmatchcase(name, pattern) for name in outputs)]
    if unmatched:
        close = difflib.get_close_matches(unmatched[0], list(outputs), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise SymcostError(f"unknown output {', '.join(unmatched)}{hint}")
    needed = set().union(*(expression.free_symbols for expression in chosen.values()))
    kept_definitions = []
    for symbol, expression in reversed(definitions):  # later definitions use earlier ones
        if symbol in needed:
            needed |= expression.free_symbols
            kept_definitions.append((symbol, expression))
    return chosen, kept_definitions[::-1]


def _fold(outputs: dict[str, sp.Expr], definitions: list[tuple[sp.Symbol, sp.Expr]], inputs: list[sp.Symbol],
          defaults: dict[str, float], vary: Sequence[str]):
    """Replace every input not in ``vary`` by its value; an input without one cannot be folded."""
    unknown = sorted(set(vary) - {symbol.name for symbol in inputs})
    if unknown:
        raise SymcostError(f"cannot vary {', '.join(unknown)}: the inputs are {', '.join(symbol.name for symbol in inputs)}")
    unvalued = [symbol.name for symbol in inputs if symbol.name not in vary and symbol.name not in defaults]
    if unvalued:
        raise SymcostError(f"{', '.join(unvalued)} has no default value: vary it (in a sweep, give it an axis)")
    values = {symbol: sp.Float(defaults[symbol.name]) for symbol in inputs if symbol.name not in vary}
    return ({name: expression.xreplace(values) for name, expression in outputs.items()},
            [(symbol, expression.xreplace(values)) for symbol, expression in definitions],
            [symbol for symbol in inputs if symbol.name in vary])


def _symcost_version() -> str:
    from ... import __version__
    return __version__


def _packaged_library() -> Path:
    with resources.as_file(resources.files("symcost.packs.selfspec.libraries").joinpath("components.yaml")) as path:
        return Path(path)


def _named_library(hardware_path: Path) -> list[Path]:
    """The component-library file a hardware file names itself (it replaces every other library)."""
    data = load_document(hardware_path).data
    named = data.get("library_file") if isinstance(data, dict) else None
    if not isinstance(named, str):
        return []
    path = Path(named)
    return [path if path.is_absolute() else hardware_path.parent / path]


def _keepable(pack: FormulaPack, name: str) -> sp.Symbol:
    """The symbol of a coefficient to keep symbolic, by pack symbol (``e_AD``) or input field
    (``adc_draft.energy_pj_per_conversion``, with or without the ``hardware.`` prefix)."""
    by_name = {known: spec for spec in pack.symbols.values() if spec.source in ("hardware", "model")
               for known in _user_names(spec)}
    spec = by_name.get(name)
    if spec is None:
        names = sorted(by_name)
        close = [known for known in names if known.startswith(name)][:3] or difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `symcost audit` lists the coefficients"
        axes = ", ".join(symbol.name for symbol in _axes(pack))
        raise SymcostError(f"{name!r} is neither an input ({axes}) nor a coefficient of pack {pack.name}{hint}")
    return spec.symbol


def _axes(pack: FormulaPack) -> list[sp.Symbol]:
    """The inputs every evaluator takes: the pack's axes (L_prompt) and stats (K, E[a+1], alpha)."""
    return [spec.symbol for spec in pack.symbols.values()
            if spec.source in ("axis", "stats") and spec.symbol != pack.index.step]


def _inputs(pack: FormulaPack, kept: list[sp.Symbol]) -> list[sp.Symbol]:
    return _axes(pack) + kept


def collect_outputs(accounting: Accounting, baseline_accounting: Accounting | None = None
                    ) -> tuple[dict[str, sp.Expr], list[tuple[sp.Symbol, sp.Expr]]]:
    """Metrics and breakdowns for the speculative and the baseline scenario, and the area.

    The baseline comes from ``baseline_accounting`` when given (K fixed to 0
    before accounting), else from substituting K = 0 and E[a+1] = 1. Metrics
    are quantity symbols; the returned definitions (evaluated in order) give
    their values, once per scenario.
    """
    pack = accounting.pack
    plain = {pack.symbol("K"): sp.Integer(0), pack.symbol("E_commit"): sp.Integer(1)}
    substitution = {} if baseline_accounting else plain
    baseline_accounting = baseline_accounting or accounting
    outputs: dict[str, sp.Expr] = {}
    definitions = accounting.definitions()
    baseline_definitions = baseline_accounting.definitions()
    renamed = {symbol: sp.Symbol(f"baseline__{symbol.name}", real=True) for symbol, _ in baseline_definitions}
    definitions += [(renamed[symbol], expression.xreplace({**substitution, **renamed}))
                    for symbol, expression in baseline_definitions]
    for scenario, source, replaced in (("speculative", accounting, {}), ("baseline", baseline_accounting, substitution)):
        outputs[f"{scenario}.committed_tokens"] = pack.symbol("E_commit").xreplace(plain if scenario == "baseline" else {})
        for metric in METRICS:
            if metric in source.quantity_symbols:
                symbol = source.quantity_symbols[metric]
                outputs[f"{scenario}.{metric}"] = renamed[symbol] if scenario == "baseline" else symbol
        for phase in pack.index.phases:
            for quantity in BREAKDOWN_QUANTITIES:
                if quantity != "count":
                    outputs[f"{scenario}.total.{phase}.{quantity}"] = source.total(quantity, phase).xreplace(replaced)
                for view in ("stage", "component", "feature", "channel"):
                    for name, expression in source.breakdown(view, quantity, phase).items():
                        outputs[f"{scenario}.{view}.{phase}.{name}.{quantity}"] = expression.xreplace(replaced)
    for view in ("stage", "component"):
        for name, expression in accounting.breakdown(view, "area").items():
            outputs[f"area.{view}.{name}"] = expression
    for name, expression, maximum, _message in accounting.limits:
        outputs[f"limit.{name}.value"], outputs[f"limit.{name}.maximum"] = expression, maximum
    return outputs, definitions
