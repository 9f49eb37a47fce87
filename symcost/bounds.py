"""Exact bounds on the values of an expression, from the signs its symbols are declared with.

``value_bounds(x)`` is an interval ``(low, high)`` holding every value ``x`` takes when each symbol ranges over
what its assumptions allow (``nonnegative``: [0, oo); ``positive`` and ``integer``: [1, oo); ...). It is
interval arithmetic, so it ignores that two occurrences of a symbol share a value: the interval may be wider
than the true range, never narrower. The arithmetic is exact: numbers, SymPy ``Float`` included, are converted
to rationals, so a bound of 0 is 0, not a rounding of -1e-300.

``None`` is the answer for an expression outside the part of SymPy read here (functions other than
``Max``/``Min``/``Piecewise``/``floor``/``ceiling``, non-integer powers, symbols not known to be real): the
caller then asks SymPy. A function class may say how its bounds follow from its arguments' with a class
method ``bounds_from_arguments(intervals)`` (the engine's aggregates do, :mod:`symcost.aggregates`).
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

Bound = Fraction | float  # a float only for -inf and inf: every finite bound is an exact Fraction
Interval = tuple[Bound, Bound]

_INFINITE = (-math.inf, math.inf)
_ZERO = Fraction(0)
_ONE = (Fraction(1), Fraction(1))


def value_bounds(expression: sp.Basic) -> Interval | None:
    """(low, high) containing every value of ``expression``, or None where it is not read (module docstring)."""
    reader = _READERS.get(type(expression)) or _reader_by_kind(expression)
    return reader(expression) if reader else None


def _reader_by_kind(expression: sp.Basic):
    if expression.is_Number:
        return _number
    if expression.is_Symbol:
        return _symbol
    if expression.is_Add:
        return _add
    if expression.is_Mul:
        return _mul
    if expression.is_Pow:
        return _power
    if hasattr(expression, "bounds_from_arguments"):
        return _declared
    return None


def _number(number: sp.Number) -> Interval | None:
    value = _exact(number)
    return None if value is None else (value, value)


def _exact(number: sp.Number) -> Bound | None:
    if number.is_Rational:
        return Fraction(int(number.p), int(number.q))
    if number.is_Float:
        sign, mantissa, exponent, _ = number._mpf_
        if not mantissa and exponent:  # SymPy's Float infinities and NaN have a zero mantissa
            return None
        value = mantissa * Fraction(2) ** exponent
        return -value if sign else value
    if number is sp.S.Infinity:
        return math.inf
    if number is sp.S.NegativeInfinity:
        return -math.inf
    return None  # NaN, complex infinity


def _symbol(symbol: sp.Symbol) -> Interval | None:
    if not symbol.is_extended_real:
        return None
    integer = bool(symbol.is_integer)
    low = Fraction(1) if symbol.is_positive and integer else _ZERO if symbol.is_nonnegative else -math.inf
    high = Fraction(-1) if symbol.is_negative and integer else _ZERO if symbol.is_nonpositive else math.inf
    return (low, high)


def _parts(expression: sp.Basic) -> list[Interval] | None:
    parts = []
    for argument in expression.args:
        part = value_bounds(argument)
        if part is None:
            return None
        parts.append(part)
    return parts


def _add(expression: sp.Add) -> Interval | None:
    parts = _parts(expression)
    if parts is None:
        return None
    low, high = _ZERO, _ZERO
    for part_low, part_high in parts:
        low, high = _plus(low, part_low), _plus(high, part_high)
    return _INFINITE if low != low or high != high else (low, high)  # nan: -inf + inf


# Infinities are kept apart from the fractions: Fraction + float converts the fraction to a float, which
# overflows for the huge values a subnormal input's reciprocal brings.
def _plus(first: Bound, second: Bound) -> Bound:
    if isinstance(first, float) and isinstance(second, float):
        return first + second  # -inf + inf is nan
    if isinstance(first, float) or isinstance(second, float):
        return first if isinstance(first, float) else second
    return first + second


def _times(first: Interval, second: Interval) -> Interval:
    products = [_product(a, b) for a in first for b in second]
    return (min(products), max(products))


def _product(first: Bound, second: Bound) -> Bound:
    # 0 * oo is 0 here: a factor that is exactly zero zeroes the product whatever the other is.
    if not first or not second:
        return _ZERO
    if isinstance(first, float) or isinstance(second, float):
        return math.inf if (first > 0) == (second > 0) else -math.inf
    return first * second


def _mul(expression: sp.Mul) -> Interval | None:
    parts = _parts(expression)
    if parts is None:
        return None
    product = _ONE
    for part in parts:
        product = _times(product, part)
    return product


def _power(power: sp.Pow) -> Interval | None:
    if not power.exp.is_Integer:
        return None
    base = value_bounds(power.base)
    if base is None:
        return None
    exponent = int(power.exp)
    if exponent < 0:
        if base[0] <= 0 <= base[1]:
            return None
        base = (_reciprocal(base[1]), _reciprocal(base[0]))
    result = _ONE
    for _ in range(abs(exponent)):
        result = _times(result, base)
    if exponent % 2 == 0 and result[0] < 0:  # an even power of an interval around 0
        result = (_ZERO, result[1])
    return result


def _reciprocal(value: Bound) -> Bound:
    return _ZERO if isinstance(value, float) else 1 / Fraction(value)


def _extremes(choose):
    def read(expression: sp.Basic) -> Interval | None:
        parts = _parts(expression)
        return None if parts is None else (choose(p[0] for p in parts), choose(p[1] for p in parts))

    return read


def _rounded(rounding):
    def read(expression: sp.Basic) -> Interval | None:
        inner = value_bounds(expression.args[0])
        if inner is None:
            return None
        return tuple(value if isinstance(value, float) else Fraction(rounding(value)) for value in inner)

    return read


def _declared(expression: sp.Function) -> Interval | None:
    parts = _parts(expression)
    return None if parts is None else expression.bounds_from_arguments(parts)


def _piecewise(expression: sp.Piecewise) -> Interval | None:
    """Any branch's value may be the one taken: the hull of them all (conditions are not read)."""
    parts = []
    for value, _condition in expression.args:
        part = value_bounds(value)
        if part is None:
            return None
        parts.append(part)
    return (min(part[0] for part in parts), max(part[1] for part in parts))


_READERS = {
    sp.Max: _extremes(max),
    sp.Min: _extremes(min),
    sp.floor: _rounded(math.floor),
    sp.ceiling: _rounded(math.ceil),
    sp.Piecewise: _piecewise,
}
