"""Fixing a piecewise closed form to the piece that holds at a point.

Closed forms carry branches: schedule maxima (``Max``/``Min``), conditional
costs (``Piecewise``) and step counts (``floor``/``ceiling`` of crossovers).
Around a given point each branch is decided, and the expression there equals
a smooth (polynomial or rational) one, which can be solved exactly or
differentiated cleanly. Break-even solving and sensitivities both work on
that local piece.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp

from .errors import SymcostError


def localise(expression: sp.Expr, point: Mapping[sp.Symbol, float], *, expand: bool = True) -> sp.Expr:
    """``expression`` with every branch (Max, Min, Piecewise, floor, ceiling, Abs) that depends on
    the point's symbols fixed to the one active there; the symbols stay symbols. ``expand`` multiplies
    it out (a polynomial to solve); a derivative needs no expansion, which can grow a long chain of
    quantities over many inputs without bound."""
    values = {symbol: sp.Float(value) for symbol, value in point.items()}
    symbols = tuple(values)

    def numeric(node: sp.Expr) -> float:
        return float(node.xreplace(values).evalf())

    def visit(node: sp.Basic) -> sp.Basic:
        if not node.args or not node.has(*symbols):
            return node
        if isinstance(node, (sp.Max, sp.Min)):
            candidates = [numeric(argument) for argument in node.args]
            chosen = int(np.argmax(candidates) if isinstance(node, sp.Max) else np.argmin(candidates))
            return visit(node.args[chosen])
        if isinstance(node, sp.Piecewise):
            for branch, condition in node.args:
                if bool(condition.xreplace(values)):
                    return visit(branch)
            raise SymcostError(f"no branch of a piecewise cost applies at {_describe(point)}")
        if isinstance(node, (sp.floor, sp.ceiling)):
            return sp.Integer(node.func(node.args[0].xreplace(values)))  # exact, in SymPy's arithmetic
        if isinstance(node, sp.Abs):
            return visit(node.args[0]) * (1 if numeric(node.args[0]) >= 0 else -1)
        return node.func(*(visit(argument) for argument in node.args))

    piece = visit(expression)
    return sp.expand(piece) if expand else piece


def _describe(point: Mapping[sp.Symbol, float]) -> str:
    return ", ".join(f"{symbol} = {value:g}" for symbol, value in point.items())
