"""SymPy's ``Max``/``Min`` construction remembered within a process, as SymPy remembers its other constructors.

SymPy caches the construction of functions, sums, products and powers (``cacheit``: bounded, cleared by
``sympy.core.cache.clear_cache`` and whenever the ``evaluate`` setting changes) but not ``Max``/``Min``, whose
evaluation compares every pair of arguments under the symbols' assumptions (``_find_localzeros``): tens to
hundreds of milliseconds for the nested step-sum bounds of :mod:`symcost.sums`. The same ``Max``/``Min`` is
built again and again in one build: substituting values rebuilds every enclosing node
(``xreplace``), SymPy's own ``factor_terms`` and ``signsimp`` rebuild them inside those comparisons, and
each such rebuild is a new object whose assumptions are asked again from nothing.

Remembering the construction returns the object SymPy built the first time for equal arguments: expressions
are immutable and the construction depends on nothing else, so every result, printed form and number stays
the same (``tests/core/test_minmax_memo.py``).
"""

from __future__ import annotations

from sympy.core.cache import cacheit
from sympy.functions.elementary.miscellaneous import MinMaxBase

_REMEMBERED = "_symcost_remembered"


def remember_minmax() -> None:
    """Route ``Max``/``Min`` construction through SymPy's own constructor cache (once per process)."""
    if getattr(MinMaxBase.__new__, _REMEMBERED, False):
        return
    remembered = cacheit(MinMaxBase.__new__)
    setattr(remembered, _REMEMBERED, True)
    MinMaxBase.__new__ = staticmethod(remembered)
