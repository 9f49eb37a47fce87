"""Plain step-by-step oracle for the SpAtten lookahead model (seed 002).

Written from the seed's description of its simulator (shared/seeds/002), not
from formulas/spatten.yaml: one layer after another, plain floats and
fractions, no numpy and no SymPy. The configuration is the parsed YAML with
every field present (tests write complete files).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

METRICS = (
    "baseline_total_cycles",
    "pipelined_total_cycles",
    "baseline_total_dram_bytes",
    "pipelined_total_dram_bytes",
    "total_wasted_bytes",
    "total_corrective_bytes",
    "mean_hidden_cycles",
    "lookahead_finish_rate",
)


def token_counts(config: dict) -> list[tuple[int, int]]:
    """(tokens entering, tokens kept) per layer; pruning keeps floor(N (1 - rate)) tokens, at least one."""
    model = config["model"]
    rate = Fraction(str(model["token_pruning_rate"]))
    entering, counts = model["initial_tokens"], []
    for _ in range(model["layers"]):
        kept = max(1, math.floor(entering * (1 - rate)))
        counts.append((entering, kept))
        entering = kept
    return counts


def layer(config: dict, tokens: int, kept: int, tp: int) -> dict[str, float]:
    """Cycles and bytes of one layer of ``tokens`` tokens keeping ``kept``, with ``tp`` true positives."""
    latency, memory, speculation = config["hardware_latency"], config["memory"], config["speculation"]
    floor = latency["min_stage_cycles"]
    vector_bytes = config["model"]["embedding_dim"] * config["model"]["bytes_per_element"]
    per_cycle = memory["bandwidth_GBps"] / memory["clock_GHz"]
    window = per_cycle * memory["latency_cycles"] * memory["saturation_window_multiplier"]

    def fetch(size: float) -> float:
        if size <= 0:
            return max(floor, 0)
        return max(floor, memory["latency_cycles"] + size / per_cycle + max(0.0, size - window) / per_cycle)

    def compute(factor: str, work: float) -> float:
        return max(floor, latency[factor] * work)

    square = tokens * tokens * config["model"]["heads"]
    prefix = (
        fetch(tokens * memory["vectors_per_token"] * vector_bytes)
        + compute("qk_mult_factor", square)
        + compute("softmax_factor", square)
    )
    av, top_k = compute("av_mult_factor", square), compute("top_k_factor", tokens)
    predicted = min(math.floor(tp / speculation["precision"] + 0.5), tokens)
    speculative_bytes = predicted * speculation["speculative_fetch_vectors"] * vector_bytes
    corrective_bytes = (kept - tp) * speculation["corrective_fetch_vectors"] * vector_bytes
    lookahead = (
        compute("predictor_compute_factor", tokens)
        + compute("proxy_col_sum_factor", tokens * tokens)
        + top_k
        + fetch(speculative_bytes)
    )
    demand_bytes = tokens * memory["vectors_per_token"] * vector_bytes
    return {
        "av": av,
        "lookahead": lookahead,
        "baseline_total_cycles": prefix + av + compute("score_comp_factor", square) + top_k,
        "pipelined_total_cycles": prefix + max(av + fetch(corrective_bytes), lookahead),
        "baseline_total_dram_bytes": demand_bytes,
        "pipelined_total_dram_bytes": demand_bytes + speculative_bytes,
        "total_wasted_bytes": (predicted - tp) * speculation["speculative_fetch_vectors"] * vector_bytes,
        "total_corrective_bytes": corrective_bytes,
        "mean_hidden_cycles": min(av, lookahead),
        "lookahead_finish_rate": 1.0 if lookahead <= av else 0.0,
    }


def trial(config: dict, true_positives: list[int]) -> dict[str, float]:
    """One trial's metrics: totals summed over the layers, hidden time and finish rate averaged."""
    layers = [layer(config, tokens, kept, tp) for (tokens, kept), tp in zip(token_counts(config), true_positives)]
    totals = {key: sum(values[key] for values in layers) for key in METRICS}
    for key in ("mean_hidden_cycles", "lookahead_finish_rate"):
        totals[key] /= len(layers)
    return totals


def tie_margin(config: dict, true_positives: list[int]) -> float:
    """How far this trial is from a discontinuity (the lookahead ending with AV; tp / P at a rounding tie),
    relative: tests skip exact ties, where float rounding may fall either way."""
    margins = [abs(tp / config["speculation"]["precision"] % 1.0 - 0.5) for tp in true_positives]
    for (tokens, kept), tp in zip(token_counts(config), true_positives):
        values = layer(config, tokens, kept, tp)
        margins.append(abs(values["lookahead"] - values["av"]) / max(1.0, values["av"]))
    return min(margins)


def exact_moments(config: dict) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation of every metric by enumerating every combination of outcomes."""
    layers = token_counts(config)
    recall = config["speculation"]["recall"]
    first = dict.fromkeys(METRICS, 0.0)
    second = dict.fromkeys(METRICS, 0.0)
    for outcome in itertools.product(*(range(kept + 1) for _tokens, kept in layers)):
        probability = 1.0
        for (_tokens, kept), tp in zip(layers, outcome):
            probability *= math.comb(kept, tp) * recall**tp * (1 - recall) ** (kept - tp)
        for key, value in trial(config, list(outcome)).items():
            first[key] += probability * value
            second[key] += probability * value * value
    return first, {key: math.sqrt(max(0.0, second[key] - first[key] ** 2)) for key in METRICS}
