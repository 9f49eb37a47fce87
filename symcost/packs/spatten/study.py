"""One SpAtten study: the model, its Monte Carlo, its exact expected values and the P/R sweep."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import SpattenConfig, SweepAxis
from .expectation import Moments, exact_metrics
from .model import LayerModel, build_layer_model
from .montecarlo import MonteCarloResult, run_monte_carlo

SPEEDUP = "net_speedup_percent"  # the pack's figure the seed calls the net performance improvement


@dataclass(frozen=True)
class Sweep:
    """Expected net speedup (%) on a grid: ``speedup[i, j]`` at ``recalls[i]``, ``precisions[j]``."""

    precisions: np.ndarray
    recalls: np.ndarray
    speedup: np.ndarray


@dataclass(frozen=True)
class Study:
    model: LayerModel
    montecarlo: MonteCarloResult
    exact: Moments
    sweep: Sweep

    @property
    def expected_speedup(self) -> float:
        """The net speedup of the expected cycles (the pack's formula on the exact means)."""
        return float(self.model.series(self.exact.mean)[SPEEDUP])

    def montecarlo_gaps(self) -> dict[str, float]:
        """How far each Monte Carlo mean lies from its exact expectation, in exact standard errors of the mean.

        A metric without spread (standard deviation 0) must match to rounding: 0 if it does, inf if not.
        """
        gaps = {}
        for key, expected in self.exact.mean.items():
            gap = abs(self.montecarlo.mean(key) - float(expected))
            error = float(self.exact.std[key]) / np.sqrt(self.montecarlo.trials)
            gaps[key] = gap / error if error > 0 else (0.0 if gap <= 1e-9 * max(1.0, abs(float(expected))) else np.inf)
        return gaps

    @property
    def montecarlo_speedup(self) -> float:
        """The seed's "net performance improvement": of the mean cycles, not the mean of per-trial speedups."""
        means = {key: self.montecarlo.mean(key) for key in self.montecarlo.metrics}
        return float(self.model.series(means)[SPEEDUP])


def run_study(config: SpattenConfig, trials: int | None = None, seed: int | None = None) -> Study:
    model = build_layer_model(config)
    montecarlo = run_monte_carlo(
        model, config.trials if trials is None else trials, config.seed if seed is None else seed
    )
    return Study(
        model,
        montecarlo,
        exact_metrics(model),
        precision_recall_sweep(model, config.precision_axis, config.recall_axis),
    )


def precision_recall_sweep(model: LayerModel, precision_axis: SweepAxis, recall_axis: SweepAxis) -> Sweep:
    """Expected net speedup over the whole grid in one vectorised evaluation."""
    precisions = np.linspace(precision_axis.start, precision_axis.stop, precision_axis.points)
    recalls = np.linspace(recall_axis.start, recall_axis.stop, recall_axis.points)
    grid_precision, grid_recall = np.meshgrid(precisions, recalls)
    expected = exact_metrics(model, grid_precision, grid_recall).mean
    return Sweep(precisions, recalls, model.series(expected, P=grid_precision, R=grid_recall)[SPEEDUP])
