"""The binder's lookup, whatever holds the numbers: which path, default or category gives a symbol its value.

:mod:`symcost.binder` documents the rules. They are here apart from SymPy so that the llm pack's warm
path (:mod:`symcost.packs.llm.pack_symbols`) binds a scenario by the very same rules on exact fractions,
without importing SymPy; a :class:`Numbers` says how a bound number is held.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import InputError, InputIssue
from .input_tree import MISSING, InputTree, Measured
from .units import field_unit, parse_unit, to_unit

UNBOUND_SOURCES = frozenset({"derived", "constant", "engine", "layer", "outcome"})


@dataclass(frozen=True)
class BoundValue:
    """A symbol's value in SI units, with where it came from (and the number and unit as written)."""

    value: Any  # a SymPy expression (symcost.binder), or a Fraction, float or formula (the llm warm path)
    provenance: str
    source_unit: str | None = None
    source_value: float | None = None
    formula: Any = None  # the pack's formula the value comes from (a default), for audits


class Numbers(Protocol):
    """How bound values are held."""

    def exact(self, number: float | int, si_factor: float) -> Any:
        """The decimal a file wrote times a unit's factor to SI, exactly."""

    def inexact(self, number: float, si_factor: float) -> Any:
        """A figure a reader computed (no exact decimal) times a unit's factor."""

    def default(self, default: Any, si_factor: float) -> tuple[Any, Any]:
        """A symbol's default as (value, formula): the formula is None unless the default is one over symbols."""

    def expression(self, found: Any) -> Any | None:
        """``found`` when it is an expression a reader put in the inputs, else None."""

    def table(self, spec: Any, mapping: Mapping) -> Any:
        """A table symbol's value from its mapping outcome -> weight (raises ValueError on a bad one)."""


class BindingProblem(Exception):
    def __init__(self, where: str, message: str):
        super().__init__(message)
        self.where = where


def bind_specs(
    specs: Iterable[Any], tree: InputTree, pack_name: str, numbers: Numbers, skip: frozenset[str] = frozenset()
) -> dict[str, BoundValue]:
    """Values (by symbol name) of every symbol spec with a binding or a default, except those named in
    ``skip``; every problem is raised at once as an :class:`InputError`."""
    values: dict[str, BoundValue] = {}
    issues: list[InputIssue] = []
    for spec in specs:
        if spec.source in UNBOUND_SOURCES or spec.name in skip or (spec.binding is None and spec.default is None):
            continue
        if spec.table is not None and not _given(tree, spec.binding_paths):
            continue
        try:
            values[spec.name] = bind_spec(spec, tree, pack_name, numbers)
        except BindingProblem as problem:
            issues.append(InputIssue(problem.where, f"symbol {spec.name}", str(problem)))
    if issues:
        raise InputError(issues)
    return values


def bind_spec(spec: Any, tree: InputTree, pack_name: str, numbers: Numbers) -> BoundValue:
    """The value of one symbol: the first of its paths present, else its default."""
    paths = list(spec.binding_paths)
    for path in paths:
        found = tree.lookup(path)
        if found is not MISSING and found is not None:
            return _converted(spec, found, path, tree, numbers)
    default, chosen = _chosen_default(spec, tree)
    if default is not None:
        value, formula = numbers.default(default, parse_unit(spec.unit).si_factor)
        absent = " or ".join(paths)
        where = [f"{absent} not given"] if paths else []
        where += [f"{chosen} given"] if chosen else []
        return BoundValue(
            value, f"pack default for {spec.name}{' (' + '; '.join(where) + ')' if where else ''}", formula=formula
        )
    hints = [close for path in paths for close in tree.closest(path)]
    hint = f"; did you mean {', '.join(dict.fromkeys(hints))}?" if hints else ""
    where = ", ".join(dict.fromkeys(tree.origins.values())) or "the inputs"
    raise BindingProblem(
        where if tree.origins else (pack_name or "inputs"),
        f"needs {' or '.join(paths)} (in {spec.unit}), which the inputs do not give{hint}",
    )


