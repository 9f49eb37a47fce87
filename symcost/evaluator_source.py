"""The generated evaluator code symcost is willing to execute from its cache.

lambdify writes our evaluators as one function of straight-line numpy
arithmetic: assignments of arithmetic on names and numbers, calls of numpy
ufuncs, ``select`` and ``reduce``, and a returned list. Before such source is
executed again it is parsed and checked against exactly that shape (see
:func:`checked_function`): no imports, no attribute access (except
``<ufunc>.reduce``, which SymPy prints for an ``And`` of three or more
conditions), no strings, no dunder names, and calls only of names the
namespace provides. Its globals are that namespace alone: the numpy ufuncs it
names, ``select``, ``reduce``, ``float64`` and a few constants, with empty
builtins. This is defence in depth behind the cache index's digests, which
already refuse any file symcost did not write.
"""

from __future__ import annotations

import ast
import functools
import sys
import types
from collections.abc import Callable, Iterable
from typing import Any

FUNCTION_NAME = "_lambdifygenerated"
_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_CONSTANTS = (int, float, bool)


class UnsafeSource(ValueError):
    """Source that is not of the shape symcost generates."""


def namespace(names: Iterable[str]) -> dict[str, Any]:
    """The globals for an evaluator that uses ``names``: those of them we provide, and empty builtins."""
    import numpy as np  # here: a few points of a cached evaluator run without numpy (symcost.evaluator_points)

    values = {
        "reduce": functools.reduce,
        "float64": np.float64,
        "select": np.select,
        "nan": np.nan,
        "inf": np.inf,
        "pi": np.pi,
    }
    provided: dict[str, Any] = {"__builtins__": {}}
    for name in names:
        if name in values:
            provided[name] = values[name]
        elif not name.startswith("_") and isinstance(getattr(np, name, None), np.ufunc):
            provided[name] = getattr(np, name)
    return provided


def global_names(code: types.CodeType) -> set[str]:
    """Every global (and attribute) name a compiled function refers to, nested code included."""
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= global_names(constant)
    return names


def checked_function(source: str, filename: str, names: Iterable[str]) -> Callable:
    """The evaluator defined by ``source``, run only once it passes the whitelist.

    ``names`` are the globals the evaluator was stored with (see
    :func:`namespace`). Raises :class:`UnsafeSource` (or ``SyntaxError``)
    when the source is anything other than what lambdify writes for us.
    """
    provided = namespace(names)
    return defined_function(checked_tree(source, filename, provided), filename, provided)


def checked_tree(source: str, filename: str, provided: dict[str, Any]) -> ast.Module:
    """``source`` parsed, once it passes the whitelist for the globals ``provided``."""
    tree = ast.parse(source, filename)
    _check_shape(tree)
    _check_names(tree, provided)
    return tree


def defined_function(tree: ast.Module, filename: str, provided: dict[str, Any]) -> Callable:
    """The function a checked tree defines, with ``provided`` as its globals."""
    exec(compile(tree, filename, "exec"), provided)  # noqa: S102 - checked, and its digest is ours
    return provided[FUNCTION_NAME]


def _check_shape(tree: ast.Module) -> None:
    """One function, plain positional arguments, assignments to single names, then its one return."""
    if len(tree.body) != 1 or type(tree.body[0]) is not ast.FunctionDef or tree.body[0].name != FUNCTION_NAME:
        raise UnsafeSource(f"expected one function named {FUNCTION_NAME}")
    function = tree.body[0]
    arguments = function.args
    if (
        function.decorator_list
        or function.returns
        or arguments.vararg
        or arguments.kwarg
        or arguments.kwonlyargs
        or arguments.posonlyargs
        or arguments.defaults
        or any(argument.annotation for argument in arguments.args)
    ):
        raise UnsafeSource("the function has decorators, annotations, defaults or variable arguments")
    *assignments, last = function.body
    if type(last) is not ast.Return or last.value is None:
        raise UnsafeSource("the function must end in its only return")
    for statement in assignments:
        if (
            type(statement) is not ast.Assign
            or len(statement.targets) != 1
            or type(statement.targets[0]) is not ast.Name
        ):
            raise UnsafeSource(f"a statement other than an assignment to one name at line {statement.lineno}")


def _check_names(tree: ast.Module, provided: dict[str, Any]) -> None:
    """Arguments and assigned names: no dunders, no rebinding of what the namespace provides; every value checked."""
    function = tree.body[0]
    assigned = [argument.arg for argument in function.args.args]
    assigned += [statement.targets[0].id for statement in function.body[:-1]]
    for name in assigned:
        if name.startswith("__") or name in provided:
            raise UnsafeSource(f"the name {name} may not be assigned")
    loaded = _check_expressions([statement.value for statement in function.body], provided)
    unknown = {name for name in loaded if name.startswith("__")} | (loaded - set(assigned) - provided.keys())
    if unknown:
        raise UnsafeSource(f"unknown or dunder names {', '.join(sorted(unknown))}")


def _check_expressions(expressions: list[ast.expr], provided: dict[str, Any]) -> set[str]:
    """Walk the expressions (without recursion: sums may nest deeply); the names they read."""
    loaded: set[str] = set()
    pending = list(expressions)
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is ast.Name:
            loaded.add(node.id)
        elif kind is ast.Constant:
            if type(node.value) not in _CONSTANTS:
                raise UnsafeSource(f"constant {node.value!r} at line {node.lineno}")
        elif kind is ast.BinOp and type(node.op) in _OPERATORS:
            pending += (node.left, node.right)
        elif kind is ast.UnaryOp and type(node.op) in _OPERATORS:
            pending.append(node.operand)
        elif kind in (ast.List, ast.Tuple):
            pending += node.elts
        elif kind is ast.Call:
            pending += _call_arguments(node, provided)
        else:
            raise UnsafeSource(f"{kind.__name__} at line {getattr(node, 'lineno', '?')}")
    return loaded


def _is_ufunc(value: object) -> bool:
    numpy = sys.modules.get("numpy")  # not imported: nothing provided can be one of its ufuncs
    return numpy is not None and isinstance(value, numpy.ufunc)


def _call_arguments(node: ast.Call, provided: dict[str, Any]) -> list[ast.expr]:
    """The arguments of a call of a provided function (or ``<ufunc>.reduce``), keywords named and no dunders."""
    target = node.func
    if type(target) is ast.Attribute:
        allowed = (
            target.attr == "reduce" and type(target.value) is ast.Name and _is_ufunc(provided.get(target.value.id))
        )
    else:
        allowed = type(target) is ast.Name and not target.id.startswith("__") and callable(provided.get(target.id))
    if not allowed:
        raise UnsafeSource(f"call of something the namespace does not provide at line {node.lineno}")
    if any(keyword.arg is None or keyword.arg.startswith("__") for keyword in node.keywords):
        raise UnsafeSource(f"unnamed or dunder keyword argument at line {node.lineno}")
    return [*node.args, *(keyword.value for keyword in node.keywords)]
