"""Best burst length K from measured acceptance: the reference's ``ppa-k-sweep``, on the compiled evaluator.

K and E[a+1] are inputs of symcost's evaluator, so every (prompt length,
candidate) pair is one point of a single vectorised evaluation. The measured
mean E[a] is all the cost model needs: a burst always runs its K draft and
K+1 verify steps, and the accepted prefix enters only through the committed
tokens E[a+1] (docs/parity.md, behaviour 5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timezone
from itertools import product
from typing import Any

import numpy as np

from ..inputs.stats import StatsSpec
from ..model import CostModel
from .acceptance import Candidate
from .layout import Outputs, metrics

RANKED_BY = (("best_throughput", "throughput_tokens_per_s"), ("best_tokens_per_joule", "tokens_per_joule"))


def two_point_histogram(candidate: Candidate) -> dict[int, float]:
    """The distribution over the two accepted-prefix lengths next to E[a] that has mean E[a].

    Only reported (the reference's ``synthetic_histogram``); the evaluation uses E[a+1].
    """
    lower = math.floor(candidate.mean_accepted)
    if lower == candidate.mean_accepted:
        return {lower: 1.0}
    upper_share = candidate.mean_accepted - lower
    return {lower: 1.0 - upper_share, lower + 1: upper_share}


def sweep_stats(candidates: Sequence[Candidate], source: str) -> StatsSpec:
    """Stats to build the model with; each evaluated point sets its own K and E[a+1]."""
    return StatsSpec(k=candidates[0].k, histogram=two_point_histogram(candidates[0]), source=source)


def evaluate_candidates(
    model: CostModel, candidates: Sequence[Candidate], lengths: Sequence[int]
) -> dict[str, np.ndarray]:
    """All outputs on the grid prompt length x candidate (prompt length varying slowest), in one call."""
    count = len(candidates)
    return model.evaluate(
        L_prompt=np.repeat(np.asarray(lengths, dtype=np.int64), count),
        K=np.tile(np.array([candidate.k for candidate in candidates], dtype=float), len(lengths)),
        E_commit=np.tile(np.array([candidate.committed for candidate in candidates]), len(lengths)),
    )


def _ratio(speculative: float, baseline: float) -> float | None:
    return speculative / baseline if baseline > 0 else None


def sweep_points(model: CostModel, candidates: Sequence[Candidate], lengths: Sequence[int]) -> list[dict[str, Any]]:
    results = evaluate_candidates(model, candidates, lengths)
    points = []
    for index, (length, candidate) in enumerate(product(lengths, candidates)):
        point = Outputs(results, index)
        speculative, baseline = metrics(point, "speculative"), metrics(point, "baseline")
        points.append(
            {
                "l_prompt": int(length),
                "k": candidate.k,
                "expected_accepted_tokens": candidate.mean_accepted,
                "expected_committed_tokens": candidate.committed,
                "synthetic_histogram": {str(a): p for a, p in two_point_histogram(candidate).items()},
                "speculative": speculative,
                "baseline": baseline,
                "throughput_speedup_vs_baseline": _ratio(
                    speculative["throughput_tokens_per_s"], baseline["throughput_tokens_per_s"]
                ),
                "tokens_per_joule_speedup_vs_baseline": _ratio(
                    speculative["tokens_per_joule"], baseline["tokens_per_joule"]
                ),
            }
        )
    return points


def best_by_prompt_length(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per prompt length, the point with the highest throughput and the one with the most tokens per joule
    (ties: the smaller K)."""
    best = []
    for length in sorted({point["l_prompt"] for point in points}):
        rows = [point for point in points if point["l_prompt"] == length]
        best.append(
            {
                "l_prompt": length,
                **{
                    field: min(rows, key=lambda point: (-point["speculative"][metric], point["k"]))
                    for field, metric in RANKED_BY
                },
            }
        )
    return best


def k_sweep_report(
    model: CostModel, candidates: Sequence[Candidate], lengths: Sequence[int], paths: dict[str, str] | None = None
) -> dict[str, Any]:
    """The report ``ppa-k-sweep`` writes for the same inputs."""
    points = sweep_points(model, candidates, lengths)
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(),
        "prompt_lengths": [int(length) for length in lengths],
        "points": points,
        "best_by_prompt_length": best_by_prompt_length(points),
        "paths": paths,
    }
