"""Max/Min in symcost's processes: ordered from exact bounds (never wrongly), and remembered."""

from __future__ import annotations

from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy.functions.elementary.miscellaneous import MinMaxBase

import symcost.sums  # noqa: F401  (installs both, as every closed-form build does)
from symcost.bounds import value_bounds
from symcost.minmax import _SYMPYS_ORDER, _ordered, install_minmax

x = sp.Symbol("x", real=True)
n = sp.Symbol("n", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
L = sp.Symbol("L_prompt", integer=True, nonnegative=True)
SCAN = sp.Symbol("scan", nonnegative=True)
LEAVES = [x, n, K, L, SCAN, sp.Integer(1), sp.Integer(0), sp.Float(4.31165e-7), sp.Float(-2.5), sp.Rational(7, 3)]

# Comparisons met in the examples' builds (Llama-2-7B pipelined): SymPy decides each, and so must the bounds.
DECIDED_BY_SYMPY = [
    (sp.oo, sp.Integer(0)),
    (sp.Float(1e-8), sp.Float(9.01603660647280e-10)),
    (sp.Piecewise((sp.Float(5.77777777777778e-7) * L + sp.Float(2.9634600163e-8), L > 0), (0, True)), 0),
    (sp.floor(-1.0 * L) + 1, sp.Integer(1)),
    (sp.Float(1.664e-5) * L + sp.Float(6.6562e-5), sp.Float(4.82088905500000e-5)),
    (1.97982421875 * sp.Max(SCAN, 3 * SCAN + 1), 0.824970558102714 * sp.Max(SCAN, 3 * SCAN + 1)),
    (K, sp.Integer(0)),
    (sp.Integer(1571), sp.Integer(-32763)),
]


@pytest.mark.parametrize(("first", "second"), DECIDED_BY_SYMPY)
def test_what_sympy_decides_the_bounds_decide_alike(first, second):
    for kind in (sp.Max, sp.Min):
        assert _ordered(kind, first, second) == _SYMPYS_ORDER(kind, first, second) != False  # noqa: E712


def test_the_bounds_decide_where_sympy_cannot():
    """An undecided comparison of the examples (SymPy: False), decided by the bounds: scan >= 0."""
    first, second = 1.97982421875 * sp.Max(4.31165e-7, 3.14426e-6 * SCAN), sp.Float(4.31165e-7)
    assert _SYMPYS_ORDER(sp.Max, first, second) is False
    assert _ordered(sp.Max, first, second) is sp.Max


def _combine(parts: tuple[sp.Expr, sp.Expr], kind: int) -> sp.Expr:
    a, b = parts
    return [a + b, a - b, 3 * a, sp.Max(a, b), sp.Min(a, b), sp.floor(a / 3) + b, a * b][kind]


expressions = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.builds(_combine, st.tuples(inner, inner), st.integers(0, 6)),
    max_leaves=6,
)
values = st.fixed_dictionaries(
    {
        x: st.fractions(-20, 20, max_denominator=8),
        n: st.integers(1, 40),
        K: st.integers(1, 8),
        L: st.integers(0, 5000),
        SCAN: st.fractions(0, 20, max_denominator=8),
    }
)


def _exact(expression: sp.Expr, point: dict) -> Fraction:
    rational = {number: sp.Rational(number) for number in expression.atoms(sp.Float)}
    value = expression.xreplace(rational).xreplace({symbol: sp.Rational(v) for symbol, v in point.items()})
    return Fraction(int(value.p), int(value.q))


@settings(max_examples=300, deadline=None)
@given(expressions, expressions, values)
def test_every_decision_holds_at_every_point_and_agrees_with_sympys(first, second, point):
    decision = _ordered(sp.Max, first, second)
    sympys = _SYMPYS_ORDER(sp.Max, first, second)
    # Two decisions may differ only where both hold: the difference is zero everywhere (1 against
    # floor(Min(1, L_prompt)/3) + 1), which the exact bounds then show.
    if decision is not False and sympys is not False and decision != sympys and first != second:
        assert value_bounds(first - second) == (0, 0)
    difference = _exact(first, point) - _exact(second, point)
    if decision is sp.Max:
        assert difference >= 0
    elif decision is sp.Min:
        assert difference <= 0


def test_what_the_bounds_cannot_read_sympy_answers():
    assert _ordered(sp.Max, sp.exp(x), sp.Integer(0)) is sp.Max  # SymPy knows exp(x) > 0
    assert sp.Max(sp.exp(x), 0) == sp.exp(x)


def test_equal_arguments_give_the_same_object():
    bound = sp.Max(sp.Min(K, sp.ceiling(L / 3)), sp.floor(L / 5) - K)
    assert sp.Max(sp.Min(K, sp.ceiling(L / 3)), sp.floor(L / 5) - K) is bound


def test_unevaluated_construction_is_not_served_an_evaluated_one():
    assert sp.Max(1, 2) == 2
    with sp.evaluate(False):
        unevaluated = sp.Max(1, 2)
    assert isinstance(unevaluated, sp.Max)
    assert isinstance(sp.Max(1, 2, evaluate=False), sp.Max)
    assert sp.Max(1, 2) == 2


def test_installing_twice_wraps_once():
    install_minmax()
    install_minmax()
    assert not hasattr(MinMaxBase.__new__.__wrapped__, "__wrapped__")
    assert MinMaxBase._is_connected.__func__ is _ordered


def test_a_difference_that_is_zero_everywhere_may_be_decided_either_way():
    """Found by the property test above: the bounds say Max, SymPy says Min, and both hold (the sides are equal)."""
    L = sp.Symbol("L_prompt", integer=True, nonnegative=True)
    first, second = sp.Integer(1), sp.floor(sp.Min(1, L) / 3) + 1
    assert _ordered(sp.Max, first, second) in (sp.Max, sp.Min)
    assert value_bounds(first - second) == (0, 0)
