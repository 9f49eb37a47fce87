"""The library entry point: input files -> compiled cost model -> numbers.

    >>> from symcost import build_model
    >>> model = build_model("model.yaml", "hardware.yaml", "stats.json")
    >>> results = model.evaluate(L_prompt=[128, 512, 2048])
    >>> results["speculative.energy_per_token"]        # J, one per prompt length
    >>> results["speculative.stage.draft.qkv.latency"]  # s per burst

Output names: :mod:`symcost.packs.selfspec.outputs`. Building is split by job:
:mod:`~symcost.packs.selfspec.recipe` (inputs and cache key), :mod:`~symcost.packs.selfspec.derive`
(closed forms), this module (the compiled model and its API).
"""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ...cache import CacheEntry
from ...compile import Evaluator, compile_outputs
from ...errors import SymcostError
from ...evaluator_points import evaluate_points
from ...finite import InputValue, bound_inputs, checked_evaluation, require_inputs
from ...registry import resolve_pack
from ...replace import Replacement
from .outputs import output_unit
from .recipe import Recipe

if TYPE_CHECKING:  # a model loaded from the evaluator cache runs without SymPy and the pack's accounting
    import numpy as np
    import sympy as sp

    from ...accounting import Accounting
    from ...pack import FormulaPack
    from .derive import SymbolicModel
    from .inputs import HardwareSpec, ModelSpec, StatsSpec


class InputName(NamedTuple):
    """An input of an evaluator loaded from the cache: its name is all that running it needs."""

    name: str


# Memos of closed forms with inputs fixed, one per set of values (a command asks for one or two sets).
_FIXINGS_KEPT = 8


@dataclass
class CostModel:
    """A compiled cost model; its inputs and closed forms are read and derived on first use.

    A model loaded from the evaluator cache runs without SymPy until something
    asks for a closed form (``pack``, ``accounting``, ``outputs``, ``closed_form``).
    """

    recipe: Recipe
    evaluator: Evaluator
    defaults: dict[str, float]
    kept: tuple[str, ...]  # coefficients left symbolic, by pack symbol name
    limits: tuple[tuple[str, str], ...]  # (name, message) of the pack's validity limits
    cache: CacheEntry | None = None
    # Kept coefficients by every name a user may give (pack symbol, input field): (input, factor to SI)
    aliases: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def output_names(self) -> tuple[str, ...]:
        # The limits' value/maximum outputs are checks that evaluation pops, not results to report.
        return tuple(name for name in self.evaluator.names if not name.startswith("limit."))

    def unit(self, name: str) -> str:
        """The SI unit of an output."""
        return output_unit(name)

    def domain(self, name: str) -> str:
        """The domain of the input ``name`` (axis or kept coefficient): L_prompt and K take whole numbers."""
        from ...pack import domain_of, load_pack

        spec = load_pack(self.recipe.pack_path).symbols.get(self.input_for(name)[0])
        return "real" if spec is None else domain_of(spec.symbol)

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
        raise SymcostError(
            f"unknown input {name!r}; this model's inputs are "
            f"{', '.join(sorted({*self.evaluator.input_names, *self.aliases}))}"
        )

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
        from .derive import derive

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
        return self._fixing(values)(expression) if values else expression

    def _fixing(self, values: Mapping[str, float]) -> Replacement:
        """Evaluator inputs by name to ``values``: one memo per set of values, the outputs share their parts."""
        import sympy as sp

        key = tuple(sorted(values.items()))
        if key not in self._fixings:
            if len(self._fixings) >= _FIXINGS_KEPT:  # a long-lived model (the service) asked for many: oldest out
                del self._fixings[next(iter(self._fixings))]
            numbers = {name: sp.Float(value) for name, value in key}
            # By name: a cached evaluator's input symbols carry no assumptions, the pack's do.
            self._fixings[key] = Replacement(lambda node: numbers.get(node.name) if node.is_Symbol else None)
        return self._fixings[key]

    @cached_property
    def _fixings(self) -> dict[tuple, Replacement]:
        return {}

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
        return self.evaluate_within_limits(raise_beyond=True, **inputs)[0]

    def evaluate_points(self, **inputs) -> Mapping[str, Sequence[float]]:
        """As :meth:`evaluate`, for a few points (inputs as numbers or lists): the same numbers to the bit,
        as lists without importing numpy where the evaluator came from the cache and allows it."""
        values = self._checked_inputs(inputs)
        points = getattr(self.evaluator.function, "points", None)
        evaluator = self.evaluator
        found = points and evaluate_points(points, evaluator.input_names, evaluator.names, values, self.limits)
        return found or self.evaluate(**inputs)

    def _checked_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The defaults overridden by ``inputs``; an error naming any evaluator input still missing."""
        values = {**self.defaults, **inputs}
        require_inputs(self.evaluator.input_names, values)
        return values

    def evaluate_within_limits(self, raise_beyond: bool = False, **inputs) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every output, and a mask of the points within the pack's limits (the context capacity)."""
        values = self._checked_inputs(inputs)
        return checked_evaluation(self.evaluator, values, self.limits, self._bound_inputs, mask_limits=not raise_beyond)

    def _bound_inputs(self) -> list[InputValue]:
        from ...pack import load_pack
        from .binding import bind

        pack = load_pack(self.recipe.pack_path)
        return bound_inputs(pack, bind(pack, self.model, self.hardware, self.stats).values)


