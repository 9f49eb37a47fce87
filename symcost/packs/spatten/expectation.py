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
over a grid of points (of P, R or any coefficient), in chunks that bound the
memory used. :func:`expected_expression` gives the same sum as one SymPy
expression, for break-even solving and sensitivities.
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ...reductions import reduce_elements, reduced_variances
from .model import LayerModel

CHUNK_POINTS = 200_000  # grid points x support points evaluated at once
PMF_DIGITS = 30  # digits of an outcome's probability in a closed form (evaluation is float64)


@dataclass(frozen=True)
class _Support:
    """Every layer's outcomes tp = 0..K_l, laid end to end, with log C(K_l, tp)."""

    tokens: np.ndarray
    kept: np.ndarray
    tp: np.ndarray
    log_binomial: np.ndarray
    starts: np.ndarray

    @classmethod
    def of(cls, model: LayerModel) -> _Support:
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


def layer_moments(model: LayerModel, **inputs) -> Moments:
    """Mean and standard deviation of every per-layer output, shape ``grid + (layers,)``: ``inputs`` (bound
    symbols by name: ``P``, ``R``, ``BW``...) replace the configuration's values and broadcast to the grid."""
    values = {"P": model.precision, "R": model.recall, **inputs}
    arrays = np.broadcast_arrays(*(np.asarray(value, dtype=np.float64) for value in values.values()))
    grid_shape = arrays[0].shape + (model.kept.size,)
    columns = {name: array.reshape(-1, 1) for name, array in zip(values, arrays)}
    support = _Support.of(model)
    sizes = np.diff(np.append(support.starts, support.tp.size))
    chunk = max(1, CHUNK_POINTS // support.tp.size)
    means: dict[str, list[np.ndarray]] = {}
    variances: dict[str, list[np.ndarray]] = {}
    for start in range(0, columns["R"].shape[0], chunk):
        rows = {name: column[start : start + chunk] for name, column in columns.items()}
        weights = support.probabilities(rows["R"])
        outputs = model.evaluate(support.tp, tokens=support.tokens, kept=support.kept, **rows)
        # The probabilities sum to 1 up to rounding: divide by their sum all the same.
        total = np.add.reduceat(weights, support.starts, axis=-1)
        modes = support.most_likely(rows["R"])
        for name, value in outputs.items():
            # Moments of the value less its value at the most likely outcome: exact for a constant
            # output and for a certain outcome (R = 1), and no cancellation of large squares.
            reference = np.take_along_axis(value, modes, axis=-1)
            shifted = value - np.repeat(reference, sizes, axis=-1)
            shift = np.add.reduceat(shifted * weights, support.starts, axis=-1) / total
            deviation = shifted - np.repeat(shift, sizes, axis=-1)
            means.setdefault(name, []).append(reference + shift)
            variances.setdefault(name, []).append(
                np.add.reduceat(deviation**2 * weights, support.starts, axis=-1) / total
            )
    return Moments(
        {name: np.concatenate(parts).reshape(grid_shape) for name, parts in means.items()},
        {name: np.sqrt(np.concatenate(parts).reshape(grid_shape)) for name, parts in variances.items()},
    )


def exact_metrics(model: LayerModel, precision=None, recall=None, **inputs) -> Moments:
    """Exact mean and standard deviation of every trial metric (the pack's reductions over the layers).

    The configuration's P and R by default; arrays of P and R (and of other bound symbols, by name) give a grid.
    """
    given = {name: value for name, value in (("P", precision), ("R", recall)) if value is not None}
    per_layer = layer_moments(model, **given, **inputs)
    variances = reduced_variances(model.pack, {name: std**2 for name, std in per_layer.std.items()})
    return Moments(
        reduce_elements(model.pack, per_layer.mean), {key: np.sqrt(value) for key, value in variances.items()}
    )


class binomial_pmf(sp.Function):  # noqa: N801 - a SymPy function, named as such functions are
    """``P(t = k)`` for ``t ~ Binomial(n, p)``: ``C(n, k) p^k (1 - p)^(n - k)``, a number once its arguments
    are, and kept whole while ``p`` is a symbol (expanding ``(1 - p)^(n - k)`` over hundreds of outcomes
    would swamp every later step); its derivative in ``p`` is ``n (P_{n-1}(k - 1) - P_{n-1}(k))``."""

    nargs = 3

    @classmethod
    def eval(cls, k, n, p):
        if not (k.is_Integer and n.is_Integer):
            return None
        if k < 0 or k > n:
            return sp.Integer(0)
        if p.is_number:
            with mpmath.workdps(PMF_DIGITS):
                value = mpmath.binomial(int(n), int(k)) * mpmath.mpf(p) ** int(k) * (1 - mpmath.mpf(p)) ** int(n - k)
            return sp.Float(value, PMF_DIGITS)
        return None

    def fdiff(self, argindex=3):
        if argindex != 3:
            raise sp.ArgumentIndexError(self, argindex)
        k, n, p = self.args
        return n * (binomial_pmf(k - 1, n - 1, p) - binomial_pmf(k, n - 1, p))


def expected_expression(model: LayerModel, name: str, values: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """The exact expected value of a reduction, or a network figure of the expected reductions (the net
    speedup), as one expression: per layer, the part of the per-layer output that ``tp`` does not drive,
    plus the sum over the layer's outcomes of their Binomial(K, R) probability times the part it drives.
    Symbolic in P, R and every coefficient not in ``values``; the layers' token counts are numbers.

    The outcomes' terms are built unevaluated, only their parts without symbols folded to numbers (SymPy
    would compare every Max of symbols, for minutes); fixing a point (:func:`symcost.pieces.localise`) or
    substituting numbers evaluates the rest."""
    reductions = {reduction.name: reduction for reduction in model.pack.reductions}
    if name in reductions:
        return _expected_reduction(model, reductions[name], values)
    expression = model.compiled.expressions[name].xreplace(values)
    return expression.xreplace(
        {
            reduction.symbol: _expected_reduction(model, reduction, values)
            for reduction in reductions.values()
            if reduction.symbol in expression.free_symbols
        }
    )


def _expected_reduction(model: LayerModel, reduction, values: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    N, K, tp, R = (model.pack.symbol(name) for name in ("N", "K", "tp", "R"))
    per_layer = model.compiled.expressions[reduction.of]
    recall = values.get(R, R)
    parts = []
    for tokens, kept in zip(model.tokens.astype(int), model.kept.astype(int)):
        value = _folded(per_layer, {**values, N: sp.Integer(tokens), K: sp.Integer(kept)})
        fixed, driven = value.as_independent(tp, as_Add=True)
        parts.append(fixed)
        if driven != 0:
            weights = [binomial_pmf(t, kept, recall) for t in range(kept + 1)]  # numbers where R is one
            with sp.evaluate(False):
                parts += [weight * _folded(driven, {tp: sp.Integer(t)}) for t, weight in enumerate(weights)]
    with sp.evaluate(False):
        total = sp.Add(*parts)
        return total / len(model.tokens) if reduction.reduce == "mean" else total


def _folded(expression: sp.Expr, values: dict[sp.Symbol, sp.Expr]) -> sp.Expr:
    """``expression`` with ``values`` substituted: every part left without symbols evaluated (a number, or a
    truth value), every other part rebuilt unevaluated."""
    if expression in values:
        return values[expression]
    if not expression.args:
        return expression
    if not expression.free_symbols - values.keys():
        with sp.evaluate(True):  # also inside an unevaluated parent: SymPy misreads unevaluated numbers (-1*3)
            return expression.xreplace(values).doit()
    arguments = [_folded(argument, values) for argument in expression.args]
    with sp.evaluate(False):
        return expression.func(*arguments)
