"""Binding pack symbols to values from the input files.

A symbol's ``binding`` names where its value comes from:

* ``model.<field>``: the model file (``n_layers``, ``d_model``, ``n_heads``,
  ``n_kv_heads``, ``d_head``, ``activation_bits``, ``d_ff``, ``swiglu``);
* ``layer.full_<block>``: 1 where the layer group runs ``<block>`` at full
  precision while drafting (differs between layer groups);
* ``hardware.<path>``: a resolved hardware coefficient (see
  :mod:`symcost.packs.selfspec.inputs.hardware`), converted from the field's unit to SI;
* ``hardware.switch.<name>``: 0/1 structure switches (``legacy``, ``reuse``,
  ``pipelined``, ``memory``, ``delta_readout.draft``, ``delta_readout.verify``);
* ``stats.<name>``: ``k``, ``alpha``, ``expected_committed_tokens``,
  ``expected_wasted_steps``.

Every bound value carries its provenance so reports can cite it.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import sympy as sp

from ...binder import Bindings, BoundValue, LayerGroup, bind_symbols
from ...input_tree import InputTree, Measured
from .inputs import HardwareSpec, ModelSpec, StatsSpec
from .inputs.model import BLOCKS
from ...pack import FormulaPack
from ...units import parse_unit


def model_values(model: ModelSpec) -> dict[str, float]:
    return {"n_layers": model.n_layers, "d_model": model.d_model, "n_heads": model.n_heads,
            "n_kv_heads": model.n_kv_heads, "d_head": model.d_head, "activation_bits": model.activation_bits,
            "d_ff": model.d_ff, "swiglu": int(model.ffn_type == "swiglu")}


def hardware_switches(hardware: HardwareSpec) -> dict[str, int]:
    switches = {"legacy": int(hardware.mode == "legacy"), "reuse": int(hardware.reuse_policy == "reuse"),
                "pipelined": int(hardware.schedule == "layer-pipelined")}
    switches["memory"] = int(hardware.switches.get("memory", False) or any(
        path.startswith("memory.") for path in hardware.coefficients))
    switches["context_limit"] = int("memory.kv_cache.max_context_tokens" in hardware.coefficients)
    for mode in ("draft", "verify"):
        switches[f"delta_readout.{mode}"] = int(hardware.switches.get(f"delta_readout.{mode}", False))
    return switches


def stats_values(stats: StatsSpec, k: sp.Symbol, alpha: sp.Symbol | None) -> dict[str, sp.Expr]:
    """E[a+1] and E[K-a] as expressions (numbers for a histogram; closed forms in alpha, K otherwise)."""
    if stats.histogram is not None:
        total = sum(stats.histogram.values())
        probability = {outcome: sp.nsimplify(weight) / sp.nsimplify(total) for outcome, weight in stats.histogram.items()}
        committed = sum((outcome + 1) * p for outcome, p in probability.items())
        wasted = sum((stats.k - outcome) * p for outcome, p in probability.items())
        return {"k": sp.Integer(stats.k), "expected_committed_tokens": committed, "expected_wasted_steps": wasted}
    if alpha is None and stats.alpha == 0:
        committed, wasted = sp.Integer(1), k  # every draft rejected: one token per burst
    else:
        rate = alpha if alpha is not None else sp.Float(stats.alpha)
        committed, wasted = (moment.xreplace({_K: k, _ALPHA: rate}) for moment in _geometric_moments())
    values = {"k": sp.Integer(stats.k), "expected_committed_tokens": committed, "expected_wasted_steps": wasted}
    values["alpha"] = sp.Float(stats.alpha)
    return values


_K = sp.Symbol("K", integer=True, nonnegative=True)
_ALPHA = sp.Symbol("alpha", positive=True)


@lru_cache(maxsize=1)
def _geometric_moments() -> tuple[sp.Expr, sp.Expr]:
    """E[a+1] and E[K-a] under geometric acceptance, derived once with symbolic K and alpha
    (summing with a numeric alpha sends SymPy's solver on long detours)."""
    a = sp.Symbol("a", integer=True, nonnegative=True)
    committed = sp.summation((a + 1) * _ALPHA ** a * (1 - _ALPHA), (a, 0, _K - 1)) + (_K + 1) * _ALPHA ** _K
    wasted = sp.summation((_K - a) * _ALPHA ** a * (1 - _ALPHA), (a, 0, _K - 1))
    return _below_one(committed), _below_one(wasted)


def _below_one(expression: sp.Expr) -> sp.Expr:
    """The geometric-series result for alpha < 1 (validation guarantees it; SymPy also returns the alpha = 1 case)."""
    general = sp.piecewise_fold(expression)
    if isinstance(general, sp.Piecewise):
        general = general.args[-1].expr
    return sp.simplify(general)


def bind(pack: FormulaPack, model: ModelSpec, hardware: HardwareSpec, stats: StatsSpec) -> Bindings:
    """Values for every bound symbol of ``pack`` (through the generic binder, over the view of the three
    files :func:`input_view` gives), and the model's layer groups."""
    k_symbol = _axis(pack, "stats.k")
    alpha_symbol = _axis(pack, "stats.alpha")
    from_stats = stats_values(stats, k_symbol, alpha_symbol if stats.alpha is not None else None)
    layer_and_axes = {spec.name for spec in pack.symbols.values()
                      if spec.source == "axis" or (spec.binding or "").startswith("layer.")}
    values = bind_symbols(pack, input_view(model, hardware, from_stats, stats.source), skip=frozenset(layer_and_axes))
    for spec in pack.symbols.values():
        if spec.source == "constant":
            values[spec.symbol] = BoundValue(sp.nsimplify(spec.value) * parse_unit(spec.unit).si_factor,
                                             f"constant of pack {pack.name}")
    return Bindings(values, _layer_groups(pack, model))


def input_view(model: ModelSpec, hardware: HardwareSpec, from_stats: dict[str, sp.Expr], stats_source: str) -> InputTree:
    """The three files as the pack binds them: ``model.*`` dimensions, ``hardware.*`` resolved coefficients
    (each with its unit and provenance) and ``hardware.switch.*`` structure switches, ``stats.*`` moments."""
    model_file, hardware_file, stats_file = (Path(source).name for source in (model.source, hardware.source, stats_source))
    hardware_tree: dict = {}
    for name, value in hardware_switches(hardware).items():
        _nest(hardware_tree, f"switch.{name}", Measured(value, "1", f"{hardware_file}: {_switch_origin(name)}", exact=True))
    for path, coefficient in hardware.coefficients.items():
        _nest(hardware_tree, path, Measured(coefficient.value, coefficient.unit, coefficient.provenance))
    data = {"model": {name: Measured(value, "1", f"{model_file}: {name}", exact=True)
                      for name, value in model_values(model).items()},
            "hardware": hardware_tree,
            "stats": {name: Measured(value, "1", f"{stats_file}: {name}") for name, value in from_stats.items()}}
    return InputTree(data, {"model": model_file, "hardware": hardware_file, "stats": stats_file})


def _nest(tree: dict, path: str, leaf: Measured) -> None:
    *parents, name = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[name] = leaf


def _axis(pack: FormulaPack, binding: str) -> sp.Symbol | None:
    return next((spec.symbol for spec in pack.symbols.values() if spec.binding == binding), None)


def _switch_origin(name: str) -> str:
    return {"legacy": "costs (legacy form)", "reuse": "reuse_policy", "pipelined": "soc.schedule",
            "memory": "memory", "context_limit": "memory.kv_cache.max_context_tokens"}.get(name, f"analog.{name}.enabled")


def _layer_groups(pack: FormulaPack, model: ModelSpec) -> tuple[LayerGroup, ...]:
    layer_symbols = {spec.binding: spec.symbol for spec in pack.symbols.values()
                     if spec.binding and spec.binding.startswith("layer.")}
    groups = []
    for policy, count in model.layer_groups():
        values = {symbol: sp.Integer(int(policy.of(binding[len("layer.full_"):]) == "full"))
                  for binding, symbol in layer_symbols.items() if binding[len("layer.full_"):] in BLOCKS}
        label = ",".join(f"{block}={policy.of(block)}" for block in BLOCKS)
        groups.append(LayerGroup(count, values, label))
    return tuple(groups)

