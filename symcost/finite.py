"""Refusing results that are not finite, with the inputs that drive them.

An infinite or NaN figure is never a cost: it comes from an input that is
zero where it divides, or so small or so large that float64 overflows (a
bandwidth of 1e-320 B/s). Such a result is an error naming the output, the
point, and the inputs that are the likely cause: bound values beyond
:data:`EXTREME` in magnitude, and zeros of symbols that the pack divides by.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Container, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from .errors import SymcostError

EXTREME = 1e200


class NonFiniteResultError(SymcostError):
    """An output that is inf or NaN."""


@dataclass(frozen=True)
class InputValue:
    """A bound input: how to show it (``hardware.hbm.read_bandwidth_GBps = 1e-320``), its value in SI,
    and whether the pack divides by it."""

    shown: str
    value: float
    divides: bool = False


def refuse_non_finite(
    results: Mapping[str, np.ndarray], describe_point: Callable[[int], str], inputs: Callable[[], Iterable[InputValue]]
) -> None:
    """Raise :class:`NonFiniteResultError` for the first output that is not finite somewhere.

    ``describe_point(flat_index)`` words the point; ``inputs()`` (called only on failure) lists the
    bound inputs to look for culprits among.
    """
    import numpy as np  # here: commands import this module for json_text, and must start fast

    for name, values in results.items():
        bad = np.flatnonzero(~np.isfinite(np.ravel(values)))
        if bad.size:
            value = np.ravel(values)[bad[0]]
            raise NonFiniteResultError(f"{name} is {value} at {describe_point(int(bad[0]))}: {_culprits(inputs())}")


def _culprits(inputs: Iterable[InputValue]) -> str:
    inputs = list(inputs)
    # NaN inputs are left out: packs use them for "not known" (an unrated power).
    extreme = [
        item
        for item in inputs
        if item.value and math.isfinite(item.value) and not 1 / EXTREME < abs(item.value) < EXTREME
    ]
    zeros = [item for item in inputs if item.divides and item.value == 0]
    suspects = extreme + zeros
    if not suspects:
        return "no input is zero where it divides or beyond 1e+-200; check the inputs with `symcost audit`"
    listed = ", ".join(item.shown for item in suspects[:5])
    more = f" and {len(suspects) - 5} more" if len(suspects) > 5 else ""
    return f"it is driven by {listed}{more}"


def describe_point(values: Mapping[str, object], flat_index: int) -> str:
    """``L_prompt = 128, K = 4``: the inputs at one flat index of their broadcast shape."""
    import numpy as np

    arrays = {name: np.asarray(value) for name, value in values.items()}
    if not arrays:
        return "the inputs"
    shape = np.broadcast_shapes(*(array.shape for array in arrays.values()))
    return ", ".join(
        f"{name} = {np.broadcast_to(array, shape).ravel()[flat_index]:g}" for name, array in arrays.items()
    )


def require_inputs(input_names: Iterable[str], values: Mapping[str, object]) -> None:
    """Refuse an evaluation that leaves an evaluator input (an axis without a default) without a value."""
    missing = [name for name in input_names if name not in values]
    if missing:
        raise SymcostError(f"give a value for {', '.join(missing)} (an axis: --axis {missing[0]}=...)")


def checked_evaluation(
    evaluator,
    values: Mapping[str, object],
    limits: Iterable[tuple[str, str]],
    inputs: Callable[[], Iterable[InputValue]],
    *,
    mask_limits: bool = False,
    not_known: Container[str] = (),
):
    """``evaluator(**values)`` with the pack's limits and the finiteness of the results checked.

    Each limit's ``limit.NAME.value`` and ``.maximum`` outputs are popped. A point beyond a limit is a
    :class:`~symcost.errors.SymcostError` with the limit's message, or, with ``mask_limits``, a point
    of the returned mask that is False (an explorer's infeasible design). Outputs in ``not_known`` use
    an input the pack declares unknown (an unrated power): their NaN means "not known", not an error.
    Returns (results, mask).
    """
    import numpy as np

    results = evaluator(**values)
    shape = np.broadcast_shapes(*(np.shape(value) for value in values.values())) if values else ()
    within = np.ones(shape, dtype=bool)
    for name, message in limits:
        value, maximum = results.pop(f"limit.{name}.value"), results.pop(f"limit.{name}.maximum")
        broken = np.flatnonzero(np.ravel(value > maximum))
        if broken.size and not mask_limits:
            first = broken[0]
            raise SymcostError(
                f"{message}: {np.ravel(value)[first]:g} > {np.ravel(maximum)[first]:g} "
                f"at {describe_point(values, first)}"
            )
        within &= np.broadcast_to(value <= maximum, shape)
    checked = {name: array for name, array in results.items() if name not in not_known}
    feasible = (
        checked if within.all() else {name: np.broadcast_to(array, shape)[within] for name, array in checked.items()}
    )
    refuse_non_finite(
        feasible, lambda index: describe_point(values, int(np.flatnonzero(within.ravel())[index])), inputs
    )
    return results, within


def bound_inputs(pack, bound: Mapping) -> list[InputValue]:
    """The numeric values ``bound`` (symbol -> :class:`~symcost.binder.BoundValue`) gives ``pack``'s
    symbols, shown as written in the input files."""
    written = {}
    for spec in pack.symbols.values():
        bound_value = bound.get(spec.symbol)
        if bound_value is not None and bound_value.value.is_number:
            shown = (
                f"{bound_value.source_value:g} {bound_value.source_unit}"
                if bound_value.source_value is not None
                else f"{float(bound_value.value):g}"
            )
            written[spec.name] = (float(bound_value.value), shown)
    return pack_inputs(pack, written)


def pack_inputs(pack, written: Mapping[str, tuple[float, str]]) -> list[InputValue]:
    """Input values by pack symbol name (``{name: (SI value, as written)}``), each labelled with its
    binding and marked when the pack divides by it."""
    divides = {symbol.name for symbol in _divisor_symbols(pack)}
    return [
        InputValue(f"{pack.symbols[name].binding or name} = {shown}", value, name in divides)
        for name, (value, shown) in written.items()
    ]


def _divisor_symbols(pack) -> set:
    """Symbols that are a factor of some denominator (``W / (tp * BW)``: tp and BW), or a factor of the
    definition of a derived symbol that is. A zero in a sum (``1 / (1 - f)``) is no culprit."""
    import sympy as sp

    definitions = {spec.symbol: spec.definition for spec in pack.symbols.values() if spec.definition is not None}
    expressions = [term.expression for term in pack.terms] + [quantity.expression for quantity in pack.quantities]
    found = set()
    for expression in [*expressions, *definitions.values()]:
        for node in sp.preorder_traversal(expression):
            if isinstance(node, sp.Pow) and node.exp.is_negative:
                found |= _factor_symbols(node.base)
    pending = list(found & definitions.keys())
    while pending:
        added = _factor_symbols(definitions[pending.pop()]) - found
        found |= added
        pending += list(added & definitions.keys())
    return found


def _factor_symbols(expression) -> set:
    factors = expression.args if expression.is_Mul else (expression,)
    return {
        factor.base if factor.is_Pow else factor
        for factor in factors
        if factor.is_Symbol or (factor.is_Pow and factor.base.is_Symbol and factor.exp.is_positive)
    }


def json_text(payload: object, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """``payload`` as standard JSON; a NaN or infinity in it is a :class:`NonFiniteResultError` naming
    where it is (Python's json would write ``NaN``, which no JSON parser accepts)."""
    try:
        return json.dumps(payload, indent=indent, sort_keys=sort_keys, allow_nan=False)
    except ValueError:
        from .documents import number_issues

        where = next((issue for issue in number_issues(payload, "output") if "finite" in issue.message), None)
        raise NonFiniteResultError(
            f"refusing to write non-standard JSON: {where or 'a number is not finite'}"
        ) from None
