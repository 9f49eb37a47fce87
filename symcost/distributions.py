"""Distributions read as tables, and expectations over them.

A pack declares an **outcome** symbol (``source: outcome``: a value a random
event takes, e.g. the accepted-prefix length ``a``) and a **table** symbol
over it (``table: a``), bound to a mapping in the inputs from outcome to
weight (a histogram of counts or of probabilities). The binder turns the
mapping into a :class:`Table`: exact outcomes and probabilities, the weights
divided by their sum.

``expected(T, x)`` in a formula is the expectation of ``x`` over table
``T``'s outcome: the sum over T's entries of probability times ``x`` with
the outcome set to the entry's value. It stays unevaluated (a symbolic
function of ``T``) until T's value is substituted; its dimension is that of
``x``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import sympy as sp

from .size_limits import MAX_TABLE_ENTRIES, check_size

_NUMBER_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class TableError(ValueError):
    """A mapping that is not a distribution (the message says which entry and why)."""


class Table(sp.Basic):
    """A finite distribution over ``outcome``: (value, probability) pairs by ascending value, summing to one."""

    def __new__(cls, outcome: sp.Symbol, pairs: Mapping[sp.Rational, sp.Rational]):
        entries = sp.Tuple(*(sp.Tuple(value, pairs[value]) for value in sorted(pairs)))
        return super().__new__(cls, outcome, entries)

    @property
    def outcome(self) -> sp.Symbol:
        return self.args[0]

    @property
    def entries(self) -> tuple[tuple[sp.Rational, sp.Rational], ...]:
        return tuple((value, probability) for value, probability in self.args[1])

    def probability(self, value: int | sp.Rational) -> sp.Rational:
        """P(outcome = value): 0 for a value the table does not list."""
        return next((probability for known, probability in self.entries if known == value), sp.Integer(0))

    def _latex(self, printer) -> str:
        cells = ", ".join(
            f"{printer._print(value)}: {printer._print(probability)}" for value, probability in self.entries
        )
        return rf"P\left({printer._print(self.outcome)}\right) = \left\{{{cells}\right\}}"

    def _sympystr(self, printer) -> str:
        cells = ", ".join(
            f"{printer._print(value)}: {printer._print(probability)}" for value, probability in self.entries
        )
        return f"P({printer._print(self.outcome)}) = {{{cells}}}"


class expected(sp.Function):  # noqa: N801 - the name users write
    """``expected(T, x)``: the expectation of ``x`` over table ``T`` (evaluated once T is a :class:`Table`)."""

    nargs = 2
    dimension_argument = 1  # the dimension of the expectation is that of x

    @classmethod
    def eval(cls, table, expression):
        if isinstance(table, Table):
            return sp.Add(
                *(probability * expression.xreplace({table.outcome: value}) for value, probability in table.entries)
            )
        return None

    def _latex(self, printer) -> str:
        table, expression = self.args
        return rf"\mathbb{{E}}_{{{printer._print(table)}}}\left[{printer._print(expression)}\right]"


DISTRIBUTION_FUNCTIONS = {"expected": expected}


def table_from_mapping(outcome: sp.Symbol, mapping: Mapping[Any, Any]) -> Table:
    """A :class:`Table` from outcome -> weight (outcomes as numbers or numeric keys such as ``"3"``; weights
    non-negative and finite, not all zero), with exact values and probabilities."""
    check_size("entries of a table", len(mapping), MAX_TABLE_ENTRIES)
    weights: dict[sp.Rational, sp.Rational] = {}
    for key, weight in mapping.items():
        value = _exact_outcome(key)
        if value in weights:
            raise TableError(f"outcome {key!r} is given twice")
        weights[value] = _exact_weight(key, weight)
    total = sum(weights.values(), sp.Integer(0))
    if total <= 0:
        raise TableError("expected at least one positive weight, got all zero")
    return Table(outcome, {value: weight / total for value, weight in weights.items()})


def _exact_outcome(key: Any) -> sp.Rational:
    if (
        isinstance(key, bool)
        or not isinstance(key, (int, str))
        or (isinstance(key, str) and not _NUMBER_TEXT.match(key))
    ):
        raise TableError(f"expected outcomes such as 0 or '3', got {key!r}")
    exact = Fraction(key)  # a checked numeric text or an int: no expression is parsed
    return sp.Rational(exact.numerator, exact.denominator)


def _exact_weight(key: Any, weight: Any) -> sp.Rational:
    """The weight as the exact decimal written (0.1 is 1/10)."""
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight) or weight < 0:
        raise TableError(f"outcome {key!r}: expected a non-negative finite weight, got {weight!r}")
    exact = Fraction(repr(weight)) if isinstance(weight, float) else Fraction(weight)
    return sp.Rational(exact.numerator, exact.denominator)
