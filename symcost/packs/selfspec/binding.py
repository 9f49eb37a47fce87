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
* ``stats.<path>``: the stats file as written: ``k``, ``histogram`` (the
  accepted-prefix histogram, bound to a table symbol) or ``geometric.alpha``.
  E[a+1] is not read but defined by the pack, with one formula per form of
  the file.

Every bound value carries its provenance so reports can cite it.
"""

from __future__ import annotations

from pathlib import Path

import sympy as sp

from ...binder import Bindings, BoundValue, LayerGroup, bind_symbols, resolve_formulas
from ...input_tree import InputTree, Measured
from ...pack import FormulaPack
from ...units import parse_unit
from .inputs import HardwareSpec, ModelSpec, StatsSpec
from .inputs.model import BLOCKS


def model_values(model: ModelSpec) -> dict[str, float]:
    return {
        "n_layers": model.n_layers,
        "d_model": model.d_model,
        "n_heads": model.n_heads,
        "n_kv_heads": model.n_kv_heads,
        "d_head": model.d_head,
        "activation_bits": model.activation_bits,
        "d_ff": model.d_ff,
        "swiglu": int(model.ffn_type == "swiglu"),
    }


def hardware_switches(hardware: HardwareSpec) -> dict[str, int]:
    switches = {
        "legacy": int(hardware.mode == "legacy"),
        "reuse": int(hardware.reuse_policy == "reuse"),
        "pipelined": int(hardware.schedule == "layer-pipelined"),
    }
    switches["memory"] = int(
        hardware.switches.get("memory", False) or any(path.startswith("memory.") for path in hardware.coefficients)
    )
    switches["context_limit"] = int("memory.kv_cache.max_context_tokens" in hardware.coefficients)
    for mode in ("draft", "verify"):
        switches[f"delta_readout.{mode}"] = int(hardware.switches.get(f"delta_readout.{mode}", False))
    return switches


def bind(pack: FormulaPack, model: ModelSpec, hardware: HardwareSpec, stats: StatsSpec) -> Bindings:
    """Values for every bound symbol of ``pack`` (through the generic binder, over the view of the three
    files :func:`input_view` gives), and the model's layer groups.

    A value the pack defines by a formula (E[a+1]) gets the bound values it uses, the evaluator's inputs
    (axes and stats: K, alpha) left symbolic.
    """
    layer_and_axes = {
        spec.name
        for spec in pack.symbols.values()
        if spec.source == "axis" or (spec.binding or "").startswith("layer.")
    }
    values = bind_symbols(pack, input_view(model, hardware, stats), skip=frozenset(layer_and_axes))
    for spec in pack.symbols.values():
        if spec.source == "constant":
            values[spec.symbol] = BoundValue(
                sp.nsimplify(spec.value) * parse_unit(spec.unit).si_factor, f"constant of pack {pack.name}"
            )
    inputs = frozenset(spec.symbol for spec in pack.symbols.values() if spec.source in ("axis", "stats"))
    return Bindings(resolve_formulas(values, keep=inputs), _layer_groups(pack, model))


def acceptance(pack: FormulaPack, bindings: Bindings, stats: StatsSpec) -> dict[int, sp.Expr]:
    """P(a) for a = 0..K as the pack defines it: the histogram's table, or ``P_geometric`` at the bound alpha."""
    outcomes = range(stats.k + 1)
    if stats.histogram is not None:
        table = bindings.values[pack.symbol("P_hist")].value
        return {outcome: table.probability(outcome) for outcome in outcomes}
    geometric = pack.symbols["P_geometric"].definition.xreplace(
        {pack.symbol("K"): sp.Integer(stats.k), pack.symbol("alpha"): bindings.values[pack.symbol("alpha")].value}
    )
    return {outcome: geometric.xreplace({pack.symbol("a"): sp.Integer(outcome)}) for outcome in outcomes}


def input_view(model: ModelSpec, hardware: HardwareSpec, stats: StatsSpec) -> InputTree:
    """The three files as the pack binds them: ``model.*`` dimensions, ``hardware.*`` resolved coefficients
    (each with its unit and provenance) and ``hardware.switch.*`` structure switches, ``stats.*`` as written."""
    model_file, hardware_file, stats_file = (
        Path(source).name for source in (model.source, hardware.source, stats.source)
    )
    hardware_tree: dict = {}
    for name, value in hardware_switches(hardware).items():
        _nest(
            hardware_tree,
            f"switch.{name}",
            Measured(value, "1", f"{hardware_file}: {_switch_origin(name)}", exact=True),
        )
    for path, coefficient in hardware.coefficients.items():
        _nest(hardware_tree, path, Measured(coefficient.value, coefficient.unit, coefficient.provenance))
    data = {
        "model": {
            name: Measured(value, "1", f"{model_file}: {name}", exact=True)
            for name, value in model_values(model).items()
        },
        "hardware": hardware_tree,
        "stats": _stats_tree(stats, stats_file),
    }
    return InputTree(data, {"model": model_file, "hardware": hardware_file, "stats": stats_file})


def _stats_tree(stats: StatsSpec, stats_file: str) -> dict:
    """K, and the histogram (outcome -> weight) or the geometric acceptance rate: whichever the file gives."""
    tree: dict = {"k": Measured(stats.k, "1", f"{stats_file}: k", exact=True)}
    if stats.histogram is not None:
        tree["histogram"] = dict(stats.histogram)
    if stats.alpha is not None:
        tree["geometric"] = {"alpha": Measured(sp.Float(stats.alpha), "1", f"{stats_file}: geometric.alpha")}
    return tree


def _nest(tree: dict, path: str, leaf: Measured) -> None:
    *parents, name = path.split(".")
    for part in parents:
        tree = tree.setdefault(part, {})
    tree[name] = leaf


def _switch_origin(name: str) -> str:
    return {
        "legacy": "costs (legacy form)",
        "reuse": "reuse_policy",
        "pipelined": "soc.schedule",
        "memory": "memory",
        "context_limit": "memory.kv_cache.max_context_tokens",
    }.get(name, f"analog.{name}.enabled")


def _layer_groups(pack: FormulaPack, model: ModelSpec) -> tuple[LayerGroup, ...]:
    layer_symbols = {
        spec.binding: spec.symbol
        for spec in pack.symbols.values()
        if spec.binding and spec.binding.startswith("layer.")
    }
    groups = []
    for policy, count in model.layer_groups():
        values = {
            symbol: sp.Integer(int(policy.of(binding[len("layer.full_") :]) == "full"))
            for binding, symbol in layer_symbols.items()
            if binding[len("layer.full_") :] in BLOCKS
        }
        label = ",".join(f"{block}={policy.of(block)}" for block in BLOCKS)
        groups.append(LayerGroup(count, values, label))
    return tuple(groups)
