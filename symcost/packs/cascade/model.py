"""The cascade engine: a cascade file and ``formulas/cascade.yaml`` -> closed forms -> numbers.

The pack's quantities carry a scope. ``stage`` quantities are evaluated for
every stage in order, so a symbol bound to ``previous.X`` is the previous
stage's X; ``level`` quantities once per memory level; ``cascade`` quantities
once. Symbols of source ``engine`` name what the engine links in:

* ``previous.X``: X of the stage before;
* ``sum.X`` / ``product.X``: X summed or multiplied over the stages (in level
  scope, over the stages placed on the level);
* ``last.X``: X of the last stage;
* ``stage.is_first``, ``stage.has_weights``, ``stage.has_parameters``,
  ``level.per_core``, ``level.per_chip``: 0/1 structure switches;
* ``index.position``: the index ``sum_steps`` sums over.

Inputs (``stage.F``, ``level.F``, ``system.F``) become one symbol per stage
(``T_0``, ``K_1``) or level (``BW_HBM``) and stay symbolic in the closed
forms; the compiled evaluator takes them, defaulting to the file's values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
import sympy as sp

from ...aggregates import at_step, layer_max, sum_steps
from ...binder import bind_one
from ...compile import Evaluator, compile_outputs
from ...errors import SymcostError
from ...input_tree import InputTree
from ...pack import FormulaPack, QuantitySpec, SymbolSpec, load_pack
from ...registry import packaged_pack
from ...sums import closed_sum
from ...units import field_unit, parse_unit
from .config import CascadeConfig, Level, Stage

SCOPES = ("stage", "level", "cascade")


class CascadeError(SymcostError):
    """The pack and the cascade engine do not fit together."""


@dataclass(frozen=True)
class CascadeModel:
    config: CascadeConfig
    pack: FormulaPack
    outputs: dict[str, sp.Expr]  # stage.NAME.Q, level.NAME.Q, cascade.Q -> closed form
    units: dict[str, str]  # output -> the pack quantity's unit (values are SI)
    values: dict[sp.Symbol, float]  # input symbol -> SI value from the file
    provenance: dict[sp.Symbol, str]  # input symbol -> where its value comes from
    evaluator: Evaluator
    origins: dict[sp.Symbol, tuple[str, str | None]]  # input symbol -> (pack symbol, stage index or level name)

    def evaluate(self, **inputs) -> dict[str, np.ndarray]:
        """Every output; inputs not given (by symbol name, e.g. K_0) take the file's values."""
        return self.evaluator(**{**{symbol.name: value for symbol, value in self.values.items()}, **inputs})

    def figures(self) -> dict[str, float]:
        """Every output at the file's values."""
        return {name: float(value) for name, value in self.evaluate().items()}

    def symbol(self, name: str) -> sp.Symbol:
        return next(symbol for symbol in self.values if symbol.name == name)


def build_cascade(config: CascadeConfig, pack: str | None = None) -> CascadeModel:
    pack_spec = load_pack(pack or packaged_pack("cascade"))
    engine = _Engine(pack_spec, config)
    outputs, units = engine.run()
    inputs = sorted(set().union(*(expression.free_symbols for expression in outputs.values())), key=str)
    stray = [symbol for symbol in inputs if symbol not in engine.values]
    if stray:
        raise CascadeError(f"outputs depend on symbols with no value: {', '.join(map(str, stray))}")
    values = {symbol: engine.values[symbol] for symbol in inputs}
    provenance = {symbol: engine.provenance[symbol] for symbol in inputs}
    origins = {symbol: engine.origins[symbol] for symbol in inputs}
    return CascadeModel(
        config, pack_spec, outputs, units, values, provenance, compile_outputs(outputs, inputs), origins
    )


