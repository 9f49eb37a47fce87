"""Compiling closed forms into one vectorised numpy evaluator.

All outputs are lambdified together with common-subexpression elimination,
so shared sub-terms are computed once. Inputs are forced to float64 (integer
arrays would overflow silently in polynomial terms) and every output is
broadcast to the common input shape (a constant output would otherwise come
back as a Python scalar).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # SymPy is imported by compiling, not by running an evaluator loaded from the cache
    import numpy as np  # and numpy by running one (a few points run without it: symcost.evaluator_points)
    import sympy as sp


@dataclass(frozen=True)
class Evaluator:
    """``evaluator(**inputs)`` -> {output name: float64 array}."""

    inputs: tuple[sp.Symbol, ...]
    names: tuple[str, ...]
    function: Callable[..., Sequence]

    def source(self) -> str:
        """The generated Python source of the evaluator (numpy calls only)."""
        return inspect.getsource(self.function)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(symbol.name for symbol in self.inputs)

    def __call__(self, **values) -> dict[str, np.ndarray]:
        import numpy as np

        missing = [name for name in self.input_names if name not in values]
        if missing:
            raise KeyError(f"missing evaluator inputs: {', '.join(missing)}")
        # Broadcast views, not just a common shape: printed And/Or reduce over a tuple of arrays,
        # which numpy refuses when their shapes differ.
        arrays = np.broadcast_arrays(*(np.asarray(values[name], dtype=np.float64) for name in self.input_names))
        shape = arrays[0].shape if arrays else ()
        with np.errstate(divide="ignore", invalid="ignore"):
            results = self.function(*arrays)
        handed_out: list[np.ndarray] = list(arrays)
        return {name: _own_array(result, shape, handed_out) for name, result in zip(self.names, results)}


def _own_array(result, shape: tuple[int, ...], handed_out: list[np.ndarray]) -> np.ndarray:
    """``result`` as a float64 array of ``shape`` that no other output or input shares.

    A fresh array from the generated function is used as it is; a constant, a
    broadcast or an array already handed out (two outputs with one value) is copied.
    """
    import numpy as np

    array = np.asarray(result, dtype=np.float64)
    if not (array.shape == shape and array.flags.owndata and not any(array is given for given in handed_out)):
        array = np.broadcast_to(array, shape).copy()
    handed_out.append(array)
    return array


def compile_outputs(
    outputs: Mapping[str, sp.Expr], inputs: Sequence[sp.Symbol], definitions: Sequence[tuple[sp.Symbol, sp.Expr]] = ()
) -> Evaluator:
    """One numpy function returning every output, over the given input symbols.

    ``definitions`` are intermediate quantities, evaluated in order before the
    outputs (which may refer to them by symbol).
    """
    import sympy as sp

    float64 = sp.Function("float64")
    names = tuple(outputs)
    definitions, constants = _fold_constant_definitions(definitions)
    expressions = [sp.sympify(outputs[name]).xreplace(constants) for name in names]
    definitions, expressions = _inline_single_uses(definitions, expressions)
    known = set(inputs) | {symbol for symbol, _ in definitions}
    stray = (
        set().union(
            *(expression.free_symbols for expression in expressions),
            *(expression.free_symbols for _, expression in definitions),
        )
        - known
    )
    if stray:
        raise ValueError(f"outputs depend on symbols that are not inputs: {', '.join(sorted(map(str, stray)))}")

    def eliminate_common_subexpressions(exprs):
        # Definitions first, each with its own sub-expressions, then the outputs.
        steps = []
        for index, (symbol, expression) in enumerate(definitions):
            replacements, (reduced,) = sp.cse([expression], symbols=sp.numbered_symbols(f"_d{index}_", real=True))
            # A definition that is still a number (not finite, so not folded) would be a Python
            # float, whose arithmetic raises where numpy's gives inf or nan: keep it a numpy float.
            steps += replacements + [(symbol, float64(reduced) if reduced.is_number else reduced)]
        replacements, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_o", real=True))
        return steps + replacements, reduced

    function = sp.lambdify(
        list(inputs),
        expressions,
        modules=numpy_modules(),
        printer=_numpy_printer(),
        cse=eliminate_common_subexpressions,
    )
    return Evaluator(tuple(inputs), names, function)


def _numpy_printer():
    """lambdify's NumPy printer, but a true/false choice is printed as logic (:func:`_logic_printer_class`),
    with the settings lambdify gives the printer it makes for :func:`numpy_modules`: short names, and the
    extra names of the modules' first entry printed as themselves."""
    extra_names, _ = numpy_modules()
    return _logic_printer_class()(
        {
            "fully_qualified_modules": False,
            "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {name: name for name in extra_names},
        }
    )


