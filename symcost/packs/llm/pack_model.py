"""Building the llm pack's model for the generic verbs (report, sweep, breakeven, sensitivity, audit, plot).

The inputs are the ones ``symcost llm estimate`` binds (:mod:`.inputs`), given
on the command line:

* ``model``, ``hardware``, ``runtime``, ``quant``: a catalog id or alias
  (``--set hardware=rtx-4090``), or your own entry in the catalog's form
  mounted by its role (``--input hardware=my-box.yaml``; ``--set
  hardware.gpus.0.vram_gb=48`` changes one of its fields before it is
  checked). A model and a hardware profile are required; the runtime is
  llama.cpp and the format the runtime's usual one (as ``llm estimate``)
  unless given.
* ``workload.*`` and ``layout.*`` (``--set workload.prompt_tokens=2048``,
  ``--set layout.tensor_parallel=2``, ``--set layout.offload=none``), or a
  document mounted as ``workload`` / ``layout``; what is not given takes the
  pack's defaults.
* ``coefficients.*`` (``--set coefficients.eta_bw=0.8``, ``--set
  coefficients.t0='2 ms'``): each one given wins; the others come from the
  packaged calibration for the runtime and the hardware class, or, with
  ``--set calibration=none``, from the runtime's starting values.

Every symbol is then bound by the pack itself, as for ``llm estimate``, and
the model is the chain engine's (:class:`~symcost.chain_model.ChainModel`).
A layout the model or machine cannot take is refused first, at the inputs'
values (an axis over the layout is not checked point by point).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...chain_model import ChainModel
from ...errors import SymcostError
from ...input_tree import InputTree
from ...pack import FormulaPack
from .catalog import CatalogEntry, catalog, checked_entry
from .inputs import ENTRY_ROLES, coefficient_leaves, entry_label
from .requests import default_quant, packaged_bundle
from .scenario import ParallelLayout, Scenario, Workload, layout_problems

ROLE_KINDS = dict(zip(ENTRY_ROLES, ("models", "hardware", "runtimes", "quantizations")))
CALIBRATIONS = ("packaged", "none")
DEFAULT_RUNTIME = "llama.cpp"


def build(pack: FormulaPack, tree: InputTree, vary: Sequence[str] = ()) -> ChainModel:
    """The llm pack's chain model of the command line's inputs, ``vary`` left variable."""
    entries = _entries(tree)
    scenario = Scenario(*(entries[role] for role in ENTRY_ROLES), _NO_WORKLOAD, _layout(tree))
    problems = layout_problems(scenario)
    if problems:
        raise SymcostError("; ".join(message for _, message in problems))
    data = {**tree.data, **{role: entry.data for role, entry in entries.items()}}
    origins = {**tree.origins, **{role: _origin(tree, role, entry) for role, entry in entries.items()}}
    coefficients = _coefficients(tree, scenario)  # the calibration's are measured leaves naming their bundle
    if coefficients:
        data["coefficients"] = coefficients
    return ChainModel.build(pack, InputTree(data, origins, tree.files, tree.mounts, tree.settings), vary)


# Layout checks and the calibration's pooling read the entries and the layout only, never the workload.
_NO_WORKLOAD = Workload(prompt_tokens=0, gen_tokens=0)


def _entries(tree: InputTree) -> dict[str, CatalogEntry]:
    """Each role's catalog entry: the document mounted for it (checked), or the catalog id set for it."""
    entries: dict[str, CatalogEntry] = {}
    for role in ENTRY_ROLES:
        kind, given = ROLE_KINDS[role], tree.data.get(role)
        if isinstance(given, Mapping):
            label = tree.origins.get(role, role)
            entries[role] = checked_entry(kind, dict(given), label, str(tree.mounts.get(role, label)))
        elif isinstance(given, str):
            entries[role] = catalog(kind).get(given)
        elif given is not None:
            raise SymcostError(
                f"{role}: expected a {kind} catalog id (--set {role}=ID) or an entry file "
                f"(--input {role}=FILE), got {given!r}"
            )
        elif role == "runtime":
            entries[role] = catalog(kind).get(DEFAULT_RUNTIME)
        elif role == "quant":
            entries[role] = catalog(kind).get(default_quant(entries["runtime"]))
        else:
            raise SymcostError(
                f"pack llm needs a {role}: --set {role}=ID (symcost llm catalog {kind}) "
                f"or --input {role}=FILE (one entry in the catalog's form)"
            )
    return entries


def _origin(tree: InputTree, role: str, entry: CatalogEntry) -> str:
    return tree.origins[role] if isinstance(tree.data.get(role), Mapping) else entry_label(entry)


def _layout(tree: InputTree) -> ParallelLayout:
    """The layout as given (numbers for the degrees, a word for the offload policy), for the layout checks."""
    degrees = [tree.lookup(f"layout.{name}") for name in ("tensor_parallel", "pipeline_parallel")]
    offload = tree.lookup("layout.offload")
    return ParallelLayout(*(_degree(value) for value in degrees), offload if isinstance(offload, str) else "auto")


def _degree(value: Any) -> int:
    # A degree that is not a whole number is the binder's to refuse, naming its path.
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def _coefficients(tree: InputTree, scenario: Scenario) -> dict[str, Any]:
    """The coefficients given, completed from the packaged calibration unless ``calibration=none``."""
    given = tree.data.get("coefficients")
    given = dict(given) if isinstance(given, Mapping) else {}
    choice = tree.data.get("calibration", CALIBRATIONS[0])
    if choice not in CALIBRATIONS:
        raise SymcostError(f"calibration: expected one of {', '.join(CALIBRATIONS)}, got {choice!r}")
    if choice == "none":
        return given
    fitted = packaged_bundle().coefficients_for(scenario)
    return {**coefficient_leaves(fitted), **given}
