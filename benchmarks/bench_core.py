"""Build and evaluation times of symcost on the bundled examples.

Run: python benchmarks/bench_core.py   (prints a Markdown table; ratios are what to compare)

Measures, best of N runs each in this process:
- build_model (pack parse on the first call only, then binding, accounting, lambdify) per example;
- one evaluation of every output at 10^6 prompt lengths;
- the same 10^6 points in the plain step-by-step oracle, extrapolated from 200 points.
"""
from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from symcost import build_model  # noqa: E402
from symcost.model import packaged_pack  # noqa: E402
from symcost.pack import load_pack  # noqa: E402

EXAMPLES = ROOT / "examples"
CASES = [("model_llama2_7b", "hardware_knobs", "stats_k4"), ("model_llama2_7b", "hardware_soc_pipelined", "stats_k4"),
         ("model_tiny", "hardware_legacy", "stats_geometric")]


def best(function, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}")
    start = time.perf_counter()
    load_pack(packaged_pack("selfspec"))
    print(f"pack parse and check (first load): {time.perf_counter() - start:.2f} s")
    lengths = np.arange(1, 10 ** 6 + 1)
    print("\n| example | build (warm pack) | 10^6-point evaluation | per point |")
    print("|---|---|---|---|")
    for model, hardware, stats in CASES:
        files = [EXAMPLES / f"{name}.yaml" for name in (model, hardware, stats)]
        build = best(lambda: build_model(*files), 2)
        built = build_model(*files)
        evaluation = best(lambda: built.evaluate(L_prompt=np.minimum(lengths, 30000)), 3)
        print(f"| {model} + {hardware} + {stats} | {build:.2f} s | {evaluation:.3f} s | {evaluation / lengths.size * 1e9:.0f} ns |")
    peer = ROOT.parent / "shared" / "peer-selfspec" / "examples"
    if not peer.is_dir():
        print("\n(reference examples not found beside the repository: oracle comparison skipped)")
        return
    import oracle_selfspec as oracle
    files = [peer / "model_qwen3_1p7b.yaml", peer / "hardware_science_adi9405_v1_neurosim.yaml", peer / "stats.json"]
    built = build_model(*files)
    sample = list(range(1, 101))
    start = time.perf_counter()
    oracle.run(*map(str, files), sample)
    oracle_per_point = (time.perf_counter() - start) / len(sample)
    ours = best(lambda: built.evaluate(L_prompt=np.minimum(lengths, 30000)), 3) / lengths.size
    print("\nreference example qwen3_1p7b + science_adi9405_v1_neurosim (speculative and baseline):")
    print(f"- plain loop oracle: {oracle_per_point * 1e3:.2f} ms per prompt length")
    print(f"- symcost compiled evaluator: {ours * 1e9:.0f} ns per prompt length ({oracle_per_point / ours:,.0f}x faster)")


if __name__ == "__main__":
    main()
