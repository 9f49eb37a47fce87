"""Replacement: SymPy's xreplace, each distinct sub-expression rebuilt once."""

from __future__ import annotations

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.replace import Replacement

x, y = sp.symbols("x y", positive=True)
n = sp.Symbol("n", integer=True, nonnegative=True)
LEAVES = [x, y, n, sp.Float(1.0), sp.Float(2.5), sp.Integer(3), sp.Rational(1, 2)]


def _combine(parts: tuple[sp.Expr, sp.Expr], kind: int) -> sp.Expr:
    a, b = parts
    return [
        a + b,
        a * b,
        sp.Max(a, b),
        sp.Min(a, b),
        a / (b + 1),
        sp.floor(a) + b,
        sp.Piecewise((a, x > 1), (b, True)),
    ][kind]


expressions = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.builds(_combine, st.tuples(inner, inner), st.integers(0, 6)),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(expressions, st.floats(0.0, 8.0, allow_nan=False))
def test_same_tree_as_xreplace(expression, value):
    rule = {x: sp.Float(value), sp.Float(1.0): sp.Integer(1)}
    assert sp.srepr(Replacement(rule)(expression)) == sp.srepr(expression.xreplace(rule))


def test_a_function_rule_matches_the_dict_it_stands_for():
    expression = sp.Max(1.0 * x + 2.0, sp.Min(y, 3.0)) + 4.5 * n

    def integral(node):
        return sp.Integer(int(node)) if isinstance(node, sp.Float) and float(node).is_integer() else None

    whole = {number: integral(number) for number in expression.atoms(sp.Float) if integral(number) is not None}
    assert sp.srepr(Replacement(integral)(expression)) == sp.srepr(expression.xreplace(whole))


def test_a_shared_part_is_rebuilt_once_across_calls():
    built = []

    class traced(sp.Function):
        @classmethod
        def eval(cls, argument):
            built.append(argument)

    shared = traced(x + y)
    one, other = shared * n + 1, sp.Max(shared, n)
    built.clear()
    replace = Replacement({x: sp.Integer(2)})
    first, second = replace(one), replace(other)
    assert built == [y + 2]
    assert first == traced(y + 2) * n + 1 and second == sp.Max(traced(y + 2), n)


def test_nothing_to_replace_returns_the_same_object():
    expression = sp.Max(x, y) + n
    assert Replacement({sp.Symbol("z"): sp.Integer(1)})(expression) is expression
