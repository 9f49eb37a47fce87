"""Design-space exploration throughput: one process against a local Dask cluster, symbolic and structural grids.

    .venv/bin/python benchmarks/bench_explore.py [--workers 2] [--large 1e9]

Runs ``symcost explore`` as a user does (whole processes, the evaluator cache warm) and prints:

* designs per second for a symbolic-only grid (the user pack of tests/data/user_pack, one compiled
  evaluator) in one process and on ``--cluster local:N``;
* the same for a structural grid (the selfspec tiny example: ADC draft bits x schedule variants, each
  compiled, times symbolic K and L_prompt);
* the wall time of a ``--large``-design symbolic exploration (default 10^9) on the cluster;
* the overhead per cluster task: the same grid with tasks of 20,000 and of 1,000,000 points.

Record the output in docs/performance.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
USER_PACK = [
    "--pack",
    str(ROOT / "tests/data/user_pack/systolic.yaml"),
    "--input",
    str(ROOT / "tests/data/user_pack/inputs.yaml"),
]
# Objectives whose front has about one design per M: a front's size, not the grid's, sets the merge cost.
OBJECTIVES = ["--objective", "min:t_compute", "--objective", "max:macs", "--objective", "min:energy"]
EXAMPLES = ROOT / "examples"
STRUCTURAL = [
    "--model",
    str(EXAMPLES / "model_tiny.yaml"),
    "--hardware",
    str(EXAMPLES / "hardware_knobs.yaml"),
    "--stats",
    str(EXAMPLES / "stats_k4.yaml"),
    "--axis",
    "analog.adc.draft_bits=3,4,5,8",
    "--axis",
    "hardware.soc.schedule=serialized,layer-pipelined",
    "--objective",
    "min:speculative.energy_per_token",
    "--objective",
    "min:speculative.latency_per_token",
]


def symbolic_axes(designs: float) -> list[str]:
    """A grid of about ``designs`` points: M x clock x rows (rows: 5 values)."""
    side = max(2, int((designs / 5) ** 0.5))
    return ["--axis", f"M=1:{side}", "--axis", f"array.clock_ghz=0.5:2:{side}", "--axis", "array.rows=16,32,64,128,256"]


def run(arguments: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "symcost", "explore", *arguments], capture_output=True, text=True, cwd=ROOT
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"explore failed: {done.stderr}")
    return elapsed, done.stdout.splitlines()[0]


def designs_of(summary: str) -> int:
    return int(summary.split("evaluated ")[1].split(" ")[0].replace(",", ""))


def rate(label: str, arguments: list[str]) -> float:
    run(arguments)  # warm: the evaluator cache, and the imports in the page cache
    elapsed, summary = run(arguments)
    designs = designs_of(summary)
    print(f"{label:<44} {designs:>14,} designs {elapsed:>9.2f} s {designs / elapsed:>14,.0f} designs/s")
    return designs / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--large", type=float, default=1e9)
    args = parser.parse_args()
    cluster = ["--cluster", f"local:{args.workers}"]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    symbolic = [*USER_PACK, *symbolic_axes(2e7), *OBJECTIVES]
    one = rate("symbolic grid, one process", symbolic)
    many = rate(f"symbolic grid, local:{args.workers}", [*symbolic, *cluster])
    print(f"  ratio cluster / one process: {many / one:.2f}")
    structural = [*STRUCTURAL, "--axis", "K=1:16", "--axis", "L_prompt=1:65536:log2000"]
    one = rate("structural grid (8 variants), one process", structural)
    many = rate(f"structural grid (8 variants), local:{args.workers}", [*structural, *cluster])
    print(f"  ratio cluster / one process: {many / one:.2f}")
    small_tasks = [*USER_PACK, *symbolic_axes(4e6), *OBJECTIVES, *cluster]
    fine, summary = run([*small_tasks, "--task-points", "20000"])
    coarse, _ = run([*small_tasks, "--task-points", "1000000"])
    tasks_fine, tasks_coarse = designs_of(summary) / 20_000, designs_of(summary) / 1_000_000
    print(
        f"overhead per task: {(fine - coarse) / (tasks_fine - tasks_coarse) * 1e3:.1f} ms "
        f"({tasks_fine:.0f} tasks {fine:.2f} s against {tasks_coarse:.0f} tasks {coarse:.2f} s)"
    )
    elapsed, summary = run([*USER_PACK, *symbolic_axes(args.large), *OBJECTIVES, *cluster, "--task-points", "2000000"])
    print(
        f"large symbolic grid on local:{args.workers}: {summary}; {elapsed:.0f} s, "
        f"{designs_of(summary) / elapsed:,.0f} designs/s"
    )


if __name__ == "__main__":
    main()