def _given(tree: InputTree, paths: tuple[str, ...]) -> bool:
    return any(tree.lookup(path) not in (MISSING, None) for path in paths)


def _chosen_default(spec: Any, tree: InputTree) -> tuple[Any, str | None]:
    """The default that applies, and the path that chose it (an alternative's ``given``)."""
    if not isinstance(spec.default, tuple):
        return spec.default, None
    for choice in spec.default:
        if choice.given is None or _given(tree, (choice.given,)):
            return choice.value, choice.given
    return None, None


def _converted(spec: Any, found: Any, path: str, tree: InputTree, numbers: Numbers) -> BoundValue:
    origin = tree.origin(path)
    if spec.table is not None:
        if not isinstance(found, Mapping):
            raise BindingProblem(
                origin.split(":")[0],
                f"{path}: expected a mapping outcome -> weight (a histogram), got a {type(found).__name__}",
            )
        try:
            return BoundValue(numbers.table(spec, found), origin)
        except ValueError as error:
            raise BindingProblem(origin.split(":")[0], f"{path}: {error}") from None
    if numbers.expression(found) is not None:
        return BoundValue(found, origin)
    if isinstance(found, Measured):
        if numbers.expression(found.value) is not None:  # a reader's derived value (E[a+1] as a formula in K)
            return BoundValue(found.value, found.provenance)
        return _from_number(spec, found.value, found.unit, found.provenance, path, numbers, exact=found.exact)
    if isinstance(found, bool):
        return BoundValue(numbers.exact(int(found), 1.0), origin, "1", int(found))
    if isinstance(found, (int, float)):
        leaf = path.rsplit(".", 1)[-1]
        unit = spec.unit if spec.reinterpret_unit else field_unit(leaf) or spec.unit
        return _from_number(spec, found, unit, origin, path, numbers)
    if isinstance(found, str) and spec.categories:
        return _category(spec, found, path, origin, numbers)
    if isinstance(found, str):
        try:
            number = to_unit(found, parse_unit(spec.unit))
        except ValueError as error:
            raise BindingProblem(origin.split(":")[0], f"{path}: {error}") from None
        return BoundValue(numbers.exact(number, parse_unit(spec.unit).si_factor), origin, spec.unit, number)
    raise BindingProblem(
        origin.split(":")[0],
        f"{path}: expected a number or a quantity such as '2 {spec.unit}', got a {type(found).__name__}",
    )


def _category(spec: Any, word: str, path: str, origin: str, numbers: Numbers) -> BoundValue:
    """The number a word stands for (``mlp: gated`` -> 3 weight matrices), from the symbol's ``categories``."""
    known = dict(spec.categories)
    if word not in known:
        close = difflib.get_close_matches(word, list(known), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise BindingProblem(origin.split(":")[0], f"{path}: {word!r} is not one of {', '.join(known)}{hint}")
    return _from_number(spec, known[word], spec.unit, f"{origin} = {word}", path, numbers)


def _from_number(
    spec: Any, number: float, unit_text: str, provenance: str, path: str, numbers: Numbers, exact: bool = True
) -> BoundValue:
    """``number`` in ``unit_text`` as an SI value: exact for the decimals a file wrote; a float for a
    figure a reader computed (a library's interpolated figure carries no exact decimal)."""
    unit = parse_unit(spec.unit if spec.reinterpret_unit else unit_text)
    if unit.dimension != spec.dimension:
        raise BindingProblem(
            provenance.split(":")[0],
            f"{path} is in {unit_text} ({unit.dimension_name}), but the symbol is in "
            f"{spec.unit} ({parse_unit(spec.unit).dimension_name})",
        )
    value = numbers.exact(number, unit.si_factor) if exact else numbers.inexact(number, unit.si_factor)
    return BoundValue(value, provenance, unit_text, number)
