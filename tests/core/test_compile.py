"""The evaluator's printer: what SymPy's NumPy printer would print as numpy refuses it."""

import numpy as np
import sympy as sp

from symcost.compile import _numpy_printer, numpy_modules


def test_a_true_false_choice_extracted_as_a_common_subexpression_is_printed_as_logic():
    # Found by the oracle's property test: a step sum's crossover condition that depends on another one became a
    # Piecewise of true/false values, extracted by CSE and printed as select(..., default=nan): an array of
    # floats, which numpy refuses as the condition of the enclosing select.
    x, c, shared = sp.symbols("x c shared", real=True)
    choice = sp.Piecewise((x <= 1, c > 0), (True, True))
    cost = sp.Piecewise((2 * x, shared), (3 * x, True))
    function = sp.lambdify(
        [x, c], [cost], modules=numpy_modules(), printer=_numpy_printer(), cse=lambda _: ([(shared, choice)], [cost])
    )
    xs, cs = np.array([0.5, 2.0, 2.0, 0.5]), np.array([1.0, 1.0, -1.0, -1.0])
    oracle = [2 * xv if (xv <= 1 if cv > 0 else True) else 3 * xv for xv, cv in zip(xs, cs)]
    assert function(xs, cs)[0].tolist() == oracle


def test_an_if_then_else_is_printed_as_logic():
    x, c, shared = sp.symbols("x c shared", real=True)
    choice = sp.ITE(c > 0, x <= 1, x <= 3, evaluate=False)
    cost = sp.Piecewise((2 * x, shared), (3 * x, True))
    function = sp.lambdify(
        [x, c], [cost], modules=numpy_modules(), printer=_numpy_printer(), cse=lambda _: ([(shared, choice)], [cost])
    )
    xs, cs = np.array([0.5, 2.0, 2.0, 4.0]), np.array([1.0, 1.0, -1.0, -1.0])
    oracle = [2 * xv if (xv <= 1 if cv > 0 else xv <= 3) else 3 * xv for xv, cv in zip(xs, cs)]
    assert function(xs, cs)[0].tolist() == oracle


def test_a_choice_between_symbols_stays_a_choice_of_numbers():
    # A Symbol is a Boolean to SymPy: a Piecewise of symbols (a board power or another) is still numbers.
    board, other, c = sp.symbols("board other c", real=True)
    function = sp.lambdify(
        [board, other, c],
        [sp.Piecewise((board, c > 0), (other, True))],
        modules=numpy_modules(),
        printer=_numpy_printer(),
    )
    assert function(np.array([700.0, 700.0]), np.array([5.0, 5.0]), np.array([1.0, -1.0]))[0].tolist() == [700.0, 5.0]
