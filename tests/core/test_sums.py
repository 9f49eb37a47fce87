"""Closed-form step sums against plain loops."""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.sums import ClosedFormError, closed_sum

i = sp.Symbol("i", integer=True, nonnegative=True)
L, K = sp.symbols("L K", integer=True, nonnegative=True)


def brute(summand, lo, hi, values):
    return sum(summand.subs({**values, i: step}) for step in range(lo, hi))


def check(summand, lo_expr, hi_expr, values):
    closed = closed_sum(summand, i, lo_expr, hi_expr)
    assert not closed.has(sp.Sum)
    lo, hi = int(sp.sympify(lo_expr).subs(values)), int(sp.sympify(hi_expr).subs(values))
    expected = brute(summand, lo, hi, values)
    got = closed.subs(values)
    assert (
        sp.nsimplify(got - expected) == 0
        if expected == int(expected)
        else abs(got - expected) < 1e-9 * (1 + abs(expected))
    )


SUMMANDS = [
    3 * (L + i) ** 2 + 2 * (L + i) + 7,
    sp.Max(2 * (L + i), 50),
    sp.Max(i, 40 - i),
    sp.Min(3 * i + L, 60),
    sp.Max(5 * i, L, 100 - 2 * i) + i,
    sp.Piecewise((0, sp.Eq(0, 0) & (i < 1)), (7 + L, True)),
    sp.Piecewise((i * L, i > 3), (L, True)),
    sp.ceiling((L + i) / 8),
    4 * sp.floor((i + L) / 3),
    (L + i) * sp.Max(i - 2, 0),
    sp.Max(sp.Rational(1, 3) * i + sp.Rational(1, 2), sp.Rational(7, 4)),
    sp.Rational(1, 2) ** i + i,
    L * sp.Rational(3, 4) ** (2 * i + 1),
]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SUMMANDS), st.integers(0, 120), st.integers(0, 40))
def test_closed_sum_matches_loop(summand, prompt, k):
    check(summand, 0, K, {L: prompt, K: k})


def test_shifted_bounds_and_empty_range():
    summand = sp.Max(2 * i, 9)
    for lo, hi in [(3, 11), (5, 5), (7, 2)]:
        closed = closed_sum(summand, i, lo, hi)
        assert closed == sum(max(2 * step, 9) for step in range(lo, hi))


def test_k_zero_gives_zero():
    assert closed_sum((L + i) ** 3, i, 0, K).subs(K, 0) == 0


def test_geometric_sum_keeps_the_ratio_one_case():
    alpha = sp.Symbol("alpha", positive=True)
    closed = closed_sum(alpha**i, i, 0, K + 1)
    for rate in (sp.Rational(7, 10), sp.Integer(1), sp.Rational(3, 2)):
        for k in (0, 1, 5):
            assert closed.subs({alpha: rate, K: k}) == sum(rate**step for step in range(k + 1))


def test_refuses_what_it_cannot_sum():
    with pytest.raises(ClosedFormError, match="no closed form"):
        closed_sum(sp.log(i + 1), i, 0, K)
    with pytest.raises(ClosedFormError, match="not numeric"):
        closed_sum(sp.Max(L * i, 3), i, 0, K)


def test_a_sum_asked_again_is_not_derived_again():
    from symcost import sums

    i, n = sp.Symbol("i", integer=True), sp.Symbol("n", integer=True, nonnegative=True)
    summand = sp.Max(i, n - i) + 3
    first = closed_sum(summand, i, 0, n)
    hits = sums._remembered_sum.cache_info().hits
    assert closed_sum(summand, i, 0, n) is first
    assert sums._remembered_sum.cache_info().hits == hits + 1