@functools.cache
def _logic_printer_class():
    """SymPy prints a Piecewise (and an ITE, through it) as ``select(..., default=nan)``: for true/false values
    that is an array of floats, which numpy refuses as a condition of the enclosing ``select``. Such a choice
    arises where a step sum's crossover condition depends on another one (found by the oracle's property test).
    """
    import sympy as sp
    from sympy.printing.numpy import NumPyPrinter

    truth_values = (sp.logic.boolalg.BooleanFunction, sp.logic.boolalg.BooleanAtom, sp.core.relational.Relational)

    def as_logic(pairs) -> sp.Basic:
        earlier, terms = [], []
        for value, condition in pairs:
            terms.append(sp.And(condition, value, *(sp.Not(before) for before in earlier)))
            earlier.append(condition)
        return sp.Or(*terms)

    class LogicPrinter(NumPyPrinter):
        def _print_Piecewise(self, expr):
            # Relationals and true/false only: a Symbol is a Boolean to SymPy too, and stands for a number here.
            if all(isinstance(value, truth_values) for value, _ in expr.args):
                return self._print(as_logic(expr.args))
            return super()._print_Piecewise(expr)

        def _print_ITE(self, expr):
            condition, then, otherwise = expr.args
            return self._print(as_logic([(then, condition), (otherwise, sp.true)]))

    return LogicPrinter


def numpy_modules() -> list:
    """lambdify's ``modules`` for numpy code: SymPy's NumPy printer and numpy's names.

    numpy as the module object, not the string "numpy": for the string SymPy runs ``from numpy import *``,
    which loads every submodule numpy imports lazily (0.1 s of a cold command); the module gives the same
    printer, so the same source, and the same functions.
    """
    import numpy as np

    return [{"float64": np.float64}, np]


def _fold_constant_definitions(definitions: Sequence[tuple[sp.Symbol, sp.Expr]]):
    """Definitions whose value is a number, substituted into the later ones and dropped.

    The evaluator then computes no array for a constant (a zero leakage power
    times the burst latency vanishes), at one cost: SymPy folds ``0 * x`` to
    0 where numpy would give nan for an infinite ``x``.
    """
    import sympy as sp

    constants: dict[sp.Symbol, sp.Expr] = {}
    remaining = []
    for symbol, expression in definitions:
        value = sp.sympify(expression).xreplace(constants)
        if value.is_number and value.is_finite:
            constants[symbol] = value
        else:
            remaining.append((symbol, value))
    return remaining, constants


def _inline_single_uses(definitions: Sequence[tuple[sp.Symbol, sp.Expr]], expressions: list[sp.Expr]):
    """Definitions used by exactly one later definition or output, substituted into it.

    A chain such as energy_per_token = burst_energy / E[a+1] with burst_energy =
    dynamic_energy then becomes one expression, in which SymPy merges the
    numeric factors: fewer array operations, nothing computed twice.
    """
    pending = [(symbol, expression, expression.free_symbols) for symbol, expression in definitions]
    outputs = [(expression, expression.free_symbols) for expression in expressions]
    kept = []
    while pending:
        symbol, expression, _ = pending.pop(0)
        users = [("definition", index) for index, (_, _, free) in enumerate(pending) if symbol in free]
        users += [("output", index) for index, (_, free) in enumerate(outputs) if symbol in free]
        if len(users) != 1:
            kept.append((symbol, expression))
            continue
        kind, index = users[0]
        if kind == "definition":
            target, body, free = pending[index]
            body = body.xreplace({symbol: expression})
            pending[index] = (target, body, (free - {symbol}) | expression.free_symbols)
        else:
            body, free = outputs[index]
            body = body.xreplace({symbol: expression})
            outputs[index] = (body, (free - {symbol}) | expression.free_symbols)
    return kept, [body for body, _ in outputs]
