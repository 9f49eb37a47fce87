"""Exact expected values over the predictor's outcomes (the closed form).

The only random input is each layer's true-positive count,
``tp_l ~ Binomial(K_l, R)``, independent between layers, and every metric is
a sum or a mean over the layers of a per-layer output ``x_l(tp_l)`` of the
pack. So

    E[metric] = reduce over l of  sum_{t=0}^{K_l} C(K_l, t) R^t (1 - R)^(K_l - t) x_l(t),

a finite sum: exact, and symbolic in P, R and every coefficient of the pack
(a linear ``x_l`` reduces it to ``x_l(R K_l)``; rounding, Max, Min and the
saturation penalty are why the sum is kept in general). It is evaluated with
the compiled evaluator over every layer's whole support at once, vectorised
over a grid of (P, R) points, in chunks that bound the memory used.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...reductions import reduce_elements, reduced_variances
from .model import LayerModel

CHUNK_POINTS = 200_000  # grid points x support points evaluated at once


@dataclass(frozen=True)
class _Support:
    """Every layer's outcomes tp = 0..K_l, laid end to end, with log C(K_l, tp)."""

    tokens: np.ndarray
    kept: np.ndarray
    tp: np.ndarray
    log_binomial: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, model: LayerModel) -> "_Support":
        sizes = model.kept.astype(np.int64) + 1
        tp = np.concatenate([np.arange(size, dtype=np.float64) for size in sizes])
        kept = np.repeat(model.kept, sizes)
        # log C(K, t) = sum_{j=1}^{t} log((K - j + 1) / j), a running sum restarted at every layer.
        steps = np.where(tp > 0, np.log(np.maximum(kept - tp + 1, 1)) - np.log(np.maximum(tp, 1)), 0.0)
        running = np.cumsum(steps)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        log_binomial = running - np.repeat(running[starts], sizes)
        return cls(np.repeat(model.tokens, sizes), kept, tp, log_binomial, starts)

    def most_likely(self, recall: np.ndarray) -> np.ndarray:
        """Index (into the support) of each layer's most likely outcome, floor((K + 1) R) capped at K: (g, layers)."""
        kept = self.kept[self.starts]
        return (self.starts + np.minimum(np.floor((kept + 1) * recall), kept)).astype(np.int64)

    def probabilities(self, recall: np.ndarray) -> np.ndarray:
        """Binomial(K_l, R) probability of every outcome, for recalls of shape (g, 1) -> (g, S)."""
        misses = self.kept - self.tp
        with np.errstate(divide="ignore", invalid="ignore"):
            # R = 1: every outcome but tp = K has probability 0 (log 0 = -inf), and 0 * log 0 is 0.
            miss_term = np.where(misses > 0, misses * np.log1p(-recall), 0.0)
        return np.exp(self.log_binomial + self.tp * np.log(recall) + miss_term)


@dataclass(frozen=True)
class Moments:
    """Exact mean and standard deviation of each output (per layer, or of a trial metric)."""

    mean: dict[str, np.ndarray]
    std: dict[str, np.ndarray]


def layer_moments(model: LayerModel, precision, recall) -> Moments:
    """Mean and standard deviation of every per-layer output, shape ``broadcast(precision, recall).shape + (layers,)``."""
    precision, recall = np.broadcast_arrays(np.asarray(precision, dtype=np.float64), np.asarray(recall, dtype=np.float64))
    grid_shape = precision.shape + (model.kept.size,)
    precision, recall = precision.reshape(-1, 1), recall.reshape(-1, 1)
    support = _Support.of(model)
    sizes = np.diff(np.append(support.starts, support.tp.size))
    chunk = max(1, CHUNK_POINTS // support.tp.size)
    means: dict[str, list[np.ndarray]] = {}
    variances: dict[str, list[np.ndarray]] = {}
    for start in range(0, precision.shape[0], chunk):
        rows = slice(start, start + chunk)
        weights = support.probabilities(recall[rows])
        values = model.evaluate(support.tp, tokens=support.tokens, kept=support.kept, P=precision[rows])
        # The probabilities sum to 1 up to rounding: divide by their sum all the same.
        total = np.add.reduceat(weights, support.starts, axis=-1)
        modes = support.most_likely(recall[rows])
        for name, value in values.items():
            # Moments of the value less its value at the most likely outcome: exact for a constant
            # output and for a certain outcome (R = 1), and no cancellation of large squares.
            reference = np.take_along_axis(value, modes, axis=-1)
            shifted = value - np.repeat(reference, sizes, axis=-1)
            shift = np.add.reduceat(shifted * weights, support.starts, axis=-1) / total
            deviation = shifted - np.repeat(shift, sizes, axis=-1)
            means.setdefault(name, []).append(reference + shift)
            variances.setdefault(name, []).append(np.add.reduceat(deviation ** 2 * weights, support.starts, axis=-1) / total)
    return Moments({name: np.concatenate(parts).reshape(grid_shape) for name, parts in means.items()},
                   {name: np.sqrt(np.concatenate(parts).reshape(grid_shape)) for name, parts in variances.items()})


def exact_metrics(model: LayerModel, precision=None, recall=None) -> Moments:
    """Exact mean and standard deviation of every trial metric (the pack's reductions over the layers).

    The configuration's P and R by default; arrays of P and R give a grid.
    """
    precision = model.precision if precision is None else precision
    recall = model.recall if recall is None else recall
    per_layer = layer_moments(model, precision, recall)
    variances = reduced_variances(model.pack, {name: std ** 2 for name, std in per_layer.std.items()})
    return Moments(reduce_elements(model.pack, per_layer.mean), {key: np.sqrt(value) for key, value in variances.items()})
