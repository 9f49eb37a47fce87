"""The analytical LLM model: ``formulas/llm.yaml`` -> one compiled numpy function.

The pack is a chain of quantities (:mod:`symcost.chain`), compiled once per
pack file into one evaluator that takes an array per input, so a single
scenario and a 10^5 candidate solver run are the same call.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from ...chain import Chain, build_chain
from ...compile import Evaluator
from ...registry import packaged_pack
from ...pack import FormulaPack, SymbolSpec, load_pack

PACK_NAME = "llm"


@dataclass(frozen=True)
class AnalyticModel:
    chain: Chain
    evaluator: Evaluator
    scalar: Callable[..., Sequence[float]]  # the same definitions on Python floats (math module)

    @property
    def pack(self) -> FormulaPack:
        return self.chain.pack

    @property
    def inputs(self) -> tuple[SymbolSpec, ...]:
        """Pack symbols a scenario supplies, in evaluator order."""
        return self.chain.inputs

    @property
    def definitions(self) -> dict[str, sp.Expr]:
        """Quantity -> its formula over inputs and earlier quantities."""
        return {symbol.name: expression for symbol, expression in self.chain.definitions}

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
                return {name: np.float64(result) for name, result in zip(self.chain.quantity_names, self.scalar(*map(float, ordered)))}
            except (ZeroDivisionError, OverflowError, ValueError):
                pass  # numpy's inf / nan semantics instead
        return self.evaluator(**{spec.name: value for spec, value in zip(self.inputs, ordered)})


def analytic_model(pack_path: str | Path | None = None) -> AnalyticModel:
    return _analytic_model(str(Path(pack_path or packaged_pack(PACK_NAME)).resolve()))


@lru_cache(maxsize=4)
def _analytic_model(pack_path: str) -> AnalyticModel:
    chain = build_chain(load_pack(pack_path))
    return AnalyticModel(chain, chain.compile(chain.quantity_names), chain.scalar_function())
