"""The per-layer SpAtten model: the pack's formulas, compiled once, bound to a configuration.

Every term and quantity of ``formulas/spatten.yaml`` is an output of one
compiled evaluator whose inputs are the per-layer axes ``N``, ``K``, ``tp``
and every bound symbol (precision, factors, memory figures), so the compiled
closed forms stay symbolic in all of them and one evaluator serves every
configuration and every sweep. Token counts follow the pack's pruning rule
(``kept_tokens``) layer after layer, in exact arithmetic. A trial's metrics
reduce the per-layer outputs over the layers (:data:`METRICS`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ..selfspec.binding import BoundValue
from ...chain import build_chain
from ...compile import Evaluator
from ...registry import packaged_pack
from ...pack import FormulaPack, load_pack
from .config import SpattenConfig, bind_config

LAYER_AXES = ("N", "K", "tp")


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
class CompiledPack:
    pack: FormulaPack
    expressions: dict[str, sp.Expr]
    evaluator: Evaluator


@dataclass(frozen=True)
class LayerModel:
    compiled: CompiledPack
    config: SpattenConfig
    values: dict[sp.Symbol, BoundValue]
    tokens: np.ndarray
    kept: np.ndarray

    @property
    def pack(self) -> FormulaPack:
        return self.compiled.pack

    @property
    def precision(self) -> float:
        return float(self.config.field("speculation.precision"))

    @property
    def recall(self) -> float:
        return float(self.config.field("speculation.recall"))

    def evaluate(self, tp, precision=None, tokens=None, kept=None) -> dict[str, np.ndarray]:
        """Every per-layer output for true-positive counts ``tp`` (arrays broadcast; by default the
        last axis is the layers and P is the configuration's)."""
        inputs = {symbol.name: float(bound.value) for symbol, bound in self.values.items()}
        if precision is not None:
            inputs["P"] = precision
        return self.compiled.evaluator(**inputs, tp=tp, N=self.tokens if tokens is None else tokens,
                                       K=self.kept if kept is None else kept)

    def exact(self, name: str) -> sp.Expr:
        """A symbol's or a layer-independent quantity's exact value under this configuration."""
        pack = self.pack
        if name in self.compiled.expressions:
            expression = self.compiled.expressions[name]
        elif name in pack.symbols:
            expression = pack.expanded(pack.symbol(name))
        else:
            raise KeyError(f"{name!r} is neither a symbol, a term nor a quantity of pack {pack.name}")
        return expression.xreplace(_numbers(self.values))


@lru_cache(maxsize=1)
def compiled_spatten_pack() -> CompiledPack:
    """The packaged pack's closed forms and their evaluator (built once per process)."""
    chain = build_chain(load_pack(packaged_pack("spatten")))
    pack = chain.pack
    expressions = {name: chain.closed_form(name) for name in chain.output_names}
    inputs = [pack.symbol(name) for name in LAYER_AXES] + [spec.symbol for spec in pack.symbols.values() if spec.binding]
    return CompiledPack(pack, expressions, chain.compile(inputs=inputs))


def build_layer_model(config: SpattenConfig) -> LayerModel:
    compiled = compiled_spatten_pack()
    values = bind_config(compiled.pack, config)
    tokens, kept = _token_chain(compiled, _numbers(values))
    return LayerModel(compiled, config, values, tokens, kept)


def _numbers(values: dict[sp.Symbol, BoundValue]) -> dict[sp.Symbol, sp.Expr]:
    return {symbol: bound.value for symbol, bound in values.items()}


def _token_chain(compiled: CompiledPack, numbers: dict[sp.Symbol, sp.Expr]) -> tuple[np.ndarray, np.ndarray]:
    """Tokens entering each layer and tokens it keeps, exact integers; a layer's K enters the next."""
    pack = compiled.pack
    keep = compiled.expressions["kept_tokens"].xreplace(numbers)
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


def trial_variances(layer_variances: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Variance of each metric from per-layer variances of independent layers (a mean divides by layers^2)."""
    layers = next(iter(layer_variances.values())).shape[-1]
    scale = {"sum": 1.0, "mean": 1.0 / layers ** 2}
    return {metric.key: np.sum(layer_variances[metric.quantity], axis=-1) * scale[metric.reduction] for metric in METRICS}


def net_speedup_percent(baseline_cycles, pipelined_cycles):
    """Reduction of total cycles by the pipelined design, in percent of the baseline."""
    return 100.0 * (np.asarray(baseline_cycles) - pipelined_cycles) / baseline_cycles
