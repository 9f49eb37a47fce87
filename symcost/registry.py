"""Finding a pack and the model that runs it.

A pack is named by the file it is in (``my_pack.yaml``) or, for the packs
symcost ships, by name (``selfspec``, ``llm``, ``spatten``, ``cascade``).
Every pack runs as a :class:`PackModel`: the small interface the generic
verbs (report, sweep, breakeven, sensitivity, audit, plot) use, in the spirit
of Kerncraft's per-model base class. A pack without a burst structure runs
on the chain engine (:class:`~symcost.chain_model.ChainModel`) with no Python
of its own; a packaged pack whose inputs need reading first (the selfspec
component libraries) registers its own model class here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .errors import SymcostError

if TYPE_CHECKING:  # finding a pack's file must not import SymPy: a warm report never needs it
    import numpy as np
    import sympy as sp

    from .input_tree import InputTree
    from .pack import FormulaPack

PACKAGED = ("selfspec", "llm", "spatten", "cascade")
# Packs whose inputs a reader of their own prepares: pack name -> "module:function" that builds the
# model from (pack, tree, vary[, library_path]), imported on use.
BUILDERS: Mapping[str, str] = {
    "selfspec": "symcost.packs.selfspec.pack_model:build",
    "spatten": "symcost.packs.spatten.pack_model:build",
    "cascade": "symcost.packs.cascade.pack_model:build",
    "llm": "symcost.packs.llm.pack_model:build",
}


class PackModel(Protocol):
    """What a pack's compiled model offers the generic verbs (all values SI)."""

    pack: FormulaPack
    defaults: dict[str, float]  # evaluator inputs with a value from the inputs
    limits: tuple[tuple[str, str], ...]

    @property
    def output_names(self) -> Sequence[str]: ...

    def unit(self, name: str) -> str: ...

    def domain(self, name: str) -> str: ...  # the input's domain word: real, nonnegative, positive_integer, ...

    def input_for(self, name: str) -> tuple[str, float]: ...

    def evaluate(self, **inputs: np.ndarray | float) -> dict[str, np.ndarray]: ...

    def evaluate_within_limits(
        self, raise_beyond: bool = False, **inputs: np.ndarray | float
    ) -> tuple[dict[str, np.ndarray], np.ndarray]: ...

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr: ...


def require_outputs(model: PackModel, names: Sequence[str]) -> None:
    """Refuse names that are not outputs of ``model``, with the closest ones."""
    import difflib

    for name in names:
        if name not in model.output_names:
            close = difflib.get_close_matches(name, list(model.output_names), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SymcostError(f"unknown output {name!r}{hint}")


def resolve_pack(pack: str | Path) -> Path:
    """A formula pack given as a file (``.yaml``) or by the name of a packaged one (``selfspec``)."""
    if Path(str(pack)).suffix in (".yaml", ".yml"):
        return Path(pack)
    if str(pack) not in PACKAGED:
        raise SymcostError(f"unknown pack {str(pack)!r}: give a pack file (.yaml) or one of {', '.join(PACKAGED)}")
    return packaged_pack(str(pack))


def packaged_pack(name: str) -> Path:
    """Path of a formula pack shipped in ``formulas/``."""
    # Beside this file, as importlib.resources finds it in an installed package (which imports zipfile).
    return Path(__file__).with_name("formulas") / f"{name}.yaml"


def build_pack_model(
    pack: str | Path, tree: InputTree, vary: Sequence[str] = (), library_path: Sequence[str] = ()
) -> PackModel:
    """The compiled model of ``pack`` bound to ``tree``, with the symbols in ``vary`` left variable
    (``library_path``: extra component libraries, for the selfspec pack)."""
    from .pack import load_pack

    spec = load_pack(resolve_pack(pack))
    build = builder(spec)
    if library_path and spec.name != "selfspec":
        raise SymcostError("--library-path applies to the selfspec pack only")
    return build(spec, tree, vary, library_path) if library_path else build(spec, tree, vary)


def variable_names(pack: FormulaPack) -> set[str]:
    """The names (symbols and binding paths) a compiled model of ``pack`` can keep as inputs; any other
    axis is structural (its values change what is compiled)."""
    packaged = pack.name in PACKAGED and Path(pack.source).resolve() == packaged_pack(pack.name).resolve()
    if packaged and pack.name in BUILDERS:
        module = import_module(BUILDERS[pack.name].partition(":")[0])
        if hasattr(module, "variable_names"):
            return module.variable_names(pack)
    return {
        name
        for spec in pack.symbols.values()
        if spec.source not in ("derived", "constant")
        for name in (spec.name, *spec.binding_paths)
    }


def builder(pack: FormulaPack) -> Callable[..., PackModel]:
    """What builds ``pack``'s model: its registered builder when packaged, else the chain engine's."""
    packaged = pack.name in PACKAGED and Path(pack.source).resolve() == packaged_pack(pack.name).resolve()
    if packaged and pack.name in BUILDERS:
        module, _, name = BUILDERS[pack.name].partition(":")
        return getattr(import_module(module), name)
    if pack.index is not None:
        raise SymcostError(
            f"pack {pack.name} has a burst structure (index); the generic verbs run packs without "
            "one, and the selfspec pack through its own model"
        )
    from .chain_model import ChainModel

    return ChainModel.build
