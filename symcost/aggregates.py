"""Engine functions that formula packs may call, and the aggregates they name.

They are SymPy function classes left unevaluated by the parser; the
accounting stage replaces them:

* ``sum_steps(x)``: the closed-form sum of ``x`` over the step index, across
  the phase of the term (or ``sum_steps(x, lo, hi)`` over ``[lo, hi)``);
* ``at_step(x, n)``: ``x`` with the step index set to ``n``;
* ``layer_max(x)``: the largest value of the per-layer expression ``x`` over
  the model's layer groups.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp


class _EngineFunction(sp.Function):
    """An aggregate whose dimension is that of its first argument."""

    passes_dimension = True


# Bounds from the arguments' (symcost.bounds), which hold for the step index's declared range (steps from 0):
# so only where every step index the aggregate reaches is 0 or more.
class sum_steps(_EngineFunction):  # noqa: N801 - the name users write
    nargs = (1, 3)

    @classmethod
    def bounds_from_arguments(cls, intervals):
        """A sum over steps of a summand that never changes sign keeps that sign (an empty sum is 0)."""
        (low, high), *limits = intervals
        if limits and limits[0][0] < 0:
            return None
        return (Fraction(0), math.inf) if low >= 0 else (-math.inf, Fraction(0)) if high <= 0 else None


class at_step(_EngineFunction):  # noqa: N801
    nargs = 2

    @classmethod
    def bounds_from_arguments(cls, intervals):
        """The summand's value at one step is within its bounds over all steps."""
        return intervals[0] if intervals[1][0] >= 0 else None


class layer_max(_EngineFunction):  # noqa: N801
    nargs = 1

    @classmethod
    def bounds_from_arguments(cls, intervals):
        """The largest of the per-layer values is one of them."""
        return intervals[0]


ENGINE_FUNCTIONS = {"sum_steps": sum_steps, "at_step": at_step, "layer_max": layer_max}
AGGREGATE_KINDS = ("total", "step", "layer")  # phase total, per-step value, per-layer value
AGGREGATE_QUANTITIES = {"energy": "J", "latency": "s"}


def aggregate_name(kind: str, quantity: str, phase: str) -> str:
    """Name of the engine-provided symbol, e.g. ``total_latency_draft``."""
    return f"{kind}_{quantity}_{phase}"
