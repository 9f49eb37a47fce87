"""The per-layer SpAtten model: the pack's formulas, compiled once, bound to a configuration.

Every term and quantity of ``formulas/spatten.yaml`` is an output of one
compiled evaluator whose inputs are the per-layer axes ``N``, ``K``, ``tp``
and every bound symbol (precision, factors, memory figures), so the compiled
closed forms stay symbolic in all of them and one evaluator serves every
configuration and every sweep. Token counts follow the pack's pruning rule
(``kept_tokens``) layer after layer, in exact arithmetic. A trial's metrics
are the pack's reductions of the per-layer outputs over the layers
(:func:`~symcost.reductions.reduce_elements`), and its figures of the whole
network the pack's series quantities over them (the net speedup).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import sympy as sp

from ...binder import BoundValue
from ...chain import build_chain
from ...compile import Evaluator
from ...pack import FormulaPack, load_pack
from ...registry import packaged_pack
from .config import SpattenConfig, bind_config

LAYER_AXES = ("N", "K", "tp")


@dataclass(frozen=True)
class CompiledPack:
    pack: FormulaPack
    expressions: dict[str, sp.Expr]  # per-layer outputs over the layer axes, network figures over the reductions
    units: dict[str, str]  # every output's and reduction's SI unit
    evaluator: Evaluator  # every per-layer output over the layer axes and every bound symbol
    series: Evaluator  # every series quantity over the reductions and every bound symbol


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

    @property
    def inputs(self) -> dict[str, float]:
        """Every bound symbol's value (SI), by name: the evaluators' inputs besides the layer axes."""
        return {symbol.name: float(bound.value) for symbol, bound in self.values.items()}

    def evaluate(self, tp, tokens=None, kept=None, **overrides) -> dict[str, np.ndarray]:
        """Every per-layer output for true-positive counts ``tp`` (arrays broadcast; by default the
        last axis is the layers); ``overrides`` replace bound values by name (``P=...``)."""
        return self.compiled.evaluator(
            **{**self.inputs, **overrides},
            tp=tp,
            N=self.tokens if tokens is None else tokens,
            K=self.kept if kept is None else kept,
        )

    def series(self, reductions: dict[str, np.ndarray], **overrides) -> dict[str, np.ndarray]:
        """Every figure of the whole network (the net speedup) from values of the reductions."""
        return self.compiled.series(**{**self.inputs, **overrides}, **reductions)

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
    for symbol, expression in chain.series:  # a network figure may use earlier ones
        expressions[symbol.name] = expression.xreplace(
            {
                pack_symbol: expressions[pack_symbol.name]
                for pack_symbol, _ in chain.series
                if pack_symbol.name in expressions
            }
        )
    bound = [spec.symbol for spec in pack.symbols.values() if spec.binding]
    return CompiledPack(
        pack,
        expressions,
        chain.units,
        chain.compile(inputs=[pack.symbol(name) for name in LAYER_AXES] + bound),
        chain.compile_series(bound),
    )


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
