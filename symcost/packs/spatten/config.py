"""A SpAtten lookahead configuration: read, check, fill defaults, bind to the pack.

The file is checked against ``schemas/spatten-config.schema.json`` (which also
holds the defaults); quantities such as ``1024 Gbit/s`` in unit-named fields
are converted first. Binding gives every bound symbol of
``formulas/spatten.yaml`` its exact value in SI units and its provenance.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sympy as sp

from ...binder import BoundValue, bind_symbols
from ...checked import checked_data, checked_document
from ...errors import InputError, InputIssue, SymcostError
from ...input_tree import InputTree
from ...pack import FormulaPack
from ...schema_check import leaf_fields
from ...size_limits import MAX_MONTE_CARLO_DRAWS

SCHEMA = "spatten-config"


@dataclass(frozen=True)
class SweepAxis:
    start: float
    stop: float
    points: int


@dataclass(frozen=True)
class SpattenConfig:
    name: str
    path: Path
    data: dict[str, Any]
    trials: int
    seed: int
    precision_axis: SweepAxis
    recall_axis: SweepAxis
    label: str  # what error messages and provenance name: the file (or files) it was read from

    def field(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        return node


def load_config(path: str | Path) -> SpattenConfig:
    """Read and check a configuration; every problem is raised at once as an :class:`InputError`."""
    document = checked_document(path, SCHEMA)
    return _config(document.data, document.label, document.path)


def config_from_tree(tree: InputTree) -> SpattenConfig:
    """The configuration the inputs of the generic verbs hold (``--input CONFIG``, ``--set`` applied)."""
    if not tree.files:
        raise SymcostError("pack spatten needs --input CONFIG: a configuration as `symcost spatten run` reads it")
    label = tree.label
    return _config(checked_data(copy.deepcopy(tree.data), SCHEMA, label), label, tree.files[0])


def _config(data: dict[str, Any], label: str, path: Path) -> SpattenConfig:
    data = _with_defaults(data)
    axes = [
        SweepAxis(*(data["sweep"][name][key] for key in ("from", "to", "points"))) for name in ("precision", "recall")
    ]
    issues = [
        InputIssue(label, f"sweep.{name}", f"expected from <= to, got from {axis.start} > to {axis.stop}")
        for name, axis in zip(("precision", "recall"), axes)
        if axis.start > axis.stop
    ]
    draws = data["simulation"]["trials"] * data["model"]["layers"]
    if draws > MAX_MONTE_CARLO_DRAWS:
        issues.append(
            InputIssue(
                label,
                "simulation.trials",
                f"trials x layers is {draws:,}, above the limit of {MAX_MONTE_CARLO_DRAWS:,} "
                "Monte Carlo draws; use fewer trials",
            )
        )
    if issues:
        raise InputError(issues)
    return SpattenConfig(
        data["name"], Path(path), data, data["simulation"]["trials"], data["simulation"]["seed"], *axes, label
    )


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    filled = data  # a fresh document: filled in place
    for dotted, schema in leaf_fields(SCHEMA, "").items():
        if "default" not in schema:
            continue
        *parents, leaf = dotted.split(".")
        node = filled
        for part in parents:
            node = node.setdefault(part, {})
        node.setdefault(leaf, schema["default"])
    return filled


def bind_config(pack: FormulaPack, config: SpattenConfig) -> dict[sp.Symbol, BoundValue]:
    """Every bound symbol's exact SI value and its provenance (the generic binder over the configuration)."""
    return bind_symbols(pack, InputTree(config.data, {key: config.label for key in config.data}))