def build_model(
    model_path: str | Path | ModelSpec,
    hardware_path: str | Path | HardwareSpec,
    stats_path: str | Path | StatsSpec,
    *,
    pack: str | Path = "selfspec",
    library_path: list[str] | None = None,
    keep: Iterable[str] = (),
    only: Iterable[str] = (),
    vary: Iterable[str] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    compile_on_use: bool = False,
) -> CostModel:
    """Read and validate the inputs, account the pack, and compile its evaluator.

    ``keep`` names hardware symbols to leave symbolic (they become evaluator
    inputs, e.g. for a sweep over a coefficient). Each input is a file path or
    an already-read spec (a hardware file read with overrides, stats made in code).
    ``only`` restricts the evaluator to some outputs (names or fnmatch patterns
    such as ``speculative.*_per_token``): fewer outputs compile and run faster,
    e.g. for large sweeps. ``vary`` names the inputs that stay variable
    (e.g. only ``L_prompt``); the others are folded into the closed forms as
    their values from the inputs, which simplifies them before compilation.
    ``overrides`` ({"hardware": {"analog.adc.draft_bits": 5}}) change fields of the files before they
    are checked. A compiled evaluator is cached on disk (:mod:`symcost.cache`): with the
    same inputs, the next build skips SymPy. ``compile_on_use`` leaves the compile (and its storing) to the
    first evaluation: an audit lays out its closed forms while a forked child compiles for the break-even.
    """
    recipe = recipe_of(**locals())
    return model_from_recipe(recipe, recipe.cache_entry(), compile_on_use=compile_on_use)


def recipe_of(*arguments: Any, **options: Any) -> Recipe:
    """The recipe :func:`build_model` follows for these arguments (its cache entry names what is built).

    ``compile_on_use`` is accepted and ignored: it changes when the evaluator is compiled, not what.
    """
    given = inspect.signature(build_model).bind(*arguments, **options)
    given.apply_defaults()
    argument = given.arguments
    return Recipe(
        resolve_pack(argument["pack"]),
        argument["model_path"],
        argument["hardware_path"],
        argument["stats_path"],
        tuple(argument["library_path"] or ()),
        tuple(argument["keep"]),
        tuple(argument["only"]),
        None if argument["vary"] is None else tuple(argument["vary"]),
        json.dumps(argument["overrides"], sort_keys=True) if argument["overrides"] else "",
    )


