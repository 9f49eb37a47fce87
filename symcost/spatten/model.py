"""The per-layer SpAtten model: the pack's formulas bound to a configuration and compiled.

Token counts follow the pack's pruning rule (``kept_tokens``) layer after
layer, in exact arithmetic. Every term and quantity of the pack becomes an
output of one compiled evaluator whose inputs are the per-layer axes ``N``,
``K``, ``tp`` and the precision ``P`` (so a precision sweep reuses it); every
other symbol is fixed to the configuration's value. A trial's metrics reduce
the per-layer outputs over the layers (:data:`METRICS`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..binding import BoundValue
from ..compile import Evaluator, compile_outputs
from ..model import packaged_pack
from ..pack import FormulaPack, load_pack
from .config import SpattenConfig, bind_config

EVALUATOR_INPUTS = ("N", "K", "tp", "P")


@dataclass(frozen=True)
class Metric:
    """A trial metric: a per-layer output of the pack summed (totals) or averaged over the layers."""

    key: str
    quantity: str
    reduction: str


METRICS = (
    Metric("baseline.total_cycles", "baseline_layer_cycles", "sum"),
    Metric("pipelined.total_cycles", "pipelined_layer_cycles", "sum"),
    Metric("baseline.dram_bytes", "baseline_dram_bytes", "sum"),
    Metric("pipelined.dram_bytes", "pipelined_dram_bytes", "sum"),
    Metric("pipelined.wasted_bytes", "wasted_bytes", "sum"),
    Metric("pipelined.corrective_bytes", "corrective_bytes", "sum"),
    Metric("pipelined.hidden_cycles", "hidden_cycles", "mean"),
    Metric("pipelined.lookahead_finish_rate", "lookahead_finished", "mean"),
)


@dataclass(frozen=True)
class LayerModel:
    pack: FormulaPack
    config: SpattenConfig
    values: dict[sp.Symbol, BoundValue]
    expressions: dict[str, sp.Expr]
    tokens: np.ndarray
    kept: np.ndarray
    evaluator: Evaluator

    @property
    def precision(self) -> float:
        return float(self.config.field("speculation.precision"))

    @property
    def recall(self) -> float:
        return float(self.config.field("speculation.recall"))

    def evaluate(self, tp: np.ndarray, precision: float | np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every per-layer output for true-positive counts ``tp`` (last axis: the layers)."""
        return self.evaluator(N=self.tokens, K=self.kept, tp=tp, P=self.precision if precision is None else precision)

    def exact(self, name: str) -> sp.Expr:
        """A symbol's or a layer-independent quantity's exact value under this configuration."""
        if name in self.expressions:
            expression = self.expressions[name]
        elif name in self.pack.symbols:
            expression = self.pack.expanded(self.pack.symbol(name))
        else:
            raise KeyError(f"{name!r} is neither a symbol, a term nor a quantity of pack {self.pack.name}")
        return expression.xreplace(_numbers(self.values))


def load_spatten_pack() -> FormulaPack:
    return load_pack(packaged_pack("spatten"))


def build_layer_model(config: SpattenConfig) -> LayerModel:
    pack = load_spatten_pack()
    values = bind_config(pack, config)
    numbers = _numbers(values)
    expressions = layer_expressions(pack)
    tokens, kept = _token_chain(pack, expressions["kept_tokens"].xreplace(numbers), numbers)
    inputs = [pack.symbol(name) for name in EVALUATOR_INPUTS]
    fixed = {symbol: value for symbol, value in numbers.items() if symbol not in inputs}
    evaluator = compile_outputs({name: expression.xreplace(fixed) for name, expression in expressions.items()}, inputs)
    return LayerModel(pack, config, values, expressions, tokens, kept, evaluator)


def layer_expressions(pack: FormulaPack) -> dict[str, sp.Expr]:
    """Every term and quantity of the pack over its symbols (quantities with earlier ones inlined)."""
    expressions = {term.name: pack.expanded(term) for term in pack.terms}
    resolved: dict[sp.Symbol, sp.Expr] = {}
    for quantity in pack.quantities:
        resolved[quantity.symbol] = pack.expanded(quantity.expression.xreplace(resolved))
        expressions[quantity.name] = resolved[quantity.symbol]
    return expressions


def _numbers(values: dict[sp.Symbol, BoundValue]) -> dict[sp.Symbol, sp.Expr]:
    return {symbol: bound.value for symbol, bound in values.items()}


def _token_chain(pack: FormulaPack, keep: sp.Expr, numbers: dict[sp.Symbol, sp.Expr]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens entering each layer and tokens it keeps (``keep`` of N), exact integers; a layer's K enters the next."""
    entering = int(numbers[pack.symbol("N_0")])
    tokens, kept = [], []
    for _layer in range(int(numbers[pack.symbol("n_layers")])):
        tokens.append(entering)
        entering = int(keep.xreplace({pack.symbol("N"): entering}))
        kept.append(entering)
    return np.array(tokens, dtype=np.float64), np.array(kept, dtype=np.float64)


def trial_metrics(layer_values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each metric of :data:`METRICS` from per-layer values (last axis: the layers)."""
    reduce = {"sum": np.sum, "mean": np.mean}
    return {metric.key: reduce[metric.reduction](layer_values[metric.quantity], axis=-1) for metric in METRICS}


def net_speedup_percent(baseline_cycles: np.ndarray, pipelined_cycles: np.ndarray) -> np.ndarray:
    """Reduction of total cycles by the pipelined design, in percent of the baseline."""
    return 100.0 * (baseline_cycles - pipelined_cycles) / baseline_cycles
