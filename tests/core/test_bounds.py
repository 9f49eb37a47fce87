"""value_bounds: every value an expression takes lies inside its interval (checked by substitution)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.bounds import value_bounds

x = sp.Symbol("x", real=True)
p = sp.Symbol("p", positive=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
k = sp.Symbol("k", integer=True, positive=True)
m = sp.Symbol("m", integer=True, negative=True)
SYMBOLS = [x, p, n, k, m]
LEAVES = [*SYMBOLS, sp.Float(1.5), sp.Float(-0.25), sp.Integer(3), sp.Rational(-1, 3), sp.Float(1e-8)]


def _combine(parts: tuple[sp.Expr, sp.Expr], kind: int) -> sp.Expr:
    a, b = parts
    return [
        a + b,
        a - b,
        a * b,
        sp.Max(a, b, evaluate=False),
        sp.Min(a, b, evaluate=False),
        sp.floor(a) + b,
        sp.ceiling(a * b),
        sp.Piecewise((a, x > 1), (b, True)),
        a**2,
        a**3,
        1 / (b**2 + 1),
    ][kind]


expressions = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.builds(_combine, st.tuples(inner, inner), st.integers(0, 10)),
    max_leaves=10,
)


def _value_for(symbol: sp.Symbol, draw: float) -> sp.Rational:
    magnitude = abs(int(draw))
    return {
        x: sp.Rational(draw),
        p: sp.Rational(abs(draw)) + sp.Rational(1, 1000),
        n: sp.Integer(magnitude),
        k: sp.Integer(magnitude + 1),
        m: sp.Integer(-magnitude - 1),
    }[symbol]


@settings(max_examples=300, deadline=None)
@given(expressions, st.lists(st.floats(-50.0, 50.0), min_size=5, max_size=5))
def test_every_value_lies_inside_the_bounds(expression, draws):
    bounds = value_bounds(expression)
    assert bounds is not None
    low, high = bounds
    # Exact arithmetic on the expression's own numbers: its Floats as the binary fractions they hold.
    rational = {number: sp.Rational(number) for number in expression.atoms(sp.Float)}
    values = {symbol: _value_for(symbol, draw) for symbol, draw in zip(SYMBOLS, draws)}
    value = expression.xreplace(rational).xreplace(values).doit()  # doit: Max/Min built unevaluated
    assert value.is_Rational, value
    assert low <= Fraction(int(value.p), int(value.q)) <= high, (expression, value, bounds)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (n, (0, math.inf)),
        (k, (1, math.inf)),
        (m, (-math.inf, -1)),
        (sp.floor(-1.0 * n) + 1, (-math.inf, 1)),
        (sp.Max(2, sp.floor(-n) + 3, evaluate=False), (2, 3)),
        (sp.Min(k, 4), (1, 4)),
        (sp.Piecewise((2 * p + 1, n > 3), (0, True)), (0, math.inf)),
        (1 / k, (0, 1)),
    ],
)
def test_known_intervals(expression, expected):
    assert value_bounds(expression) == expected


def test_a_float_bound_is_the_binary_value_it_holds():
    """SymPy's 0.1 + 0.2 - 0.3 is 2**-54, not 0; a tiny Float is above 0, not rounded to it."""
    assert value_bounds(sp.Float(0.1) + sp.Float(0.2) - sp.Float(0.3)) == (Fraction(1, 2**54),) * 2
    assert value_bounds(sp.Float(0.1)) == (Fraction(0.1),) * 2
    assert value_bounds(sp.Float(1e-300))[0] > 0


@pytest.mark.parametrize(
    "expression",
    [sp.Symbol("z"), sp.sin(x), sp.sqrt(p), sp.exp(n), sp.Function("floor")(n), 1 / x, sp.nan, sp.zoo, sp.pi],
)
def test_what_is_not_read_answers_none(expression):
    assert value_bounds(expression) is None


def test_huge_values_stay_exact_beside_infinities():
    """A subnormal input's square reciprocal (about 1e619) meets oo without a float overflow."""
    low, high = value_bounds(sp.Float(1e-310) ** -2 - p + sp.Max(n, 3))
    assert low == -math.inf and high == math.inf
    low, high = value_bounds(sp.Float(1e-310) ** -2 + n)
    assert low > 10**600 and high == math.inf


def test_the_engine_aggregates_declare_their_bounds_only_over_steps_from_zero():
    from symcost.aggregates import at_step, layer_max, sum_steps

    step = sp.Symbol("i", integer=True, nonnegative=True)
    assert value_bounds(sum_steps(3 * step + 1)) == (0, math.inf)
    assert value_bounds(sum_steps(-step - 1)) == (-math.inf, 0)
    assert value_bounds(sum_steps(step - 5)) is None  # changes sign along the steps
    assert value_bounds(sum_steps(step, -3, 0)) is None  # steps below 0: i = -3 is outside i's bounds
    assert value_bounds(at_step(step + 1, n)) == (1, math.inf)
    assert value_bounds(at_step(step, m)) is None
    assert value_bounds(layer_max(n + 2)) == (2, math.inf)
