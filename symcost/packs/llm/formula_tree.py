"""Small formulas (a symbol's default, a derived symbol's definition) as JSON trees, evaluated exactly.

A warm ``llm estimate`` binds a scenario without SymPy (:mod:`.pack_symbols`), yet its numbers must be
those of the SymPy binder to the last bit: the pack's formulas over bound values are kept as trees of
plain JSON (``["add", ["s", "S_0"], ["s", "S_p"]]``) and evaluated here on :class:`fractions.Fraction`,
exact as SymPy's rationals are; a value is made a float only when it is read. Trees are data: walking
one runs no code from it, and an operation not listed here is refused.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from functools import reduce
from typing import Any

Value = Fraction | float  # float: NaN ("unknown"), or a figure that has no exact decimal

_ARITHMETIC: dict[str, Callable[[list[Any]], Any]] = {
    "add": lambda args: reduce(operator.add, args),
    "mul": lambda args: reduce(operator.mul, args),
    "max": max,
    "min": min,
    "abs": lambda args: abs(args[0]),
    "floor": lambda args: Fraction(math.floor(args[0])),
    "ceiling": lambda args: Fraction(math.ceil(args[0])),
    "gt": lambda args: args[0] > args[1],
    "ge": lambda args: args[0] >= args[1],
    "lt": lambda args: args[0] < args[1],
    "le": lambda args: args[0] <= args[1],
    "eq": lambda args: args[0] == args[1],
    "ne": lambda args: args[0] != args[1],
    "and": all,
    "or": any,
    "not": lambda args: not args[0],
    "ite": lambda args: args[1] if args[0] else args[2],  # a Piecewise of conditions
}


class UnsupportedFormula(ValueError):
    """A formula with an operation the tree evaluator does not know."""


def evaluate(tree: Any, value_of: Callable[[str], Value]) -> Value | bool:
    """The tree's value; ``value_of(name)`` gives each symbol's."""
    if isinstance(tree, int) and not isinstance(tree, bool):
        return Fraction(tree)
    if not isinstance(tree, list) or not tree or not isinstance(tree[0], str):
        raise UnsupportedFormula(f"not a formula tree: {tree!r}")
    operation, *args = tree
    if operation == "s":
        return value_of(args[0])
    if operation in ("q", "f", "nan", "true", "false"):
        return _literal(operation, args)
    if operation == "pow":
        return _power(evaluate(args[0], value_of), evaluate(args[1], value_of))
    if operation == "piecewise":
        return next((evaluate(value, value_of) for value, condition in args if evaluate(condition, value_of)), math.nan)
    if operation in _ARITHMETIC:
        return _ARITHMETIC[operation]([evaluate(arg, value_of) for arg in args])
    raise UnsupportedFormula(f"unknown operation {operation!r}")


def _literal(operation: str, args: list[Any]) -> Value | bool:
    if operation == "q":
        return Fraction(int(args[0]), int(args[1]))
    if operation == "f":
        return float(args[0])
    return {"nan": math.nan, "true": True, "false": False}[operation]


def _power(base: Value, exponent: Value) -> Value:
    if isinstance(exponent, Fraction) and exponent.denominator == 1 and isinstance(base, Fraction):
        return base ** int(exponent)  # exact, as SymPy keeps a rational's integer power
    return float(base) ** float(exponent)


def to_tree(expression: Any) -> Any:
    """A SymPy expression as a tree (:class:`UnsupportedFormula` for an operation :func:`evaluate` lacks)."""
    import sympy as sp

    if expression is sp.nan:
        return ["nan"]
    if isinstance(expression, sp.Integer):
        return int(expression)
    if isinstance(expression, sp.Rational):
        return ["q", int(expression.p), int(expression.q)]
    if isinstance(expression, sp.Float):
        return ["f", float(expression)]
    if isinstance(expression, sp.Symbol):
        return ["s", expression.name]
    if expression is sp.true or expression is sp.false:
        return [str(bool(expression)).lower()]
    if isinstance(expression, sp.Piecewise):
        return ["piecewise", *([to_tree(value), to_tree(condition)] for value, condition in expression.args)]
    name = _operation_name(expression)
    return [name, *(to_tree(arg) for arg in expression.args)]


def _operation_name(expression: Any) -> str:
    import sympy as sp

    names = {
        sp.Add: "add",
        sp.Mul: "mul",
        sp.Pow: "pow",
        sp.Max: "max",
        sp.Min: "min",
        sp.Abs: "abs",
        sp.floor: "floor",
        sp.ceiling: "ceiling",
        sp.StrictGreaterThan: "gt",
        sp.GreaterThan: "ge",
        sp.StrictLessThan: "lt",
        sp.LessThan: "le",
        sp.Equality: "eq",
        sp.Unequality: "ne",
        sp.And: "and",
        sp.Or: "or",
        sp.Not: "not",
        sp.ITE: "ite",
    }
    kind = type(expression)
    if kind not in names:
        raise UnsupportedFormula(f"{expression} uses {kind.__name__}, which the warm llm binder cannot evaluate")
    return names[kind]
