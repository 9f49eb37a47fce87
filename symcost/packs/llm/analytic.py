"""The analytical LLM model: ``formulas/llm.yaml`` -> one compiled numpy function.

The pack is a chain of quantities (:mod:`symcost.chain`), compiled once into
one evaluator that takes an array per input, so a single scenario and a 10^5
candidate solver run are the same call. The pack's derived symbols (the
computing device's peak rate at the format's precision, a dense model's one
expert, the offload the runtime allows) are computed first, each once, and
the quantities read them as they are written. The evaluator is kept in the
on-disk evaluator cache (:mod:`symcost.cache`), keyed by the pack's content
and the versions, so a process that finds it there runs no SymPy
derivation or code generation for it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import sympy as sp

from ... import __version__
from ...cache import CacheEntry, input_key
from ...chain import Chain, build_chain
from ...compile import Evaluator, compile_outputs
from ...pack import FormulaPack, SymbolSpec, load_pack
from ...registry import packaged_pack
from .inputs import BoundScenario, bind_scenario
from .scenario import Scenario

PACK_NAME = "llm"
# How the evaluator is built from the pack (derived symbols first): part of its cache key.
RECIPE = "llm analytic evaluator 2"


@dataclass(frozen=True)
class AnalyticModel:
    chain: Chain
    evaluator: Evaluator
    scalar: Callable[..., Sequence[float]]  # the definitions as written (no common subexpressions), on Python floats

    @property
    def pack(self) -> FormulaPack:
        return self.chain.pack

    @property
    def inputs(self) -> tuple[SymbolSpec, ...]:
        """Pack symbols a scenario supplies, in evaluator order."""
        return self.chain.inputs

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.inputs)

    @property
    def definitions(self) -> dict[str, sp.Expr]:
        """Quantity -> its formula over inputs and earlier quantities."""
        return {symbol.name: expression for symbol, expression in self.chain.definitions}

    def bind(self, scenario: Scenario) -> BoundScenario:
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
                return {name: np.float64(result) for name, result in zip(self.chain.quantity_names, found)}
            except (ZeroDivisionError, OverflowError, ValueError):
                pass  # numpy's inf / nan semantics instead
        return self.evaluator(**dict(zip(self.input_names, ordered)))


def analytic_model(pack_path: str | Path | None = None) -> AnalyticModel:
    return _analytic_model(str(Path(pack_path or packaged_pack(PACK_NAME)).resolve()))


def scenario_values(scenario: Scenario) -> dict[str, float]:
    """The packaged model's inputs for one scenario (symbol name -> SI value)."""
    return analytic_model().scenario_values(scenario)


@lru_cache(maxsize=4)
def _analytic_model(pack_path: str) -> AnalyticModel:
    chain = build_chain(load_pack(pack_path))
    definitions = _definitions(chain)
    evaluator = _cached(
        chain,
        "array",
        lambda: (
            compile_outputs(
                {symbol.name: symbol for symbol, _ in chain.definitions},
                [spec.symbol for spec in chain.inputs],
                definitions,
            ).function
        ),
    )
    # One scenario: the definitions in order as written (what lambdify prints without common subexpressions),
    # on Python floats; numpy's functions give the same numbers as the math module's there.
    scalar = _cached(
        chain,
        "scalar",
        lambda: sp.lambdify(
            [spec.symbol for spec in chain.inputs],
            [symbol for symbol, _ in chain.definitions],
            modules=[{"float64": np.float64}, "numpy"],
            cse=lambda expressions: (definitions, expressions),
        ),
    )
    return AnalyticModel(
        chain, Evaluator(tuple(spec.symbol for spec in chain.inputs), chain.quantity_names, evaluator), scalar
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


def _cached(chain: Chain, kind: str, generate: Callable[[], Callable]) -> Callable:
    """The generated function of ``kind``, from the evaluator cache when it holds it (no SymPy code
    generation then), else generated and stored."""
    inputs, outputs = [spec.name for spec in chain.inputs], list(chain.quantity_names)
    entry = CacheEntry.for_key(
        input_key(
            [__version__, sp.__version__, np.__version__, RECIPE, kind, *outputs], [("pack", Path(chain.pack.source))]
        )
    )
    cached = entry.load() if entry else None
    if cached and cached[1].get("inputs") == inputs and cached[1].get("outputs") == outputs:
        return cached[0]
    function = generate()
    if entry:
        entry.store(function, inspect.getsource(function), {"inputs": inputs, "outputs": outputs})
    return function
