"""The analytical LLM model: ``formulas/llm.yaml`` -> one compiled numpy function.

The pack is a chain of quantities (:mod:`symcost.chain`), compiled once into
one evaluator that takes an array per input, so a single scenario and a 10^5
candidate solver run are the same call. The pack's derived symbols (the
computing device's peak rate at the format's precision, a dense model's one
expert, the offload the runtime allows) are computed first, each once, and
the quantities read them as they are written. The evaluator is kept in the
on-disk evaluator cache (:mod:`symcost.cache`), keyed by the pack's content
and the versions, so a process that finds it there runs no SymPy
derivation or code generation for it; beside it, what binding a scenario
needs of the pack (:mod:`.pack_symbols`), so a warm process does not import
SymPy at all: the pack and its chain are built only for what prints
formulas (``llm audit``) and on a cold build.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import numpy as np

from ... import __version__
from ...cache import CacheEntry, input_key, version_file
from ...compile import Evaluator, numpy_modules
from ...registry import packaged_pack
from .inputs import BoundScenario, bind_numbers, bind_scenario
from .pack_symbols import PackSymbols, ScenarioNumbers, pack_symbols
from .scenario import Scenario

if TYPE_CHECKING:  # the pack and its chain (SymPy) are built only for formulas and on a cold build
    import sympy as sp

    from ...chain import Chain
    from ...pack import FormulaPack

PACK_NAME = "llm"
# How the evaluator is built from the pack (derived symbols first): part of its cache key.
RECIPE = "llm analytic evaluator 2"


@dataclass(frozen=True)
class AnalyticModel:
    pack_path: str
    symbols: PackSymbols  # what binding and evaluating need of the pack, without SymPy
    evaluator: Evaluator
    scalar: Callable[..., Sequence[float]]  # the definitions as written (no common subexpressions), on Python floats

    @property
    def chain(self) -> Chain:
        """The pack's chain of quantities (SymPy): for what shows formulas (``llm audit``)."""
        return _chain(self.pack_path)

    @property
    def pack(self) -> FormulaPack:
        return self.chain.pack

    @property
    def input_names(self) -> tuple[str, ...]:
        return self.symbols.input_names

    @property
    def definitions(self) -> dict[str, sp.Expr]:
        """Quantity -> its formula over inputs and earlier quantities."""
        return {symbol.name: expression for symbol, expression in self.chain.definitions}

    def bind(self, scenario: Scenario) -> ScenarioNumbers:
        """The scenario's numbers (no SymPy; the same numbers as :meth:`bind_exact`)."""
        return bind_numbers(self.symbols, scenario)

    def bind_exact(self, scenario: Scenario) -> BoundScenario:
        """The scenario's values as SymPy expressions, with the pack's formulas (for audits)."""
        return bind_scenario(self.pack, scenario)

    def scenario_values(self, scenario: Scenario) -> dict[str, float]:
        """The evaluator's inputs (symbol name -> SI value) for one scenario."""
        return self.bind(scenario).numbers(self.input_names)

    def evaluate(self, values: dict[str, np.ndarray | float]) -> dict[str, np.ndarray]:
        """Every quantity (SI) for input values keyed by symbol name (``L``), scalars or arrays.

        All-scalar inputs take the float path (one scenario: no array overhead); its
        results are 0-d arrays like the array path's.
        """
        missing = [name for name in self.input_names if name not in values]
        if missing:
            raise KeyError(f"scenario lacks inputs: {', '.join(missing)}")
        ordered = [values[name] for name in self.input_names]
        if all(isinstance(value, (int, float)) for value in ordered):
            try:
                with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                    found = self.scalar(*map(float, ordered))
                return {name: np.float64(result) for name, result in zip(self.symbols.quantity_names, found)}
            except (ZeroDivisionError, OverflowError, ValueError):
                pass  # numpy's inf / nan semantics instead
        return self.evaluator(**dict(zip(self.input_names, ordered)))


def analytic_model(pack_path: str | Path | None = None) -> AnalyticModel:
    return _analytic_model(str(Path(pack_path or packaged_pack(PACK_NAME)).resolve()))


def scenario_values(scenario: Scenario) -> dict[str, float]:
    """The packaged model's inputs for one scenario (symbol name -> SI value)."""
    return analytic_model().scenario_values(scenario)


@lru_cache(maxsize=4)
def _chain(pack_path: str) -> Chain:
    from ...chain import build_chain
    from ...pack import load_pack

    return build_chain(load_pack(pack_path))


@lru_cache(maxsize=4)
def _analytic_model(pack_path: str) -> AnalyticModel:
    symbols = pack_symbols(pack_path, lambda: _chain(pack_path))
    evaluator = _cached(pack_path, symbols, "array", lambda: _array_function(_chain(pack_path)))
    scalar = _cached(pack_path, symbols, "scalar", lambda: _scalar_function(_chain(pack_path)))
    inputs = tuple(SimpleNamespace(name=name) for name in symbols.input_names)  # running needs their names only
    return AnalyticModel(pack_path, symbols, Evaluator(inputs, symbols.quantity_names, evaluator), scalar)


def _array_function(chain: Chain) -> Callable:
    from ...compile import compile_outputs

    return compile_outputs(
        {symbol.name: symbol for symbol, _ in chain.definitions},
        [spec.symbol for spec in chain.inputs],
        _definitions(chain),
    ).function


def _scalar_function(chain: Chain) -> Callable:
    """One scenario: the definitions in order as written (what lambdify prints without common
    subexpressions), on Python floats; numpy's functions give the same numbers as the math module's there."""
    import sympy as sp

    definitions = _definitions(chain)
    return sp.lambdify(
        [spec.symbol for spec in chain.inputs],
        [symbol for symbol, _ in chain.definitions],
        modules=numpy_modules(),
        cse=lambda expressions: (definitions, expressions),
    )


def _definitions(chain: Chain) -> list[tuple[sp.Symbol, sp.Expr]]:
    """The derived symbols the quantities use, then the quantities, each over inputs and earlier definitions.

    The quantities keep the derived symbols by name (``FLOP_step / (tp eta R_peak)``, not a
    Piecewise of reciprocals), so each is the arithmetic its formula writes.
    """
    pack, constants = chain.pack, chain.constants
    quantities = [(quantity.symbol, quantity.expression.xreplace(constants)) for quantity in pack.quantities]
    derived = [
        (spec.symbol, spec.definition.xreplace(constants))
        for spec in pack.symbols.values()
        if spec.definition is not None
    ]
    used = set().union(*(expression.free_symbols for _, expression in quantities))
    for symbol, expression in reversed(derived):
        if symbol in used:
            used |= expression.free_symbols
    return [(symbol, expression) for symbol, expression in derived if symbol in used] + quantities


def _cached(pack_path: str, symbols: PackSymbols, kind: str, generate: Callable[[], Callable]) -> Callable:
    """The generated function of ``kind``, from the evaluator cache when it holds it (no SymPy code
    generation then), else generated and stored."""
    inputs, outputs = list(symbols.input_names), list(symbols.quantity_names)
    entry = CacheEntry.for_key(
        input_key(
            [__version__, np.__version__, RECIPE, kind, *outputs],
            [("pack", Path(pack_path)), ("sympy", version_file("sympy", "release.py"))],
        )
    )
    cached = entry.load() if entry else None
    if cached and cached[1].get("inputs") == inputs and cached[1].get("outputs") == outputs:
        return cached[0]
    function = generate()
    if entry:
        entry.store(function, inspect.getsource(function), {"inputs": inputs, "outputs": outputs})
    return function
