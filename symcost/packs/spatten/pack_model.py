"""The SpAtten pack for the generic verbs (report, sweep, breakeven, sensitivity, audit, plot).

``--pack spatten --input CONFIG`` reads the configuration ``symcost spatten
run`` reads (``--set memory.bandwidth_GBps='2 TB/s'`` changes one field).
The model's outputs are

* every per-layer term and quantity of ``formulas/spatten.yaml`` over the
  layer axes ``N``, ``K`` and ``tp``, which default to the first layer: ``N_0``
  tokens, ``K = kept_tokens(N_0)`` and ``tp`` its most likely true-positive
  count, ``floor((K + 1) R)`` capped at ``K`` (an axis of ``N`` does not
  move ``K`` or ``tp``: give them too);
* the pack's reductions over the layers as exact expected values over every
  layer's ``tp ~ Binomial(K, R)``, and its figures of the whole network (the
  net speedup) from those: the exact column of ``symcost spatten run``.

Any bound symbol may vary, by symbol (``BW``) or input path
(``memory.bandwidth_GBps``), except the layer structure (``n_layers``,
``N_0``, ``rho``), which fixes every layer's token counts: ``--set`` changes it,
and a sweep varies it one model per value (:func:`variable_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ...errors import SymcostError
from ...finite import bound_inputs, checked_evaluation
from ...input_tree import InputTree
from ...pack import FormulaPack, domain_of
from ...units import parse_unit
from .config import config_from_tree
from .expectation import exact_metrics, expected_expression
from .model import LAYER_AXES, LayerModel, build_layer_model

STRUCTURE = ("n_layers", "N_0", "rho")  # what fixes the layers' token counts


@dataclass(frozen=True)
class SpattenEvaluator:
    """What the generic verbs call a model's evaluator: its input names, its output names, and the call
    (every output, per-layer and network, at the points given)."""

    input_names: tuple[str, ...]
    names: tuple[str, ...]
    function: Callable[..., dict[str, np.ndarray]]

    def __call__(self, **inputs) -> dict[str, np.ndarray]:
        return self.function(**inputs)

    def source(self) -> str:
        """Refused: a cluster ships one generated evaluator, and the network figures are the expectation
        engine's work over every layer's outcomes, not one."""
        raise SymcostError(
            "the SpAtten pack's network figures come from its expectation engine, not from one "
            "generated evaluator that a cluster could ship: run without --cluster"
        )


@dataclass
class SpattenModel:
    """The SpAtten pack bound to a configuration, as a :class:`~symcost.registry.PackModel`."""

    layers: LayerModel
    variable: tuple[str, ...]  # bound symbols left variable, besides the layer axes
    defaults: dict[str, float]
    limits: tuple[tuple[str, str], ...] = ()

    @property
    def pack(self) -> FormulaPack:
        return self.layers.pack

    @property
    def per_layer_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.layers.compiled.expressions if name not in self.network_names)

    @property
    def network_names(self) -> tuple[str, ...]:
        return (
            *(reduction.name for reduction in self.pack.reductions),
            *(quantity.name for quantity in self.pack.quantities if quantity.series),
        )

    @property
    def output_names(self) -> tuple[str, ...]:
        return (*self.per_layer_names, *self.network_names)

    @property
    def evaluator(self) -> SpattenEvaluator:
        return SpattenEvaluator((*LAYER_AXES, *self.variable), self.output_names, self.evaluate)

    def unit(self, name: str) -> str:
        return self.layers.compiled.units[name]

    def domain(self, name: str) -> str:
        return domain_of(self.pack.find_symbol(name).symbol)

    def input_for(self, name: str) -> tuple[str, float]:
        spec = self.pack.find_symbol(name)
        if spec.name in STRUCTURE:
            raise SymcostError(
                f"{name!r} sets the layers' token counts, which every network figure sums over; "
                f"it is fixed in this model: change it with --set {spec.binding_paths[0]}=VALUE "
                f"(a sweep takes {spec.binding_paths[0]} as an axis: one model per value)"
            )
        if spec.name not in self.evaluator.input_names:
            raise SymcostError(
                f"{name!r} is fixed in this model; the varied inputs are {', '.join(self.evaluator.input_names)}"
            )
        return spec.name, parse_unit(self.pack.given_unit(name)).si_factor

    def evaluate(self, **inputs) -> dict[str, np.ndarray]:
        """Every output at the points the inputs (SI, broadcast together) give; absent ones take their defaults."""
        return self.evaluate_within_limits(raise_beyond=True, **inputs)[0]

    def evaluate_within_limits(self, raise_beyond: bool = False, **inputs) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every output, and a mask of the points within the pack's limits (it declares none)."""
        return checked_evaluation(
            self._outputs,
            {**self.defaults, **inputs},
            self.limits,
            lambda: bound_inputs(self.pack, self.layers.values),
            mask_limits=not raise_beyond,
        )

    def _outputs(self, **values) -> dict[str, np.ndarray]:
        bound = {name: values[name] for name in self.variable}
        layer = self.layers.evaluate(values["tp"], tokens=values["N"], kept=values["K"], **bound)
        shape = np.broadcast_shapes(*(np.shape(value) for value in values.values()))
        return {
            name: np.broadcast_to(value, shape).copy()
            for name, value in {**layer, **self._network(bound, shape)}.items()
        }

    def _network(self, bound: dict[str, np.ndarray], shape: tuple[int, ...]) -> dict[str, np.ndarray]:
        """The network figures at every point, each distinct point of the bound inputs computed once (the
        layer axes do not enter them)."""
        columns = [np.broadcast_to(np.asarray(value, dtype=np.float64), shape).ravel() for value in bound.values()]
        distinct, where = (
            np.unique(np.stack(columns, axis=-1), axis=0, return_inverse=True)
            if columns
            else (np.empty((1, 0)), np.zeros(int(np.prod(shape)), dtype=np.int64))
        )
        points = {name: distinct[:, index] for index, name in enumerate(bound)}
        expected = exact_metrics(self.layers, **points)
        network = {**expected.mean, **self.layers.series(expected.mean, **points)}
        return {name: np.asarray(value).reshape(-1)[np.ravel(where)].reshape(shape) for name, value in network.items()}

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr:
        """Output ``name`` over the varied inputs (a network figure: the exact expectation as one finite sum
        over the layers' outcomes), those in ``values`` replaced by numbers."""
        fixed = {
            symbol: bound.value for symbol, bound in self.layers.values.items() if symbol.name not in self.variable
        }
        if name in self.network_names:
            given = {symbol: sp.Float(values[symbol.name]) for symbol in self.layers.values if symbol.name in values}
            return expected_expression(self.layers, name, {**given, **fixed})
        expression = self.layers.compiled.expressions[name].xreplace(fixed)
        return expression.xreplace(
            {symbol: sp.Float(values[symbol.name]) for symbol in expression.free_symbols if symbol.name in values}
        )

    def audit_document(self):
        """The configuration's audit (as ``symcost spatten audit``)."""
        from .audit import spatten_audit

        return spatten_audit(self.layers, exact_metrics(self.layers))


def variable_names(pack: FormulaPack) -> set[str]:
    """The names a model keeps variable (symbols and input paths): every input but the layer structure, which a
    sweep varies by building one model per value."""
    return {
        name
        for spec in pack.symbols.values()
        if spec.source not in ("derived", "constant") and spec.name not in STRUCTURE
        for name in (spec.name, *spec.binding_paths)
    }


def build(pack: FormulaPack, tree: InputTree, vary: Sequence[str] = ()) -> SpattenModel:
    """The model of the configuration in ``tree``, the bound symbols in ``vary`` left variable (the layer
    axes always are; the layer structure never is)."""
    layers = build_layer_model(config_from_tree(tree))
    named = [pack.find_symbol(name) for name in vary]
    variable = tuple(
        dict.fromkeys(
            spec.name for spec in named if spec.name not in (*LAYER_AXES, *STRUCTURE) and spec.symbol in layers.values
        )
    )
    recall, kept = layers.recall, int(layers.kept[0])
    defaults = {
        "N": float(layers.tokens[0]),
        "K": float(kept),
        "tp": float(min(np.floor((kept + 1) * recall), kept)),
        **{name: value for name, value in layers.inputs.items() if name in variable},
    }
    return SpattenModel(layers, variable, defaults)