def model_from_recipe(recipe: Recipe, entry: CacheEntry | None, *, compile_on_use: bool = False) -> CostModel:
    """As :func:`build_model`, for a caller that already holds the recipe and ``entry``, its
    ``recipe.cache_entry()`` (whose key hashes every input file: computed once, e.g. to ask whether it is stored)."""
    cached = entry.load() if entry else None
    return _loaded(recipe, entry, *cached) if cached else _compiled(recipe, entry, now=not compile_on_use)


class Build(NamedTuple):
    """A build worked out before it runs: the recipe, its cache entry and whether the entry holds the evaluator.

    The entry's key hashes every input file. A caller that first asks whether the model is cached (a plot forks
    the SymPy work when it is not; the service picks its worker lane) builds from the same entry instead of keying
    the files again; it pickles, so a worker process can take it."""

    recipe: Recipe
    entry: CacheEntry | None
    compiled: bool  # the cached evaluator is there: the build takes milliseconds, not seconds of SymPy

    @classmethod
    def of(cls, *arguments: Any, **options: Any) -> Build:
        """For :func:`build_model`'s arguments (``compile_on_use`` aside)."""
        recipe = recipe_of(*arguments, **options)
        entry = recipe.cache_entry()
        return cls(recipe, entry, entry is not None and entry.exists())

    def model(self) -> CostModel:
        return model_from_recipe(self.recipe, self.entry)


def _loaded(recipe: Recipe, entry: CacheEntry, function: Callable, meta: dict) -> CostModel:
    evaluator = Evaluator(tuple(InputName(name) for name in meta["inputs"]), tuple(meta["outputs"]), function)
    aliases = {name: (input_name, factor) for name, (input_name, factor) in meta["aliases"].items()}
    return CostModel(
        recipe, evaluator, meta["defaults"], tuple(meta["kept"]), tuple(map(tuple, meta["limits"])), entry, aliases
    )


def _compiled(recipe: Recipe, entry: CacheEntry | None, now: bool = True) -> CostModel:
    """Derive the closed forms and compile them (SymPy), storing the evaluator in ``entry``; with ``now``
    false, the compile waits for the first evaluation."""
    from .derive import derive

    if sys.stderr.isatty():  # the one step of a command that can take seconds: say why, and that it happens once
        print("compiling the cost model for these inputs (the next run takes it from the cache)...", file=sys.stderr)
    symbolic = derive(recipe, recipe.read_model(), recipe.read_hardware(), recipe.read_stats())
    limits = tuple((limit[0], limit[3]) for limit in symbolic.accounting.limits)
    function = _CompileOnUse(symbolic, entry, limits)
    evaluator = Evaluator(tuple(symbolic.inputs), tuple(symbolic.outputs), function.compiled if now else function)
    cost_model = CostModel(recipe, evaluator, symbolic.defaults, symbolic.kept, limits, entry, symbolic.aliases)
    cost_model.symbolic = symbolic
    return cost_model


class _CompileOnUse:
    """A model's evaluator function, compiled (and stored in the cache entry) when first needed.

    Compiled in a forked child (an audit's break-even), it is stored there; this process then loads it
    from the entry if it ever needs it, instead of compiling again.
    """

    def __init__(self, symbolic: SymbolicModel, entry: CacheEntry | None, limits: tuple[tuple[str, str], ...]):
        self.symbolic, self.entry, self.limits = symbolic, entry, limits

    def __call__(self, *arrays):
        return self.compiled(*arrays)

    @cached_property
    def compiled(self) -> Callable:
        stored = self.entry.load() if self.entry and self.entry.exists() else None
        if stored:
            return stored[0]
        symbolic = self.symbolic
        evaluator = compile_outputs(symbolic.outputs, symbolic.inputs, symbolic.definitions)
        if self.entry:
            meta = {
                "inputs": list(evaluator.input_names),
                "outputs": list(evaluator.names),
                "defaults": symbolic.defaults,
                "kept": list(symbolic.kept),
                "limits": [list(limit) for limit in self.limits],
                "aliases": symbolic.aliases,
            }
            self.entry.store(evaluator.function, evaluator.source(), meta)
        return evaluator.function
