"""Shared by the cascade tests: writing cascade files, and a plain-loop oracle of both formulations."""

from __future__ import annotations

import math
from pathlib import Path

import yaml

from symcost.packs.cascade.config import read_cascade
from symcost.packs.cascade.model import build_cascade


def stage(
    name: str,
    level: str,
    *,
    weights: str = "1 GB",
    time: str = "1 ms",
    acceptance: float = 0.8,
    speculation: int | None = 4,
    **extra,
) -> dict:
    entry = {
        "name": name,
        "weights_bytes": weights,
        "placement": {"level": level},
        "compute_time_ns": time,
        "acceptance": acceptance,
        **extra,
    }
    if speculation is not None:
        entry["speculation"] = speculation
    return entry


def cascade_file(
    directory: Path, stages: list[dict], levels: list[dict] | None = None, name: str = "cascade.yaml", **extra
) -> Path:
    levels = levels or [{"name": "HBM", "capacity_bytes": "16 GB", "per": "chip", "bandwidth_GBps": 819}]
    document = {
        "cascade": "test cascade",
        "system": {"chips": 2, "cores_per_chip": 4},
        "memory": levels,
        "stages": stages,
        **extra,
    }
    path = directory / name
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def chain_model(directory: Path, n: int):
    """An n-stage cascade, each stage on a level of its own (so every bandwidth is an input of its own)."""
    levels = [
        {"name": f"L{i}", "capacity_bytes": "1 TB", "per": "system", "bandwidth_GBps": 100 * (i + 1)} for i in range(n)
    ]
    stages = [stage(f"s{i}", f"L{i}", speculation=None if i == n - 1 else 3) for i in range(n)]
    return build_cascade(read_cascade(cascade_file(directory, stages, levels, name=f"chain{n}.yaml")))


def oracle(W, BW, T, gamma, K) -> dict[str, float]:
    """Both formulations, step by step, from per-stage lists (SI units)."""
    n = len(W)
    stream = [W[i] / BW[i] for i in range(n)]
    one_pass = [stream[i] + T[i] for i in range(n)]
    tokens = [float(K[0])]
    for i in range(1, n):
        tokens.append(tokens[-1] * gamma[i - 1])
    seed_cost = sum(one_pass[i] * tokens[i] for i in range(n))
    denominator = sum(gamma[i] * T[i] + (1 - gamma[i]) * stream[i] for i in range(n))
    per_token, committed = one_pass[0], None
    for i in range(1, n):
        committed = 0.0
        for position in range(K[i - 1] + 1):
            committed += gamma[i] ** position
        per_token = (K[i - 1] * per_token + one_pass[i]) / committed
    return {
        "cascade.C_total": seed_cost,
        "cascade.gamma_total": math.prod(gamma),
        "cascade.speedup_seed": one_pass[-1] / denominator,
        "cascade.tokens_per_iteration": committed,
        "cascade.time_per_token": per_token,
        "cascade.speedup_standard": one_pass[-1] / per_token,
        **{f"stage.s{i}.N": tokens[i] for i in range(n)},
    }