class _Engine:
    def __init__(self, pack: FormulaPack, config: CascadeConfig):
        self.pack, self.config = pack, config
        self.values: dict[sp.Symbol, float] = {}
        self.provenance: dict[sp.Symbol, str] = {}
        self.origins: dict[sp.Symbol, tuple[str, str | None]] = {}
        self.stage_results: list[dict[str, sp.Expr]] = [{} for _ in config.stages]
        self.index = position_index(pack)
        self.check_bindings()

    # -- structure -----------------------------------------------------------------------
    def check_bindings(self) -> None:
        for spec in self.pack.symbols.values():
            kind, _, name = (spec.binding or "").partition(".")
            if kind in ("stage", "level", "system") and spec.source != "engine":
                unit = field_unit(name)
                if unit is not None and unit != spec.unit:
                    raise CascadeError(f"pack symbol {spec.name}: field {name} is in {unit}, the symbol in {spec.unit}")

    def alternatives(self, scope: str) -> dict[str, list[QuantitySpec]]:
        grouped: dict[str, list[QuantitySpec]] = {}
        for quantity in self.pack.quantities:
            if quantity.scope == scope:
                grouped.setdefault(quantity.name, []).append(quantity)
        return grouped

    def run(self) -> tuple[dict[str, sp.Expr], dict[str, str]]:
        unknown = {q.scope for q in self.pack.quantities} - set(SCOPES)
        if unknown:
            raise CascadeError(
                f"pack {self.pack.name}: quantity scopes {sorted(map(str, unknown))} are not among {SCOPES}"
            )
        outputs: dict[str, sp.Expr] = {}
        units: dict[str, str] = {}
        # Quantity by quantity across the stages: previous.X then always refers to a computed X.
        for name, options in self.alternatives("stage").items():
            for index, stage in enumerate(self.config.stages):
                value = self.evaluate(
                    options, partial(self.stage_value, index=index), self.stage_results[index], f"stage {stage.name}"
                )
                if value is not None:
                    self.stage_results[index][name] = value
                    outputs[f"stage.{stage.name}.{name}"], units[f"stage.{stage.name}.{name}"] = value, options[0].unit
        for level in self.config.levels:
            results: dict[str, sp.Expr] = {}
            for name, options in self.alternatives("level").items():
                value = self.evaluate(options, partial(self.level_value, level=level), results, f"level {level.name}")
                if value is not None:
                    results[name] = outputs[f"level.{level.name}.{name}"] = value
                    units[f"level.{level.name}.{name}"] = options[0].unit
        results = {}
        for name, options in self.alternatives("cascade").items():
            value = self.evaluate(options, self.cascade_value, results, "cascade")
            if value is not None:
                results[name] = outputs[f"cascade.{name}"] = value
                units[f"cascade.{name}"] = options[0].unit
        return outputs, units

    def evaluate(
        self,
        options: list[QuantitySpec],
        resolve: Callable[[SymbolSpec], sp.Expr],
        earlier: dict[str, sp.Expr],
        where: str,
    ) -> sp.Expr | None:
        """The active alternative's expression with every symbol resolved (None when none applies)."""
        active = [q for q in options if q.when is None or self.substitute(q.when, resolve, earlier, where) != 0]
        if len(active) > 1:
            raise CascadeError(f"{where}: more than one alternative of quantity {options[0].name} applies")
        if not active:
            return None
        return expand_sums(
            self.substitute(active[0].expression, resolve, earlier, f"{where}: {active[0].name}"), self.index
        )

    def substitute(self, expression: sp.Expr, resolve, earlier: dict[str, sp.Expr], where: str) -> sp.Expr:
        table = {}
        for symbol in expression.free_symbols:
            if symbol.name in earlier:
                table[symbol] = earlier[symbol.name]
            elif symbol.name in self.pack.symbols and symbol != self.index:
                try:
                    table[symbol] = resolve(self.pack.symbols[symbol.name])
                except LookupError as exc:
                    raise CascadeError(f"{where}: {exc}") from None
        return expression.xreplace(table)

    # -- values of symbols in each scope ---------------------------------------------------
    def stage_value(self, spec: SymbolSpec, index: int) -> sp.Expr:
        stage = self.config.stages[index]
        kind, _, name = (spec.binding or "").partition(".")
        level = self.config.level(stage.placement.level)
        if spec.source == "constant" or kind == "system":
            return self.common_value(spec)
        if kind == "level":
            return self.level_value(spec, level)
        if kind == "stage" and spec.source == "engine":
            switches = {
                "is_first": int(index == 0),
                "has_weights": int(stage.weights_bytes is not None),
                "has_parameters": int(stage.parameters is not None),
            }
            return sp.Integer(switches[name])
        if kind == "stage":
            return self.input(
                spec, str(index), _stage_fields(stage).get(name), f"{self.config.label}: stage {stage.name}: {name}"
            )
        if kind == "previous":
            if index == 0:
                raise LookupError(f"{spec.name} ({spec.binding}) is used at the first stage, which has no previous one")
            return self.of_stage(name, index - 1)
        return self.aggregate(spec, kind, name, range(len(self.config.stages)))

    def level_value(self, spec: SymbolSpec, level: Level) -> sp.Expr:
        kind, _, name = (spec.binding or "").partition(".")
        if spec.source == "constant" or kind == "system":
            return self.common_value(spec)
        if kind == "level" and spec.source == "engine":
            return sp.Integer(int(level.per == name.removeprefix("per_")))
        if kind == "level":
            return self.input(
                spec, level.name, getattr(level, name, None), f"{self.config.label}: memory level {level.name}: {name}"
            )
        placed = [index for index, stage in enumerate(self.config.stages) if stage.placement.level == level.name]
        return self.aggregate(spec, kind, name, placed)

    def cascade_value(self, spec: SymbolSpec) -> sp.Expr:
        kind, _, _ = (spec.binding or "").partition(".")
        if spec.source == "constant" or kind == "system":
            return self.common_value(spec)
        return self.aggregate(spec, kind, spec.binding.partition(".")[2], range(len(self.config.stages)))

    def common_value(self, spec: SymbolSpec) -> sp.Expr:
        if spec.source == "constant":
            return sp.nsimplify(spec.value) * sp.nsimplify(parse_unit(spec.unit).si_factor)
        name = spec.binding.partition(".")[2]
        return self.input(spec, None, getattr(self.config.system, name, None), f"{self.config.label}: system: {name}")

    def aggregate(self, spec: SymbolSpec, kind: str, name: str, stages) -> sp.Expr:
        stages = list(stages)
        if kind == "sum":
            return sp.Add(*(self.of_stage(name, index) for index in stages))
        if kind == "product":
            return sp.Mul(*(self.of_stage(name, index) for index in stages))
        if kind == "last":
            return self.of_stage(name, len(self.config.stages) - 1)
        raise LookupError(f"symbol {spec.name}: binding {spec.binding!r} means nothing here")

    def of_stage(self, name: str, index: int) -> sp.Expr:
        """A stage's computed quantity, or its input of that name."""
        if name in self.stage_results[index]:
            return self.stage_results[index][name]
        spec = self.pack.symbols.get(name)
        if spec is None or not (spec.binding or "").startswith(("stage.", "level.")):
            raise LookupError(
                f"{name} is neither a computed quantity nor an input of stage {self.config.stages[index].name}"
            )
        return self.stage_value(spec, index)

    def input(self, spec: SymbolSpec, suffix: str | None, value: float | None, provenance: str) -> sp.Symbol:
        """The symbol of ``spec`` for one stage (suffix: its index), one level (its name) or the system (None)."""
        name = spec.name if suffix is None else f"{spec.name}_{suffix}"
        if value is None:
            raise LookupError(
                f"{spec.name} needs {provenance.rpartition(': ')[2]}, which is not given "
                f"({provenance.rpartition(':')[0]})"
            )
        if name != spec.name and name in self.pack.symbols:
            raise CascadeError(f"input {spec.name} of {provenance} would be named {name}, which the pack declares")
        symbol = sp.Symbol(name, **spec.symbol.assumptions0)
        # The generic binder converts the field (unit by its name, else the symbol's) to SI, as for every pack.
        where, _, field = provenance.rpartition(": ")
        self.values[symbol] = float(
            bind_one(replace(spec, binding=field), InputTree({field: value}, {field: where})).value
        )
        self.provenance[symbol] = provenance
        self.origins[symbol] = (spec.name, suffix)
        return symbol


