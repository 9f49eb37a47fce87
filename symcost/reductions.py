"""A pack's reductions: per-element outputs reduced over the elements of a series.

A pack without an index may declare ``reductions`` (see
docs/formula-language.md): an output of one element of a series (one layer's
cycles) summed or averaged over the elements (the layers); quantities that
use a reduction are figures of the whole series (a net speedup from two total
cycle counts). The pack does not say what the elements are: an engine that
knows them (the SpAtten layer chain) evaluates the per-element outputs with
the elements on the last axis, and this module

* reduces them as the pack declares (:func:`reduce_elements`);
* gives the variance of each reduction when the elements are independent
  (:func:`reduced_variances`: variances add; a mean divides by the count squared);

and :meth:`symcost.chain.Chain.compile_series` compiles the series quantities
over the reductions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .pack import FormulaPack

_REDUCE = {"sum": np.sum, "mean": np.mean}


def reduce_elements(pack: FormulaPack, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every reduction of ``pack`` from per-element outputs (last axis: the elements)."""
    return {reduction.name: _REDUCE[reduction.reduce](values[reduction.of], axis=-1) for reduction in pack.reductions}


def reduced_variances(pack: FormulaPack, variances: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Variance of every reduction from the per-element variances of independent elements (last axis)."""
    found = {}
    for reduction in pack.reductions:
        per_element = np.asarray(variances[reduction.of])
        scale = 1.0 if reduction.reduce == "sum" else 1.0 / per_element.shape[-1] ** 2
        found[reduction.name] = np.sum(per_element, axis=-1) * scale
    return found
