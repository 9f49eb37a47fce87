"""Seeded Monte Carlo of the SpAtten lookahead on the compiled evaluator.

Each trial draws every layer's true positives, ``tp_l ~ Binomial(K_l, R)``,
and evaluates all layers of all trials in one vectorised evaluator call (in
chunks of trials that bound the memory used). Draws come from numpy's legacy
``RandomState``: its stream is frozen by numpy's compatibility policy, and
drawing trial by trial, layer by layer, it gives the seed's own simulator's
trials for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...reductions import reduce_elements
from .model import LayerModel

CHUNK_TRIALS = 20_000


@dataclass(frozen=True)
class MonteCarloResult:
    """Per-trial metrics (the pack's reductions: arrays of one value per trial) and the last trial's
    per-layer outputs."""

    trials: int
    seed: int
    metrics: dict[str, np.ndarray]
    last_trial: dict[str, np.ndarray]

    def mean(self, key: str) -> float:
        return float(np.mean(self.metrics[key]))

    def std(self, key: str) -> float:
        """Spread of the trials (population standard deviation, as the seed prints it)."""
        return float(np.std(self.metrics[key]))


def run_monte_carlo(model: LayerModel, trials: int, seed: int) -> MonteCarloResult:
    """``trials`` trials of the configuration's predictor, drawn from ``RandomState(seed)``."""
    if trials < 1:
        raise ValueError(f"expected at least one trial, got {trials}")
    generator = np.random.RandomState(seed)
    kept = model.kept.astype(np.int64)
    pieces: dict[str, list[np.ndarray]] = {}
    for start in range(0, trials, CHUNK_TRIALS):
        count = min(CHUNK_TRIALS, trials - start)
        layer_values = model.evaluate(generator.binomial(kept, model.recall, size=(count, kept.size)))
        for key, values in reduce_elements(model.pack, layer_values).items():
            pieces.setdefault(key, []).append(values)
    last_trial = {name: values[-1] for name, values in layer_values.items()}
    return MonteCarloResult(trials, seed, {key: np.concatenate(parts) for key, parts in pieces.items()}, last_trial)
