"""Max/Min construction remembered within a process: same objects back, same results as SymPy's own."""

import pytest
import sympy as sp
from sympy.functions.elementary.miscellaneous import MinMaxBase

import symcost.sums  # noqa: F401  (installs the memo, as every closed-form build does)
from symcost.minmax_memo import remember_minmax

x = sp.Symbol("x", real=True)
n = sp.Symbol("n", integer=True, positive=True)
K = sp.Symbol("K", integer=True, positive=True)
L = sp.Symbol("L_prompt", integer=True, nonnegative=True)

CASES = [
    (sp.Max, (x, x + 1)),  # collapses: x + 1 > x
    (sp.Min, (x, x + 1)),
    (sp.Max, (n, 0)),  # collapses under n's assumptions
    (sp.Max, (K - n, 0)),  # stays
    (sp.Min, (K, sp.Max(1, sp.floor(-L) + 1))),
    (sp.Max, (sp.Min(K, sp.ceiling(3 * L / 7) + 2) - sp.Min(K, sp.Max(1, sp.floor(-L) + 1)), 0)),
    (sp.Max, (sp.Float(2.5), sp.Integer(2), x)),
    (sp.Min, (sp.Max(x, 3), sp.Max(x, 3), 5)),
]


def _unremembered(kind, arguments):
    return MinMaxBase.__new__.__wrapped__(kind, *arguments)


@pytest.mark.parametrize(("kind", "arguments"), CASES)
def test_results_are_sympys_own(kind, arguments):
    assert sp.srepr(kind(*arguments)) == sp.srepr(_unremembered(kind, arguments))


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
    remember_minmax()
    remember_minmax()
    assert not hasattr(MinMaxBase.__new__.__wrapped__, "__wrapped__")
