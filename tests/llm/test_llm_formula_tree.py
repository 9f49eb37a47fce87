"""Formula trees (the warm llm binder's defaults and derived symbols) give SymPy's exact values."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.packs.llm.formula_tree import UnsupportedFormula, evaluate, to_tree

SYMBOLS = sp.symbols("a b c", positive=True)
decimals = st.decimals(min_value="0.001", max_value="100000", places=3, allow_nan=False)


def expressions():
    leaves = st.sampled_from(SYMBOLS) | st.integers(-5, 5).map(sp.Integer) | st.just(sp.Rational(2, 7))

    def combined(children):
        pairs = st.tuples(children, children)
        return st.one_of(
            pairs.map(lambda p: p[0] + p[1]),
            pairs.map(lambda p: p[0] * p[1]),
            pairs.map(lambda p: p[0] / (p[1] ** 2 + 1)),
            pairs.map(lambda p: sp.Max(p[0], p[1])),
            pairs.map(lambda p: sp.Min(p[0], p[1])),
            pairs.map(lambda p: sp.Piecewise((p[0], p[1] > 1), (p[1], True))),
            children.map(sp.floor),
        )

    return st.recursive(leaves, combined, max_leaves=8)


@settings(max_examples=150, deadline=None)
@given(expressions(), st.tuples(decimals, decimals, decimals))
def test_a_tree_evaluates_to_sympys_exact_value(expression, numbers):
    exact = {symbol: sp.Rational(str(number)) for symbol, number in zip(SYMBOLS, numbers)}
    fractions = {symbol.name: Fraction(str(number)) for symbol, number in zip(SYMBOLS, numbers)}
    value, expected = evaluate(to_tree(expression), fractions.__getitem__), expression.xreplace(exact)
    assert isinstance(value, Fraction) and value == Fraction(str(expected))  # exact, not rounded on the way
    assert float(value) == float(expected)


def test_unknown_is_nan_and_a_piecewise_without_a_true_branch_is_nan():
    assert math.isnan(evaluate(to_tree(sp.nan), {}.__getitem__))
    piecewise = sp.Piecewise((SYMBOLS[0], SYMBOLS[1] > 3))
    assert math.isnan(evaluate(to_tree(piecewise), {"a": Fraction(1), "b": Fraction(2)}.__getitem__))


def test_an_operation_the_evaluator_lacks_is_refused_when_kept_and_when_read():
    with pytest.raises(UnsupportedFormula, match="log"):
        to_tree(sp.log(SYMBOLS[0]))
    with pytest.raises(UnsupportedFormula, match="unknown operation 'log'"):
        evaluate(["log", ["s", "a"]], {"a": Fraction(2)}.__getitem__)
    with pytest.raises(UnsupportedFormula, match="not a formula tree"):
        evaluate({"s": "a"}, {"a": Fraction(2)}.__getitem__)
