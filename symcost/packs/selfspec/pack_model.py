"""Building the selfspec pack's model for the generic verbs (its :class:`~symcost.packs.selfspec.model.CostModel`
is a :class:`~symcost.registry.PackModel`).

Its inputs are three documents mounted by name (``--input model=FILE
--input hardware=FILE --input stats=FILE``, or the aliases ``--model
--hardware --stats``); the hardware document is resolved against the
component libraries before binding. ``--set model.n_layers=48`` or
``--set hardware.analog.xbar_size=256`` change one field of a document
before it is checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ...errors import SymcostError
from ...input_tree import InputTree
from ...pack import FormulaPack
from .derive import variable_names
from .model import CostModel, build_model

__all__ = ["build", "variable_names"]

ROLES = ("model", "hardware", "stats")


def build(pack: FormulaPack, tree: InputTree, vary: Sequence[str] = (), library_path: Sequence[str] = ()) -> CostModel:
    """The selfspec cost model of the three mounted documents, ``vary`` (and L_prompt) left variable;
    it offers the generic verbs' interface (:class:`~symcost.registry.PackModel`) itself."""
    missing = [role for role in ROLES if role not in tree.mounts]
    if missing:
        raise SymcostError(
            f"pack selfspec needs --input {missing[0]}=FILE (or --{missing[0]} FILE) "
            f"for its {', '.join(missing)} document{'s' if len(missing) > 1 else ''}"
        )
    variable = list(dict.fromkeys(["L_prompt", *vary]))
    return build_model(
        *(tree.mounts[role] for role in ROLES),
        pack=pack.source,
        library_path=list(library_path),
        vary=variable,
        overrides=_overrides(tree.settings),
    )


def _overrides(settings: Sequence[tuple[str, Any]]) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    for path, value in settings:
        role, _, field = path.partition(".")
        if role not in ROLES or not field:
            raise SymcostError(
                f"--set {path}: the selfspec pack's documents are {', '.join(ROLES)}; "
                "write --set hardware.analog.xbar_size=256"
            )
        grouped.setdefault(role, {})[re.sub(r"\[(\d+)\]", r".\1", field)] = value
    return grouped
