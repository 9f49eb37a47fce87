"""Time the reference calculator (pku-lemonade/selfspec-calculator) on one input set.

Run with the Python of an environment where the reference is installed
(never symcost's own), by bench_core.py --reference-python:

    /tmp/refvenv/bin/python benchmarks/probe_reference.py MODEL HARDWARE STATS --lengths 1,64,512 --repeat 3

Reads the inputs once, then times its sweep over the prompt lengths (it
evaluates the speculative and the baseline scenario with every breakdown at
each length, as symcost's full evaluator does). Prints JSON: the best time
per prompt length, and the speculative energy per token (pJ) at each length
so the caller can check both tools computed the same thing.
"""

from __future__ import annotations

import argparse
import json
import time

from selfspec_calculator.config import HardwareConfig, ModelConfig
from selfspec_calculator.estimator import estimate_sweep
from selfspec_calculator.io import load_speculation_stats


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("hardware")
    parser.add_argument("stats")
    parser.add_argument("--lengths", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    lengths = [int(part) for part in args.lengths.split(",")]
    model, hardware = ModelConfig.from_yaml(args.model), HardwareConfig.from_yaml(args.hardware)
    stats = load_speculation_stats(args.stats)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        report = estimate_sweep(model=model, hardware=hardware, stats=stats, prompt_lengths=lengths)
        best = min(best, time.perf_counter() - start)
    energies = {point.l_prompt: point.speculative.energy_pj_per_token for point in report.points}
    print(json.dumps({"per_point_s": best / len(lengths), "energy_pj_per_token": energies}))


if __name__ == "__main__":
    main()
