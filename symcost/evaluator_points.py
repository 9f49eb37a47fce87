"""A cached evaluator at a few points without numpy, bit for bit what numpy gives.

Importing numpy is about half of a warm ``symcost report`` (a few prompt lengths). The evaluator's
source (one, as stored in the cache) is run a second way: once per point, on Python floats, with
its numpy names (``select``, ``greater``, ``maximum``, ``floor``, ...) replaced by plain functions.
Adding, subtracting, multiplying and dividing floats is IEEE 754 in both; where numpy's array
arithmetic takes a path of its own, this one follows it: ``x**-1`` is ``1/x``, ``x**2`` is ``x*x``,
``x**0.5`` a square root (numpy's fast paths for an array raised to a number), and the signed zero
``maximum``/``minimum``/``floor``/``ceil`` give. Anything else gives up, and the caller evaluates
with numpy as before: an evaluator using other numpy names or powers, a division by zero, a
complex or non-finite result, a point beyond a limit (numpy's path words those errors).
``tests/core/test_evaluator_points.py`` checks these functions against numpy over random and special
values, and three examples' evaluators bit for bit (docs/performance.md: the 19 combinations' reports).
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .evaluator_source import UnsafeSource, checked_function, checked_tree, defined_function

# A report's points: about 0.1 ms each for the toy's 578 outputs, so 64 cost less than importing numpy;
# longer runs (a plot's report, sweeps) are numpy's, which evaluates them at once.
MAX_POINTS = 64
_POWER = "_point_power"
_FAST_EXPONENTS = (-1, 0, 0.5, 1, 2)


def _select(conditions: Sequence, choices: Sequence, default: float) -> float:
    return float(next((choice for condition, choice in zip(conditions, choices) if condition), default))


def _maximum(a: float, b: float) -> float:
    return float(a if a > b or a != a else b)  # numpy: NaN wins; of two equal zeros, the second


def _minimum(a: float, b: float) -> float:
    return float(a if a < b or a != a else b)


def _rounded(whole: Callable[[float], int]) -> Callable[[float], float]:
    def rounded(x: float) -> float:
        return math.copysign(float(whole(x)), x)  # a zero keeps x's sign, as numpy's floor(-0.0) and ceil(-0.5)

    return rounded


def _point_power(x: float, exponent: float) -> float:
    if exponent == -1:
        return 1.0 / x
    if exponent == 2:
        return x * x
    if exponent == 0.5:
        return math.sqrt(x)
    return float(x) if exponent == 1 else 1.0


_NAMESPACE: dict[str, Any] = {
    "select": _select,
    "maximum": _maximum,
    "minimum": _minimum,
    "floor": _rounded(math.floor),
    "ceil": _rounded(math.ceil),
    "greater": lambda a, b: a > b,
    "greater_equal": lambda a, b: a >= b,
    "less": lambda a, b: a < b,
    "less_equal": lambda a, b: a <= b,
    "equal": lambda a, b: a == b,
    "not_equal": lambda a, b: a != b,
    "reduce": functools.reduce,
    "nan": math.nan,
    "inf": math.inf,
    "pi": math.pi,
}


class CachedFunction:
    """A cached evaluator's numpy function, compiled (and numpy imported) on its first call; and, where its
    source allows, ``points``: the same source run on one point of Python floats."""

    def __init__(self, source: str, filename: str, names: Sequence[str]):
        self.source, self.filename, self.names = source, filename, tuple(names)
        self.points = _point_function(source, filename, self.names)
        self._function = None if self.points else checked_function(source, filename, self.names)

    @property
    def __wrapped__(self) -> Callable:  # what inspect.getsource follows (the source a Dask cluster is sent)
        if self._function is None:
            self._function = checked_function(self.source, self.filename, self.names)
        return self._function

    @property
    def __code__(self):
        return self.__wrapped__.__code__

    def __call__(self, *arrays):
        return self.__wrapped__(*arrays)


def _point_function(source: str, filename: str, names: tuple[str, ...]) -> Callable | None:
    """The source as a function of one point, or None where it uses what this module does not follow."""
    if not set(names) <= _NAMESPACE.keys():
        return None
    provided = {"__builtins__": {}, **{name: _NAMESPACE[name] for name in names}}
    try:
        tree = checked_tree(source, filename, provided)
    except UnsafeSource:
        return None  # e.g. ``<ufunc>.reduce``, which numpy's namespace checks and allows
    if "**" in source and not _fast_powers(tree.body[0], source.encode("utf-8").splitlines()):
        return None
    return defined_function(tree, filename, {**provided, _POWER: _point_power})


def _fast_powers(function: ast.FunctionDef, lines: list[bytes]) -> bool:
    """Rewrite each power of a value that varies with the inputs to ``_point_power``; False where such a
    power is not one of numpy's fast paths (a varying exponent, or another number). A power of numbers
    alone stays Python's, as in numpy's run."""
    definitions = {statement.targets[0].id: statement.value for statement in function.body[:-1]}
    varies = _Varies({argument.arg for argument in function.args.args}, definitions)
    for statement in function.body:
        powers = [
            (parent, field, child)
            for parent in _written_with_powers(statement, lines)
            for field, child in _fields(parent)
            if type(child) is ast.BinOp and type(child.op) is ast.Pow
        ]
        for parent, field, power in reversed(powers):  # inner powers first
            if not varies(power):
                continue
            if varies(power.right) or _exponent(power.right) not in _FAST_EXPONENTS:
                return False
            name = ast.copy_location(ast.Name(_POWER, ast.Load()), power)
            _replace(parent, field, power, ast.copy_location(ast.Call(name, [power.left, power.right], []), power))
    return True


def _written_with_powers(statement: ast.stmt, lines: list[bytes]) -> list[ast.AST]:
    """The nodes of ``statement`` whose source text has a ``**``, parents first (a warm report's evaluator
    returns hundreds of outputs, a few of them with a power)."""
    found, pending = [], [statement]
    while pending:  # not recursive: sums nest deeply
        node = pending.pop()
        found.append(node)
        pending += [child for child in ast.iter_child_nodes(node) if _has_power_text(child, lines)]
    return found


def _has_power_text(node: ast.AST, lines: list[bytes]) -> bool:
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    if start is None or start != end:
        return start is None or any(b"**" in line for line in lines[start - 1 : end])
    return b"**" in lines[start - 1][node.col_offset : node.end_col_offset]  # offsets count UTF-8 bytes


def _fields(node: ast.AST) -> list[tuple[str, ast.AST]]:
    return [
        (field, child)
        for field, value in ast.iter_fields(node)
        for child in (value if isinstance(value, list) else [value])
        if isinstance(child, ast.AST)
    ]


def _replace(parent: ast.AST, field: str, old: ast.AST, new: ast.AST) -> None:
    value = getattr(parent, field)
    if isinstance(value, list):
        value[value.index(old)] = new
    else:
        setattr(parent, field, new)


class _Varies:
    """Whether an expression depends on the function's arguments, through the assignments it reads."""

    def __init__(self, arguments: set[str], definitions: dict[str, ast.expr]):
        self.arguments, self.definitions = arguments, definitions
        self.known: dict[str, bool] = {}

    def __call__(self, expression: ast.AST) -> bool:
        return any(self._name_varies(node.id) for node in ast.walk(expression) if type(node) is ast.Name)

    def _name_varies(self, name: str) -> bool:
        pending, seen = [name], {name}
        while pending:  # not recursive: definitions can chain deeply
            current = pending.pop()
            if current in self.arguments or self.known.get(current):
                self.known[name] = True
                return True
            for node in ast.walk(self.definitions.get(current, ast.Constant(0))):
                if type(node) is ast.Name and node.id not in seen:
                    seen.add(node.id)
                    pending.append(node.id)
        self.known[name] = False
        return False


