"""The analytical LLM model: ``formulas/llm.yaml`` -> one compiled numpy function.

Every quantity of the pack is a definition over the pack's input symbols and
the quantities before it. They are compiled once per pack file into one
evaluator that takes an array per input, so a single scenario and a 10^5
candidate solver run are the same call.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from ..compile import Evaluator, compile_outputs
from ..model import packaged_pack
from ..pack import FormulaPack, SymbolSpec, load_pack
from ..units import parse_unit

PACK_NAME = "llm"


@dataclass(frozen=True)
class AnalyticModel:
    pack: FormulaPack
    inputs: tuple[SymbolSpec, ...]          # pack symbols a scenario supplies, in evaluator order
    definitions: dict[str, sp.Expr]         # quantity -> its formula over inputs and earlier quantities
    evaluator: Evaluator
    scalar: Callable[..., Sequence[float]]  # the same definitions on Python floats (math module)

    def evaluate(self, values: dict[str, np.ndarray | float]) -> dict[str, np.ndarray]:
        """Every quantity (SI) for input values keyed by binding (``model.layers``), scalars or arrays.

        All-scalar inputs take the float path (one scenario: no array overhead); its
        results are 0-d arrays like the array path's.
        """
        missing = [spec.binding for spec in self.inputs if spec.binding not in values]
        if missing:
            raise KeyError(f"scenario lacks inputs: {', '.join(missing)}")
        ordered = [values[spec.binding] for spec in self.inputs]
        if all(isinstance(value, (int, float)) for value in ordered):
            try:
                return {name: np.float64(result) for name, result in zip(self.definitions, self.scalar(*map(float, ordered)))}
            except (ZeroDivisionError, OverflowError, ValueError):
                pass  # numpy's inf / nan semantics instead
        return self.evaluator(**{spec.name: value for spec, value in zip(self.inputs, ordered)})


def analytic_model(pack_path: str | Path | None = None) -> AnalyticModel:
    return _analytic_model(str(Path(pack_path or packaged_pack(PACK_NAME)).resolve()))


@lru_cache(maxsize=4)
def _analytic_model(pack_path: str) -> AnalyticModel:
    pack = load_pack(pack_path)
    constants = {spec.symbol: sp.Float(spec.value * parse_unit(spec.unit).si_factor)
                 for spec in pack.symbols.values() if spec.source == "constant"}
    inputs = tuple(spec for spec in pack.symbols.values() if spec.source != "constant")
    definitions = {quantity.name: quantity.expression.xreplace(constants) for quantity in pack.quantities}
    symbols = {quantity.name: quantity.symbol for quantity in pack.quantities}
    chain = [(symbols[name], expression) for name, expression in definitions.items()]
    arguments = [spec.symbol for spec in inputs]
    evaluator = compile_outputs({name: symbols[name] for name in definitions}, arguments, chain)
    scalar = sp.lambdify(arguments, [symbols[name] for name in definitions], modules="math",
                         cse=lambda outputs: (chain, outputs))
    return AnalyticModel(pack, inputs, definitions, evaluator, scalar)

