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
import types
from typing import Any, Callable, Iterable

import numpy as np

FUNCTION_NAME = "_lambdifygenerated"
_VALUES = {"reduce": functools.reduce, "float64": np.float64, "select": np.select,
           "nan": np.nan, "inf": np.inf, "pi": np.pi}
_NODES = (ast.Module, ast.FunctionDef, ast.arguments, ast.arg, ast.Assign, ast.Return, ast.Name, ast.Load,
          ast.Store, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Call, ast.keyword, ast.List, ast.Tuple,
          ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_CONSTANTS = (int, float, bool)


class UnsafeSource(ValueError):
    """Source that is not of the shape symcost generates."""


def namespace(names: Iterable[str]) -> dict[str, Any]:
    """The globals for an evaluator that uses ``names``: those of them we provide, and empty builtins."""
    provided: dict[str, Any] = {"__builtins__": {}}
    for name in names:
        if name in _VALUES:
            provided[name] = _VALUES[name]
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
    tree = ast.parse(source, filename)
    _check_shape(tree)
    _check_nodes(tree, provided)
    exec(compile(tree, filename, "exec"), provided)  # noqa: S102 - checked above, and its digest is ours
    return provided[FUNCTION_NAME]


def _check_shape(tree: ast.Module) -> None:
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.FunctionDef) or tree.body[0].name != FUNCTION_NAME:
        raise UnsafeSource(f"expected one function named {FUNCTION_NAME}")
    function = tree.body[0]
    arguments = function.args
    if function.decorator_list or function.returns or arguments.vararg or arguments.kwarg or \
            arguments.kwonlyargs or arguments.posonlyargs or arguments.defaults:
        raise UnsafeSource("the function has decorators, annotations, defaults or variable arguments")
    if any(isinstance(statement, ast.Return) for statement in function.body[:-1]) or \
            not isinstance(function.body[-1], ast.Return):
        raise UnsafeSource("the function must end in its only return")


def _check_nodes(tree: ast.Module, provided: dict[str, Any]) -> None:
    local = {argument.arg for argument in tree.body[0].args.args}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            if not _is_ufunc_reduce(node, provided):
                raise UnsafeSource(f"attribute access .{node.attr} at line {node.lineno}")
            continue
        if not isinstance(node, _NODES):
            raise UnsafeSource(f"{type(node).__name__} at line {getattr(node, 'lineno', '?')}")
        if isinstance(node, ast.Constant) and type(node.value) not in _CONSTANTS:
            raise UnsafeSource(f"constant {type(node.value).__name__} at line {node.lineno}")
        if isinstance(node, ast.Assign) and not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise UnsafeSource(f"assignment to something other than one name at line {node.lineno}")
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Attribute) or
                                               (isinstance(node.func, ast.Name) and callable(provided.get(node.func.id)))):
            raise UnsafeSource(f"call of something the namespace does not provide at line {node.lineno}")
        for name in _names_in(node):
            if name.startswith("__"):
                raise UnsafeSource(f"dunder name {name}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            if node.id in provided:
                raise UnsafeSource(f"assignment to the provided name {node.id} at line {node.lineno}")
            local.add(node.id)
    _check_loads(tree, local, provided)


def _check_loads(tree: ast.Module, local: set[str], provided: dict[str, Any]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in local and node.id not in provided:
            raise UnsafeSource(f"unknown name {node.id} at line {node.lineno}")


def _is_ufunc_reduce(node: ast.Attribute, provided: dict[str, Any]) -> bool:
    """``logical_and.reduce``: the one attribute SymPy prints (And of three or more conditions)."""
    return (node.attr == "reduce" and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name)
            and isinstance(provided.get(node.value.id), np.ufunc))


def _names_in(node: ast.AST) -> tuple[str, ...]:
    if isinstance(node, ast.Name):
        return (node.id,)
    if isinstance(node, ast.arg):
        return (node.arg,)
    if isinstance(node, ast.keyword):
        return (node.arg or "__unpacked__",)  # **mapping has no name: refused with the dunders
    if isinstance(node, ast.FunctionDef):
        return (node.name,)
    return ()
