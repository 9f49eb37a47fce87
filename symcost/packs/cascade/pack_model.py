"""The cascade pack for the generic verbs (report, sweep, breakeven, sensitivity, audit, plot).

``--pack cascade --input CASCADE`` reads a cascade file as ``symcost cascade
report`` does (``--set stages.1.compute_time_ns='1.5 ms'`` changes one
field). Every figure of the cascade engine is an output (``stage.draft.t_token``,
``level.HBM.utilisation``, ``cascade.speedup_standard``). Every input the
engine makes, one per stage, memory level or system figure, is an axis:
named by its symbol (``T_1``, ``K_0``, ``BW_HBM``: values in the pack
symbol's unit, ns for ``T``) or by its place in the file
(``stages.1.compute_time_ns``, ``memory.1.bandwidth_GBps``: values in the
field's unit).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ...compile import Evaluator
from ...errors import SymcostError
from ...finite import InputValue, checked_evaluation
from ...input_tree import InputTree
from ...pack import FormulaPack, domain_of
from ...units import field_unit, parse_unit, si_unit_text
from .config import CascadeConfig, cascade_from_tree
from .model import CascadeModel, build_cascade

FILE_FIELDS = {"shards": "placement.shards"}  # a stage input whose field sits deeper in the file


@dataclass(frozen=True)
class CascadePackModel:
    """A cascade bound to the cascade engine, as a :class:`~symcost.registry.PackModel`."""

    cascade: CascadeModel
    paths: dict[str, str]  # input path in the file -> the engine's input symbol name
    limits: tuple[tuple[str, str], ...] = ()

    @property
    def pack(self) -> FormulaPack:
        return self.cascade.pack

    @property
    def evaluator(self) -> Evaluator:
        return self.cascade.evaluator

    @property
    def defaults(self) -> dict[str, float]:
        return {symbol.name: value for symbol, value in self.cascade.values.items()}

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(self.cascade.outputs)

    def unit(self, name: str) -> str:
        return si_unit_text(parse_unit(self.cascade.units[name]).dimension)

    def domain(self, name: str) -> str:
        return domain_of(self._symbol(name))

    def input_for(self, name: str) -> tuple[str, float]:
        """The engine's input ``name`` denotes, and the factor from the unit its values are given in to SI."""
        return self._symbol(name).name, parse_unit(self.given_unit(name)).si_factor

    def given_unit(self, name: str) -> str:
        """The unit values of ``name`` are given in: the pack symbol's for a symbol name (``T_1``: ns), the
        field's for a path in the file (``stages.1.compute_time_ns``: ns, ``memory.0.bandwidth_GBps``: GB/s)."""
        spec = self.pack.symbols[self.cascade.origins[self._symbol(name)][0]]
        field = field_unit(name.rsplit(".", 1)[-1]) if self._path(name) in self.paths else None
        return field or spec.unit

    def evaluate(self, **inputs) -> dict[str, np.ndarray]:
        return self.evaluate_within_limits(raise_beyond=True, **inputs)[0]

    def evaluate_within_limits(self, raise_beyond: bool = False, **inputs) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Every figure (inputs not given take the file's values), and a mask of the points within the pack's
        limits (it declares none: placement feasibility is a figure, each level's utilisation)."""
        return checked_evaluation(
            self.evaluator, {**self.defaults, **inputs}, self.limits, self._inputs, mask_limits=not raise_beyond
        )

    def closed_form(self, name: str, values: Mapping[str, float] = {}) -> sp.Expr:
        expression = self.cascade.outputs[name]
        return expression.xreplace(
            {symbol: sp.Float(values[symbol.name]) for symbol in expression.free_symbols if symbol.name in values}
        )

    def audit_document(self):
        """The cascade's audit (as ``symcost cascade audit``)."""
        from .audit import cascade_audit
        from .placement import check_placement

        return cascade_audit(self.cascade, check_placement(self.cascade))

    def _inputs(self) -> list[InputValue]:
        return [
            InputValue(f"{self.cascade.provenance[symbol]} = {value:g}", value)
            for symbol, value in self.cascade.values.items()
        ]

    def _symbol(self, name: str) -> sp.Symbol:
        by_name = {symbol.name: symbol for symbol in self.cascade.values}
        found = by_name.get(self.paths.get(self._path(name), name))
        if found is None:
            close = difflib.get_close_matches(name, [*by_name, *self.paths], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise SymcostError(
                f"{name!r} is not an input of this cascade (an input symbol such as "
                f"{next(iter(by_name))}, or its path in the file){hint}"
            )
        return found

    @staticmethod
    def _path(name: str) -> str:
        return name.replace("[", ".").replace("]", "")


class EngineInputs(frozenset):
    """The names a cascade model may take as inputs, whatever the file: a pack symbol bound to a stage, level
    or system field (``T``, ``BW``, ``chips``), that symbol with a stage's index or a level's name appended
    (``T_1``, ``BW_HBM``), or a field of a stage, level or the system in the file (``stages.1.compute_time_ns``).
    The model itself says which of them this file has (``input_for``)."""

    FILE_SECTIONS = ("stages.", "stages[", "memory.", "memory[", "system.")

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (
            super().__contains__(name)
            or name.startswith(self.FILE_SECTIONS)
            or any(name.startswith(f"{symbol}_") for symbol in self)
        )


def variable_names(pack: FormulaPack) -> EngineInputs:
    """Every input the cascade engine can make of ``pack`` (see :class:`EngineInputs`): all of them stay
    variable in a model."""
    return EngineInputs(
        spec.name
        for spec in pack.symbols.values()
        if spec.source != "engine" and (spec.binding or "").partition(".")[0] in ("stage", "level", "system")
    )


def build(pack: FormulaPack, tree: InputTree, vary: Sequence[str] = ()) -> CascadePackModel:
    """The cascade of ``tree`` on the cascade engine; every input it makes is variable already."""
    cascade = build_cascade(cascade_from_tree(tree), pack.source)
    return CascadePackModel(cascade, input_paths(cascade))


def input_paths(cascade: CascadeModel) -> dict[str, str]:
    """Each engine input's place in the cascade file (``stages.1.compute_time_ns`` -> ``T_1``)."""
    config: CascadeConfig = cascade.config
    levels = {level.name: index for index, level in enumerate(config.levels)}
    paths = {}
    for symbol, (name, suffix) in cascade.origins.items():
        kind, _, field = (cascade.pack.symbols[name].binding or "").partition(".")
        if kind == "stage":
            paths[f"stages.{suffix}.{FILE_FIELDS.get(field, field)}"] = symbol.name
        elif kind == "level":
            paths[f"memory.{levels[suffix]}.{field}"] = symbol.name
        else:
            paths[f"{kind}.{field}"] = symbol.name
    return paths
