"""The selfspec pack as a :class:`~symcost.registry.PackModel` for the generic verbs.

Its inputs are three documents mounted by name (``--input model=FILE
--input hardware=FILE --input stats=FILE``, or the aliases ``--model
--hardware --stats``); the hardware document is resolved against the
component libraries before binding. ``--set model.n_layers=48`` or
``--set hardware.analog.xbar_size=256`` change one field of a document
before it is checked.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from ...errors import SymcostError
from ...input_tree import InputTree
from .inputs import read_hardware, read_model, read_stats
from .model import CostModel, build_model
from ...pack import FormulaPack

ROLES = ("model", "hardware", "stats")
_UNITS = {"energy_per_token": "J", "latency_per_token": "s", "throughput": "1/s", "tokens_per_joule": "1/J",
          "power": "W", "burst_energy": "J", "burst_latency": "s", "dynamic_energy": "J", "leakage_energy": "J",
          "leakage_power": "W", "committed_tokens": "1", "energy": "J", "latency": "s", "count": "1"}


@dataclass
class SelfspecModel:
    cost_model: CostModel

    @classmethod
    def build(cls, pack: FormulaPack, tree: InputTree, vary: Sequence[str] = (),
              library_path: Sequence[str] = ()) -> "SelfspecModel":
        missing = [role for role in ROLES if role not in tree.mounts]
        if missing:
            raise SymcostError(f"pack selfspec needs --input {missing[0]}=FILE (or --{missing[0]} FILE) "
                               f"for its {', '.join(missing)} document{'s' if len(missing) > 1 else ''}")
        overrides = _overrides(tree.settings)
        documents = [tree.mounts[role] for role in ROLES]
        if overrides:
            documents = [read_model(documents[0], overrides.get("model")),
                         read_hardware(documents[1], list(library_path), overrides.get("hardware")),
                         read_stats(documents[2], overrides.get("stats"))]
        variable = list(dict.fromkeys(["L_prompt", *vary]))
        return cls(build_model(*documents, pack=pack.source, library_path=list(library_path), vary=variable))

    @property
    def pack(self) -> FormulaPack:
        return self.cost_model.pack

    @property
    def defaults(self) -> dict[str, float]:
        return self.cost_model.defaults

    @property
    def limits(self) -> tuple[tuple[str, str], ...]:
        return self.cost_model.limits

    @property
    def evaluator(self):
        return self.cost_model.evaluator

    @property
    def output_names(self) -> Sequence[str]:
        return self.cost_model.evaluator.names

    def unit(self, name: str) -> str:
        if name.startswith("area."):
            return "m^2"
        last = name.rsplit(".", 1)[-1]
        if last not in _UNITS:
            raise SymcostError(f"unknown output {name!r}")
        return _UNITS[last]

    def input_for(self, name: str) -> tuple[str, float]:
        return self.cost_model.input_for(name)

    def evaluate(self, **inputs: np.ndarray | float) -> dict[str, np.ndarray]:
        return self.cost_model.evaluate(**inputs)

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr:
        return self.cost_model.closed_form(name, values)


def _overrides(settings: Sequence[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for path, value in settings:
        role, _, field = path.partition(".")
        if role not in ROLES or not field:
            raise SymcostError(f"--set {path}: the selfspec pack's documents are {', '.join(ROLES)}; "
                               "write --set hardware.analog.xbar_size=256")
        grouped.setdefault(role, {})[re.sub(r"\[(\d+)\]", r".\1", field)] = value
    return grouped
