"""SymPy's ``xreplace`` that rebuilds each distinct sub-expression once.

The closed forms inline the same definitions into many outputs, and an audit tidies the same
closed forms in many equations. ``xreplace`` rebuilds every occurrence of a shared part, and
rebuilding a ``Max``/``Min`` compares its arguments pairwise under the symbols' assumptions,
milliseconds per pair. :class:`Replacement` keeps what each sub-expression became, so a part
shared by fifty outputs is rebuilt once. The result is the expression ``xreplace`` gives: the
same rule, applied bottom-up, each node rebuilt (evaluated) exactly when one of its arguments
was replaced, as SymPy's ``Basic._xreplace`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Bounds what one Replacement keeps (a long-lived service builds many audits, each its own).
MEMO_LIMIT = 200_000


class Replacement:
    """``expression.xreplace(rule)``, remembered by sub-expression across calls.

    ``rule`` maps an expression to its replacement (a dict, as for ``xreplace``), or is a function
    returning the replacement or None for a node it leaves alone. A sub-expression's result must
    depend on that sub-expression alone, so one rule serves every call of an instance.
    """

    def __init__(self, rule: Mapping[Any, Any] | Callable[[Any], Any]):
        self._rule = rule.get if isinstance(rule, Mapping) else rule
        self._done: dict[Any, tuple[Any, bool]] = {}

    def __call__(self, expression: Any) -> Any:
        return self._replaced(expression)[0]

    def _replaced(self, expression: Any) -> tuple[Any, bool]:
        replacement = self._rule(expression)
        if replacement is not None:
            return replacement, True
        done = self._done.get(expression)
        if done is None:
            done = self._rebuilt(expression)
            if len(self._done) < MEMO_LIMIT:
                self._done[expression] = done
        return done

    def _rebuilt(self, expression: Any) -> tuple[Any, bool]:
        arguments, changed = [], False
        for argument in expression.args:
            if hasattr(argument, "_xreplace"):  # as SymPy: arguments that are not Basic stay as they are
                argument, replaced = self._replaced(argument)
                changed |= replaced
            arguments.append(argument)
        return (expression.func(*arguments), True) if changed else (expression, False)
