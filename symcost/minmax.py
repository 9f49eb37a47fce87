"""How symcost's processes build SymPy's ``Max`` and ``Min``: remembered, and ordered from exact bounds.

Building ``Max(a, b, ...)`` SymPy compares every pair of arguments (``_find_localzeros``) to drop those that
can never win. Each comparison asks whether ``a - b`` is nonnegative under the symbols' assumptions, and for
the nested step-sum bounds of :mod:`symcost.sums` (``Min(K, Max(1, floor(-L_prompt) + 1), ...)``) SymPy's
assumption system spends milliseconds per pair, mostly to conclude that it cannot tell: in a cold build of
Llama-2-7B pipelined, 360 of 473 comparisons were undecided and took 2.5 s of its 6 s.

Two changes, installed once per process by :func:`install_minmax`:

* **Ordering from bounds.** Where :func:`symcost.bounds.value_bounds` can read ``a - b``, its exact interval
  decides: ``a >= b`` everywhere, ``a <= b`` everywhere, or neither (both arguments kept). Every decision is a
  proof, so a ``Max``/``Min`` is only ever simplified correctly; keeping both arguments is always correct.
  The bounds decided every comparison SymPy decided in the examples, and 43 more that SymPy left open
  (``tests/core/test_minmax.py`` checks both). Where the bounds cannot read the difference (a function
  other than Max/Min/Piecewise/floor/ceiling, a symbol not known to be real), SymPy's own test answers.
* **Construction remembered.** SymPy caches the construction of functions, sums, products and powers
  (``cacheit``: bounded, cleared by ``sympy.core.cache.clear_cache`` and whenever the ``evaluate`` setting
  changes) but not ``Max``/``Min``. Substitutions rebuild every enclosing node, and SymPy's own
  ``factor_terms``/``signsimp`` rebuild them again; remembering returns the object built the first time for
  equal arguments (expressions are immutable, so nothing else can differ).

Both apply to every ``Max``/``Min`` built in the process after installation, including a library user's.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.cache import cacheit
from sympy.functions.elementary.miscellaneous import MinMaxBase

from .bounds import value_bounds

_INSTALLED = "_symcost_installed"
_SYMPYS_ORDER = MinMaxBase._is_connected.__func__


def install_minmax() -> None:
    """Route ``Max``/``Min`` through the ordering and the memo above (once per process)."""
    if getattr(MinMaxBase.__new__, _INSTALLED, False):
        return
    remembered = cacheit(MinMaxBase.__new__)
    setattr(remembered, _INSTALLED, True)
    MinMaxBase.__new__ = staticmethod(remembered)
    MinMaxBase._is_connected = classmethod(_ordered)


def _ordered(cls, first: sp.Expr, second: sp.Expr):
    """SymPy's ``_is_connected`` contract: True if equal, Max if first >= second, Min if first <= second, else
    False (no order known)."""
    if first == second:
        return True
    bounds = value_bounds(first - second)
    if bounds is None:
        return _SYMPYS_ORDER(cls, first, second)
    low, high = bounds
    if low >= 0:
        return sp.Max
    if high <= 0:
        return sp.Min
    return False
