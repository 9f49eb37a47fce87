"""The draft length K that maximises throughput, and the one that maximises tokens per joule.

With a geometric acceptance model (each drafted token accepted with
probability alpha until the first rejection) the expected committed tokens
per burst, (1 - alpha^(K+1)) / (1 - alpha), and every cost are closed forms
in K. symcost evaluates the whole curve K = 0..K_max in one vectorised call
per (alpha, prompt length) and picks the best integer K on it (K is an
integer: the curve is exact, not sampled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import SymcostError
from .inputs import StatsSpec, read_stats
from .model import CostModel, build_model

OBJECTIVES = {"throughput": "speculative.throughput", "tokens_per_joule": "speculative.tokens_per_joule"}
CURVES = (*OBJECTIVES.values(), "speculative.energy_per_token", "speculative.latency_per_token")


@dataclass(frozen=True)
class KCurve:
    alpha: float
    L_prompt: float
    K: np.ndarray
    values: dict[str, np.ndarray]  # output name -> value per K
    best: dict[str, int]  # objective -> best integer K

    def as_json(self) -> dict:
        return {
            "alpha": self.alpha,
            "L_prompt": self.L_prompt,
            "K": self.K.astype(int).tolist(),
            "curve": {name.split(".", 1)[1]: values.tolist() for name, values in self.values.items()},
            "best_K": self.best,
        }


def optimize_k(
    model_path: str | Path,
    hardware_path: str | Path,
    stats_path: str | Path,
    prompt_lengths: Sequence[float],
    *,
    alphas: Sequence[float] = (),
    k_max: int = 32,
    library_path: list[str] | None = None,
) -> list[KCurve]:
    """One curve per (alpha, prompt length); alphas default to the stats file's geometric alpha."""
    stats = read_stats(stats_path)
    if not alphas:
        if stats.alpha is None:
            raise SymcostError(
                f"{Path(stats_path).name} holds a measured histogram for one K; optimising K needs "
                "a geometric acceptance model: give --alpha A (or a stats file with geometric.alpha)"
            )
        alphas = [stats.alpha]
    if any(not 0 < alpha < 1 for alpha in alphas):
        raise SymcostError(f"alpha must lie in (0, 1), got {', '.join(f'{alpha:g}' for alpha in alphas)}")
    if k_max < 1:
        raise SymcostError(f"--k-max must be at least 1, got {k_max}")
    geometric = stats_path if stats.alpha is not None else StatsSpec(k=stats.k, alpha=alphas[0], source=str(stats_path))
    model = build_model(
        model_path, hardware_path, geometric, library_path=library_path, only=CURVES, vary=["L_prompt", "K", "alpha"]
    )
    ks = np.arange(0, k_max + 1, dtype=np.float64)
    return [_curve(model, float(alpha), float(length), ks) for alpha in alphas for length in prompt_lengths]


def _curve(model: CostModel, alpha: float, length: float, ks: np.ndarray) -> KCurve:
    results = model.evaluate(L_prompt=length, K=ks, alpha=alpha)
    values = {name: results[name] for name in CURVES}
    best = {objective: int(ks[int(np.argmax(values[name]))]) for objective, name in OBJECTIVES.items()}
    return KCurve(alpha, length, ks, values, best)