def _exponent(node: ast.expr) -> float | None:
    """The number an exponent is written as (``-1.0`` is a minus applied to 1.0), else None."""
    if type(node) is ast.UnaryOp and type(node.op) is ast.USub:
        inner = _exponent(node.operand)
        return None if inner is None else -inner
    return node.value if type(node) is ast.Constant and type(node.value) in (int, float) else None


def evaluate_points(
    function: Callable,
    inputs: Sequence[str],
    outputs: Sequence[str],
    values: Mapping[str, Any],
    limits: Sequence[Sequence[str]],
) -> dict[str, list[float]] | None:
    """``{output: [value per point]}`` from a :class:`CachedFunction`'s ``points``, limit outputs removed;
    None where numpy must evaluate (see the module's docstring). ``values`` has each input as a number
    or as a list or tuple of one common length (the points)."""
    columns = [values[name] if isinstance(values[name], (list, tuple)) else [values[name]] for name in inputs]
    count = max(map(len, columns), default=1)
    if count > MAX_POINTS or any(len(column) not in (1, count) for column in columns):
        return None
    try:
        rows = [
            [float(value) for value in function(*(float(column[index % len(column)]) for column in columns))]
            for index in range(count)
        ]
    except (ArithmeticError, ValueError, TypeError):  # a zero divisor, a complex number: numpy's path decides
        return None
    if not all(math.isfinite(value) for row in rows for value in row):
        return None
    results = dict(zip(outputs, map(list, zip(*rows))))
    for name, _ in limits:
        value, maximum = results.pop(f"limit.{name}.value"), results.pop(f"limit.{name}.maximum")
        if any(point > bound for point, bound in zip(value, maximum)):
            return None
    return results
