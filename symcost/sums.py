"""Closed-form sums over a step index.

``closed_sum(f, i, lo, hi)`` returns ``sum_{i=lo}^{hi-1} f(i)`` as an
expression without a ``Sum``, for summands built from

* polynomials in ``i`` (through an antidifference built on power sums,
  Faulhaber's formulas, which are exact and give 0 on an empty range);
* ``Max``, ``Min`` and ``Piecewise`` whose arguments and conditions are affine
  in ``i`` with numeric slopes: the index range is split where the winning
  branch changes, at crossover indices that stay symbolic in everything else
  (e.g. ``L_prompt``);
* ``floor`` / ``ceiling`` of ``(i + c) / B`` with a positive integer ``B``;
* geometric terms ``r ** (a*i + b)`` with ``r`` free of ``i`` (e.g. the
  probability ``alpha ** j`` that a drafted token j is reached), summed as a
  geometric series, with the ratio-one case kept as its own branch.

Anything else raises :class:`ClosedFormError` naming the sub-expression; there
is no silent numeric fallback. Bounds may be any integer-valued expressions;
an interval whose upper bound lies below its lower bound sums to zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import sympy as sp

from .minmax import install_minmax

# The interval bounds and lengths below nest Max/Min that SymPy evaluates again at every rebuild.
install_minmax()


class ClosedFormError(ValueError):
    """A summand symcost cannot sum in closed form; ``symbols`` are those that would have to be numbers."""

    def __init__(self, message: str, symbols: Iterable[sp.Symbol] = ()):
        super().__init__(message)
        self.symbols = frozenset(symbols)


@dataclass(frozen=True)
class _Interval:
    lo: sp.Expr
    hi: sp.Expr  # exclusive


def closed_sum(summand: sp.Expr, index: sp.Symbol, lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """``sum_{index=lo}^{hi-1} summand`` in closed form (0 when ``hi <= lo``)."""
    return _remembered_sum(sp.sympify(summand), index, _Interval(sp.sympify(lo), sp.sympify(hi)))


# Sums recur within a process: the builds of a batch or a sweep that differ only in the statistics sum the
# same per-step terms, and each index-free term of a summand takes the length of the same interval.
# SymPy's Max/Min construction makes each of them cost milliseconds to seconds.
@lru_cache(maxsize=4096, typed=True)
def _remembered_sum(summand: sp.Expr, index: sp.Symbol, interval: _Interval) -> sp.Expr:
    return _sum(summand, index, interval)


def _sum(summand: sp.Expr, index: sp.Symbol, interval: _Interval) -> sp.Expr:
    if not summand.has(index):
        return summand * _length(interval)
    if summand.is_Add:
        return sp.Add(*(_sum(term, index, interval) for term in summand.args))
    if summand.is_Mul:
        constant, dependent = summand.as_independent(index, as_Add=False)
        if constant != 1:
            return constant * _sum(dependent, index, interval)
    branching = _first_branching(summand, index)
    if branching is not None:
        return _sum_by_branches(summand, branching, index, interval)
    rounding = _first_rounding(summand, index)
    if rounding is not None:
        return _sum_rounding(summand, rounding, index, interval)
    if _is_geometric(summand, index):
        return _sum_geometric(summand, index, interval)
    if summand.is_polynomial(index):
        antidifference = _polynomial_antidifference(summand, index)
        return antidifference(_upper(interval)) - antidifference(interval.lo)
    raise ClosedFormError(f"no closed form for the sum over {index} of {summand}")


@lru_cache(maxsize=4096)
def _length(interval: _Interval) -> sp.Expr:
    return sp.Max(interval.hi - interval.lo, 0)


def _upper(interval: _Interval) -> sp.Expr:
    """The upper bound, never below the lower one (so empty ranges give 0)."""
    difference = sp.expand(interval.hi - interval.lo)
    if difference.is_nonnegative:
        return interval.hi
    return sp.Max(interval.hi, interval.lo)


# -- polynomials ----------------------------------------------------------------------


@cache
def _power_sum(degree: int) -> sp.Lambda:
    """n -> sum_{j=0}^{n-1} j**degree, as a polynomial in n."""
    j, n = sp.symbols("j n", integer=True)
    return sp.Lambda(n, sp.expand(sp.summation(j**degree, (j, 0, n - 1))))


def _polynomial_antidifference(polynomial: sp.Expr, index: sp.Symbol):
    coefficients = sp.Poly(sp.expand(polynomial), index).all_coeffs()[::-1]

    def antidifference(bound: sp.Expr) -> sp.Expr:
        return sp.Add(
            *(
                coefficient * _power_sum(degree)(bound)
                for degree, coefficient in enumerate(coefficients)
                if coefficient != 0
            )
        )

    return antidifference


# -- geometric terms ------------------------------------------------------------------------


def _is_geometric(summand: sp.Expr, index: sp.Symbol) -> bool:
    if not summand.is_Pow or summand.base.has(index):
        return False
    exponent = sp.expand(summand.exp)
    return exponent.is_polynomial(index) and sp.degree(exponent, index) == 1


def _sum_geometric(power: sp.Pow, index: sp.Symbol, interval: _Interval) -> sp.Expr:
    """sum of base**(slope*i + offset) = base**offset * sum of ratio**i with ratio = base**slope."""
    exponent = sp.expand(power.exp)
    slope, offset = exponent.coeff(index, 1), exponent.coeff(index, 0)
    ratio = power.base**slope
    upper = _upper(interval)
    series = (ratio**upper - ratio**interval.lo) / (ratio - 1)
    return power.base**offset * sp.Piecewise((_length(interval), sp.Eq(ratio, 1)), (series, True))


# -- Max / Min / Piecewise ------------------------------------------------------------------

_BRANCHING = (sp.Max, sp.Min, sp.Piecewise)


def _first_branching(expression: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    """An innermost Max/Min/Piecewise depending on the index (its arguments are then branch-free)."""
    for node in sp.postorder_traversal(expression):
        if isinstance(node, _BRANCHING) and node.has(index):
            return node
    return None


def _sum_by_branches(summand: sp.Expr, branching: sp.Expr, index: sp.Symbol, interval: _Interval) -> sp.Expr:
    total = sp.Integer(0)
    for value, pieces in _branch_regions(branching, index, interval):
        replaced = summand.xreplace({branching: value})
        for piece in pieces:
            total += _sum(replaced, index, piece)
    return total


def _branch_regions(branching: sp.Expr, index: sp.Symbol, interval: _Interval):
    """(branch value, list of disjoint sub-intervals where it is the value)."""
    if isinstance(branching, sp.Piecewise):
        remaining = [interval]
        for value, condition in branching.args:
            inside = [piece for region in remaining for piece in _intersect_condition(region, condition, index)]
            remaining = [piece for region in remaining for piece in _subtract_condition(region, condition, index)]
            yield value, inside
        if remaining:
            raise ClosedFormError(f"Piecewise {branching} has no branch for part of the index range")
        return
    arguments = list(branching.args)
    sign = 1 if isinstance(branching, sp.Max) else -1
    for position, candidate in enumerate(arguments):
        region = interval
        for other_position, other in enumerate(arguments):
            if other_position == position:
                continue
            # Strictly ahead of earlier arguments, at least level with later ones:
            # every index is won by exactly one argument.
            relation = sp.Gt if other_position < position else sp.Ge
            region = _intersect_half_line(region, sign * (candidate - other), relation, index)
        yield candidate, [region]


def _intersect_condition(interval: _Interval, condition, index: sp.Symbol) -> list[_Interval]:
    if condition is sp.true:
        return [interval]
    if condition is sp.false:
        return []
    if isinstance(condition, sp.And):
        pieces = [interval]
        for part in condition.args:
            pieces = [piece for region in pieces for piece in _intersect_condition(region, part, index)]
        return pieces
    if isinstance(condition, sp.Or):
        pieces, remaining = [], [interval]
        for part in condition.args:
            pieces += [p for region in remaining for p in _intersect_condition(region, part, index)]
            remaining = [p for region in remaining for p in _subtract_condition(region, part, index)]
        return pieces
    relation, difference = _as_difference(condition)
    return [_intersect_half_line(interval, difference, relation, index)]


def _subtract_condition(interval: _Interval, condition, index: sp.Symbol) -> list[_Interval]:
    # Negation normal form: each comparison negated (> becomes <=), And and Or swapped; no simplify(),
    # which cost a tenth of a second per condition and only rescaled the comparisons.
    return _intersect_condition(interval, sp.Not(condition).to_nnf(), index)


def _as_difference(condition) -> tuple[type, sp.Expr]:
    """Rewrite a relation as ``difference REL 0`` with REL one of >, >=, ==, !=."""
    if isinstance(condition, (sp.StrictGreaterThan, sp.GreaterThan)):
        return type(condition), condition.lhs - condition.rhs
    if isinstance(condition, sp.StrictLessThan):
        return sp.Gt, condition.rhs - condition.lhs
    if isinstance(condition, sp.LessThan):
        return sp.Ge, condition.rhs - condition.lhs
    if isinstance(condition, (sp.Eq, sp.Ne)):
        return type(condition), condition.lhs - condition.rhs
    raise ClosedFormError(f"condition {condition} is not a comparison")


def _intersect_half_line(interval: _Interval, difference: sp.Expr, relation, index: sp.Symbol) -> _Interval:
    """Restrict ``interval`` to the integers i with ``difference(i) REL 0``."""
    difference = sp.expand(difference)
    nonlinear = any(
        isinstance(node, (*_BRANCHING, sp.floor, sp.ceiling)) and node.has(index)
        for node in sp.preorder_traversal(difference)
    )
    if nonlinear or not difference.is_polynomial(index) or sp.degree(difference, index) > 1:
        raise ClosedFormError(f"condition {difference} {relation.__name__} 0 is not affine in {index}")
    slope, offset = difference.coeff(index, 1), difference.coeff(index, 0)
    if slope == 0:
        holds = relation(offset, 0)
        return (
            interval
            if holds is sp.true
            else _Interval(interval.lo, interval.lo)
            if holds is sp.false
            else _Interval(interval.lo, sp.Piecewise((interval.hi, holds), (interval.lo, True)))
        )
    if not slope.is_number:
        raise ClosedFormError(
            f"slope {slope} of {difference} in {index} is not numeric; fix the coefficients "
            "that decide which branch wins before summing",
            slope.free_symbols,
        )
    root = -offset / slope
    if relation in (sp.Eq, sp.Ne):
        raise ClosedFormError(f"equality conditions on {index} are not supported: {difference}")
    strict = relation is sp.Gt
    # Bounds are clamped into the enclosing interval: an empty piece then has lo == hi inside the
    # range instead of a far-away crossover, whose power sums would cancel in floating point.
    if slope > 0:  # i > root  or  i >= root
        first = sp.floor(root) + 1 if strict else sp.ceiling(root)
        return _Interval(sp.Min(sp.Max(interval.lo, first), interval.hi), interval.hi)
    last_excl = sp.ceiling(root) if strict else sp.floor(root) + 1  # i < root  or  i <= root
    return _Interval(interval.lo, sp.Max(sp.Min(interval.hi, last_excl), interval.lo))


# -- floor / ceiling ------------------------------------------------------------------------


def _first_rounding(expression: sp.Expr, index: sp.Symbol) -> sp.Expr | None:
    for node in sp.preorder_traversal(expression):
        if isinstance(node, (sp.floor, sp.ceiling)) and node.has(index):
            return node
    return None


def _sum_rounding(summand: sp.Expr, rounding: sp.Expr, index: sp.Symbol, interval: _Interval) -> sp.Expr:
    constant, dependent = summand.as_independent(index, as_Add=False)
    if dependent != rounding:
        raise ClosedFormError(f"floor/ceiling of {index} must appear alone in a term, got {summand}")
    argument = sp.expand(rounding.args[0])
    slope = argument.coeff(index, 1)
    if not (
        argument.is_polynomial(index)
        and sp.degree(argument, index) == 1
        and slope.is_number
        and slope > 0
        and (1 / slope).is_Integer
    ):
        raise ClosedFormError(
            f"{rounding}: only floor/ceiling of (i + c)/B with a positive integer B sums in closed form"
        )
    period = 1 / slope
    shift = sp.expand((argument - slope * index) * period)  # argument = (index + shift) / period
    if isinstance(rounding, sp.ceiling):
        shift += period - 1  # ceil(x/B) = floor((x + B - 1)/B) for integer x
    n = sp.Symbol("n", integer=True)
    q = sp.floor(n / period)
    floor_sum = sp.Lambda(n, period * q * (q - 1) / 2 + q * (n - q * period))
    upper = _upper(interval)
    return constant * (floor_sum(upper + shift) - floor_sum(interval.lo + shift))
