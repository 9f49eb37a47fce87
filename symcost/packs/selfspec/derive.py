"""Deriving the selfspec pack's closed forms: bind the inputs, account the burst (speculative and
baseline), name the outputs, keep or fold inputs."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from ...accounting import Accounting, account
from ...binder import Bindings, BoundValue
from ...errors import SymcostError
from ...pack import FormulaPack, SymbolSpec, load_pack
from ...units import parse_unit
from .binding import bind
from .inputs import HardwareSpec, ModelSpec, StatsSpec
from .outputs import collect_outputs
from .recipe import Recipe


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


def derive(recipe: Recipe, model: ModelSpec, hardware: HardwareSpec, stats: StatsSpec) -> SymbolicModel:
    """Bind the inputs to the pack and derive every output's closed form."""
    pack_spec = load_pack(recipe.pack_path)
    bindings = bind(pack_spec, model, hardware, stats)
    # A varied name that is not an axis or a stats input is a coefficient to keep symbolic.
    axes = {symbol.name for symbol in _axes(pack_spec)}
    kept = list(
        dict.fromkeys(
            _keepable(pack_spec, name)
            for name in (*recipe.keep, *(name for name in recipe.vary or () if name not in axes))
        )
    )
    vary = (
        None
        if recipe.vary is None
        else [name if name in axes else _keepable(pack_spec, name).name for name in recipe.vary]
    )
    # With K not varied, the accounting sees it as a number: the step sums become the few
    # steps they are instead of crossover formulas for any K; the baseline (K = 0) is then
    # accounted on its own rather than substituted afterwards.
    fixed = {pack_spec.symbol("K")} if vary is not None and "K" not in vary else set()
    accounting = account(pack_spec, bindings, kept, fixed)
    baseline = (
        account(pack_spec, _baseline_bindings(pack_spec, bindings), kept, fixed | {pack_spec.symbol("E_commit")})
        if fixed
        else None
    )
    inputs = _inputs(pack_spec, kept)
    # A stats value given as a formula (E[a+1] of a geometric acceptance, in K) is substituted,
    # not asked for: the evaluator then takes K (and the formula's other inputs) instead.
    formulas = {
        symbol: bindings.values[symbol].value
        for symbol in inputs
        if symbol in bindings.values and not bindings.values[symbol].value.is_number
    }
    outputs, definitions = collect_outputs(accounting, baseline)
    if recipe.only:
        outputs, definitions = _selected(outputs, definitions, recipe.only)
    outputs = {name: expression.xreplace(formulas) for name, expression in outputs.items()}
    definitions = [(symbol, expression.xreplace(formulas)) for symbol, expression in definitions]
    used = set().union(
        *(expression.free_symbols for expression in outputs.values()),
        *(expression.free_symbols for _, expression in definitions),
    )
    inputs = [symbol for symbol in inputs if symbol not in formulas and symbol in used]
    defaults = {symbol.name: float(bindings.values[symbol].value) for symbol in inputs if symbol in bindings.values}
    if vary is not None:
        outputs, definitions, inputs = _fold(outputs, definitions, inputs, defaults, vary)
        defaults = {name: value for name, value in defaults.items() if name in vary}
    return SymbolicModel(
        pack_spec,
        accounting,
        outputs,
        definitions,
        inputs,
        defaults,
        tuple(symbol.name for symbol in kept),
        _aliases(pack_spec, kept),
    )


def _baseline_bindings(pack: FormulaPack, bindings: Bindings) -> Bindings:
    """The same inputs without speculation: K = 0 and one committed token per step."""
    plain = {
        pack.symbol("K"): BoundValue(sp.Integer(0), "baseline: no speculation"),
        pack.symbol("E_commit"): BoundValue(sp.Integer(1), "baseline: one token per step"),
    }
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


def _selected(
    outputs: dict[str, sp.Expr], definitions: list[tuple[sp.Symbol, sp.Expr]], patterns: Sequence[str]
) -> tuple[dict[str, sp.Expr], list[tuple[sp.Symbol, sp.Expr]]]:
    """The outputs matching ``patterns`` (limits always kept), and only the definitions they use."""
    chosen = {
        name: expression
        for name, expression in outputs.items()
        if name.startswith("limit.") or any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)
    }
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


def _fold(
    outputs: dict[str, sp.Expr],
    definitions: list[tuple[sp.Symbol, sp.Expr]],
    inputs: list[sp.Symbol],
    defaults: dict[str, float],
    vary: Sequence[str],
):
    """Replace every input not in ``vary`` by its value; an input without one cannot be folded."""
    unknown = sorted(set(vary) - {symbol.name for symbol in inputs})
    if unknown:
        raise SymcostError(
            f"cannot vary {', '.join(unknown)}: the inputs are {', '.join(symbol.name for symbol in inputs)}"
        )
    unvalued = [symbol.name for symbol in inputs if symbol.name not in vary and symbol.name not in defaults]
    if unvalued:
        raise SymcostError(f"{', '.join(unvalued)} has no default value: vary it (in a sweep, give it an axis)")
    values = {symbol: sp.Float(defaults[symbol.name]) for symbol in inputs if symbol.name not in vary}
    return (
        {name: expression.xreplace(values) for name, expression in outputs.items()},
        [(symbol, expression.xreplace(values)) for symbol, expression in definitions],
        [symbol for symbol in inputs if symbol.name in vary],
    )


def variable_names(pack: FormulaPack) -> set[str]:
    """The names a selfspec model can keep variable: its axes and stats inputs, and every hardware or
    model coefficient by pack symbol or input field."""
    names = {symbol.name for symbol in _axes(pack)}
    return names | {
        known for spec in pack.symbols.values() if spec.source in ("hardware", "model") for known in _user_names(spec)
    }


def _keepable(pack: FormulaPack, name: str) -> sp.Symbol:
    """The symbol of a coefficient to keep symbolic, by pack symbol (``e_AD``) or input field
    (``adc_draft.energy_pj_per_conversion``, with or without the ``hardware.`` prefix)."""
    by_name = {
        known: spec
        for spec in pack.symbols.values()
        if spec.source in ("hardware", "model")
        for known in _user_names(spec)
    }
    spec = by_name.get(name)
    if spec is None:
        names = sorted(by_name)
        close = [known for known in names if known.startswith(name)][:3] or difflib.get_close_matches(name, names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `symcost audit` lists the coefficients"
        axes = ", ".join(symbol.name for symbol in _axes(pack))
        raise SymcostError(f"{name!r} is neither an input ({axes}) nor a coefficient of pack {pack.name}{hint}")
    return spec.symbol


def _axes(pack: FormulaPack) -> list[sp.Symbol]:
    """The inputs every evaluator takes: the pack's axes (L_prompt) and stats (K, E[a+1], alpha; not the
    histogram, a table that E[a+1] sums over)."""
    return [
        spec.symbol
        for spec in pack.symbols.values()
        if spec.source in ("axis", "stats") and spec.symbol != pack.index.step and spec.table is None
    ]


def _inputs(pack: FormulaPack, kept: list[sp.Symbol]) -> list[sp.Symbol]:
    return _axes(pack) + kept
