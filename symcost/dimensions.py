"""Dimension checking over SymPy expression trees.

Each symbol has a dimension vector (see :mod:`symcost.units`). The walker
combines them through the tree: sums, Max/Min and Piecewise branches must
agree; products add exponents; powers need a numeric exponent unless the base
is dimensionless; ceiling, floor, log and exp take dimensionless arguments.
A literal zero fits any dimension (``Max(E, 0)`` is an energy).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from .units import DIMENSIONLESS, Dimension, describe_dimension

AnyDimension = Dimension | None  # None: a literal zero, which fits any dimension


class DimensionError(ValueError):
    """An expression that mixes dimensions; the message names the sub-expression."""


def dimension_of(expression: sp.Basic, dimensions: Mapping[sp.Symbol, Dimension]) -> Dimension:
    """The dimension of ``expression`` (dimensionless for a bare zero)."""
    found = _walk(sp.sympify(expression), dimensions)
    return DIMENSIONLESS if found is None else found


def _walk(node: sp.Basic, dimensions: Mapping[sp.Symbol, Dimension]) -> AnyDimension:
    if node.is_Number:
        return None if node == 0 else DIMENSIONLESS
    if node.is_Symbol:
        if node not in dimensions:
            raise DimensionError(f"symbol {node} has no declared unit")
        return dimensions[node]
    if isinstance(node, (sp.Add, sp.Max, sp.Min)):
        return _same(node, [_walk(arg, dimensions) for arg in node.args])
    if isinstance(node, sp.Mul):
        total = DIMENSIONLESS
        for arg in node.args:
            part = _walk(arg, dimensions)
            if part is None:
                return None
            total = tuple(a + b for a, b in zip(total, part))
        return total
    if isinstance(node, sp.Pow):
        return _power(node, dimensions)
    if isinstance(node, sp.Piecewise):
        for _value, condition in node.args:
            _condition(condition, dimensions)
        return _same(node, [_walk(value, dimensions) for value, _condition_ in node.args])
    if isinstance(node, sp.Abs) or getattr(node, "passes_dimension", False):
        return _walk(node.args[0], dimensions)
    if hasattr(node, "dimension_argument"):  # e.g. expected(T, x): the dimension of x
        return _walk(node.args[node.dimension_argument], dimensions)
    if isinstance(node, (sp.ceiling, sp.floor, sp.log, sp.exp)):
        inner = _walk(node.args[0], dimensions)
        if inner not in (None, DIMENSIONLESS):
            raise DimensionError(
                f"{type(node).__name__}() needs a dimensionless argument, got {describe_dimension(inner)} in {node}"
            )
        return DIMENSIONLESS
    raise DimensionError(f"cannot determine the dimension of {node} ({type(node).__name__})")


def _same(node: sp.Basic, parts: list[AnyDimension]) -> AnyDimension:
    known = {part for part in parts if part is not None}
    if len(known) > 1:
        names = ", ".join(sorted(describe_dimension(part) for part in known))
        raise DimensionError(f"mixes dimensions ({names}) in {_short(node)}")
    return known.pop() if known else None


def _power(node: sp.Pow, dimensions: Mapping[sp.Symbol, Dimension]) -> AnyDimension:
    base, exponent = node.args
    exponent_dimension = _walk(exponent, dimensions)
    if exponent_dimension not in (None, DIMENSIONLESS):
        raise DimensionError(f"exponent must be dimensionless in {_short(node)}")
    base_dimension = _walk(base, dimensions)
    if base_dimension in (None, DIMENSIONLESS):
        return base_dimension
    if not exponent.is_Rational:
        raise DimensionError(
            f"a quantity with dimension {describe_dimension(base_dimension)} "
            f"is raised to a non-numeric power in {_short(node)}"
        )
    scaled = [power * exponent for power in base_dimension]
    if any(not value.is_Integer for value in scaled):
        raise DimensionError(f"fractional dimension in {_short(node)}")
    return tuple(int(value) for value in scaled)


def _condition(condition: sp.Basic, dimensions: Mapping[sp.Symbol, Dimension]) -> None:
    if condition in (sp.true, sp.false):
        return
    if isinstance(condition, (sp.And, sp.Or)):
        for part in condition.args:
            _condition(part, dimensions)
        return
    if isinstance(condition, sp.core.relational.Relational):
        _same(condition, [_walk(side, dimensions) for side in condition.args])


def _short(node: sp.Basic) -> str:
    text = str(node)
    return text if len(text) <= 80 else text[:77] + "..."