def position_index(pack: FormulaPack) -> sp.Symbol | None:
    """The symbol ``sum_steps`` sums over (bound to ``index.position``)."""
    return next((spec.symbol for spec in pack.symbols.values() if spec.binding == "index.position"), None)


def expand_sums(expression: sp.Expr, index: sp.Symbol | None) -> sp.Expr:
    """``sum_steps(x, lo, hi)`` in closed form over ``index``; the burst engine's other functions are refused."""
    for node in sp.preorder_traversal(expression):
        if isinstance(node, (at_step, layer_max)):
            raise CascadeError(f"{type(node).__name__}() has no meaning in a cascade")
    sums = {}
    for node in expression.atoms(sum_steps):
        if len(node.args) != 3 or index is None:
            raise CascadeError(f"{node}: a cascade sum needs bounds and a symbol bound to index.position")
        sums[node] = closed_sum(node.args[0], index, node.args[1], node.args[2])
    return expression.xreplace(sums)


def _stage_fields(stage: Stage) -> dict[str, float | None]:
    return {
        "parameters": stage.parameters,
        "bits_per_param": stage.bits_per_param,
        "weights_bytes": stage.weights_bytes,
        "shards": stage.placement.shards,
        "compute_time_ns": stage.compute_time_ns,
        "acceptance": stage.acceptance,
        "speculation": stage.speculation,
    }
