"""Compiling closed forms into one vectorised numpy evaluator.

All outputs are lambdified together with common-subexpression elimination,
so shared sub-terms are computed once. Inputs are forced to float64 (integer
arrays would overflow silently in polynomial terms) and every output is
broadcast to the common input shape (a constant output would otherwise come
back as a Python scalar).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import sympy as sp


_FLOAT64 = sp.Function("float64")


@dataclass(frozen=True)
class Evaluator:
    """``evaluator(**inputs)`` -> {output name: float64 array}."""

    inputs: tuple[sp.Symbol, ...]
    names: tuple[str, ...]
    function: Callable[..., Sequence]

    def source(self) -> str:
        """The generated Python source of the evaluator (numpy calls only)."""
        return inspect.getsource(self.function)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(symbol.name for symbol in self.inputs)

    def __call__(self, **values) -> dict[str, np.ndarray]:
        missing = [name for name in self.input_names if name not in values]
        if missing:
            raise KeyError(f"missing evaluator inputs: {', '.join(missing)}")
        # Broadcast views, not just a common shape: printed And/Or reduce over a tuple of arrays,
        # which numpy refuses when their shapes differ.
        arrays = np.broadcast_arrays(*(np.asarray(values[name], dtype=np.float64) for name in self.input_names))
        shape = arrays[0].shape if arrays else ()
        with np.errstate(divide="ignore", invalid="ignore"):
            results = self.function(*arrays)
        return {name: np.broadcast_to(np.asarray(result, dtype=np.float64), shape).copy()
                for name, result in zip(self.names, results)}


def compile_outputs(outputs: Mapping[str, sp.Expr], inputs: Sequence[sp.Symbol],
                    definitions: Sequence[tuple[sp.Symbol, sp.Expr]] = ()) -> Evaluator:
    """One numpy function returning every output, over the given input symbols.

    ``definitions`` are intermediate quantities, evaluated in order before the
    outputs (which may refer to them by symbol).
    """
    names = tuple(outputs)
    expressions = [sp.sympify(outputs[name]) for name in names]
    known = set(inputs) | {symbol for symbol, _ in definitions}
    stray = set().union(*(expression.free_symbols for expression in expressions),
                        *(expression.free_symbols for _, expression in definitions)) - known
    if stray:
        raise ValueError(f"outputs depend on symbols that are not inputs: {', '.join(sorted(map(str, stray)))}")

    def eliminate_common_subexpressions(exprs):
        # Definitions first, each with its own sub-expressions, then the outputs.
        steps = []
        for index, (symbol, expression) in enumerate(definitions):
            replacements, (reduced,) = sp.cse([expression], symbols=sp.numbered_symbols(f"_d{index}_"))
            # A definition that folded to a constant would be a Python float, whose 0.0 ** -1
            # raises where numpy gives inf: keep every value a numpy float.
            steps += replacements + [(symbol, _FLOAT64(reduced) if reduced.is_number else reduced)]
        replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_o"))
        return steps + replacements, reduced

    function = sp.lambdify(list(inputs), expressions, modules=[{"float64": np.float64}, "numpy"],
                           cse=eliminate_common_subexpressions)
    return Evaluator(tuple(inputs), names, function)
