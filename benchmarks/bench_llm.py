"""Speed of the LLM estimator: single configurations and a >= 10^5-candidate solver run, against llm-analysis.

    .venv/bin/python benchmarks/bench_llm.py

Measures, in one run on this machine:
  * cold start: compiling formulas/llm.yaml into the numpy evaluator;
  * single configurations: the pack evaluated for one scenario (inputs built
    from the catalogs each time), and a whole ``estimate()`` response
    (feasibility, intervals, bottlenecks, explanations; no recommendations);
  * a solver run with >= 10^5 candidates evaluated (four models, every hardware profile,
    vLLM, formats x TP x PP x offload x context caps x concurrency);
  * llm-analysis per configuration, when its environment exists
    (benchmarks/llm-analysis-env.sh), by running benchmarks/llm_analysis_rows.py
    in it now, so the ratio is of one run.
Prints a Markdown table for docs/performance.md.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from symcost.packs.llm.analytic import _analytic_model, analytic_model, scenario_values  # noqa: E402
from symcost.packs.llm.catalog import catalog  # noqa: E402
from symcost.packs.llm.estimate import estimate  # noqa: E402
from symcost.packs.llm.requests import packaged_bundle  # noqa: E402
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload  # noqa: E402
from symcost.packs.llm.solver import SolveRequest, solve  # noqa: E402

SOLVER_MODELS = ("llama-3.1-8b", "llama-3.1-70b", "qwen2.5-32b", "mixtral-8x7b")
PEER_PYTHON = ROOT / ".bench-venv" / "llm-analysis" / "bin" / "python"


def rate(function, seconds: float = 2.0) -> float:
    """Calls per second of ``function``: repeated for about ``seconds``, best of three rounds."""
    best = 0.0
    for _ in range(3):
        calls, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds / 3:
            function()
            calls += 1
        best = max(best, calls / (time.perf_counter() - started))
    return best


def main() -> None:
    started = time.perf_counter()
    _analytic_model.cache_clear()
    model = analytic_model()
    compile_seconds = time.perf_counter() - started
    bundle = packaged_bundle()
    scenario = Scenario(
        catalog("models").get("llama-3.1-8b"),
        catalog("hardware").get("rtx-4090"),
        catalog("runtimes").get("llama.cpp"),
        catalog("quantizations").get("q4_k_m"),
        Workload(512, 128),
        ParallelLayout(),
    )
    scenario = scenario.with_(coefficients=bundle.coefficients_for(scenario))
    evaluations = rate(lambda: model.evaluate(scenario_values(scenario)))
    responses = rate(lambda: estimate(scenario, bundle, model))
    request = SolveRequest(
        models=[catalog("models").get(name) for name in SOLVER_MODELS],
        hardware=list(catalog("hardware")),
        runtime=catalog("runtimes").get("vllm"),
        workload=Workload(2048, 256),
        concurrency=[1, 2, 4, 8, 16, 32, 64, 128],
    )
    solve_started = time.perf_counter()
    result = solve(request, bundle, model)
    solve_seconds = time.perf_counter() - solve_started
    peer = peer_rate()
    rows = [
        ("compile formulas/llm.yaml (cold, once per process)", f"{compile_seconds:.2f} s", ""),
        (
            "one configuration: pack evaluated (inputs from the catalogs)",
            f"{evaluations:,.0f} /s",
            _ratio(evaluations, peer),
        ),
        ("one configuration: whole estimate() response", f"{responses:,.0f} /s", _ratio(responses, peer)),
        (
            f"solver: {result['candidates']:,} candidates, {result['evaluated']:,} of them evaluated "
            f"(the rest rejected by layout before evaluation)",
            f"{solve_seconds:.2f} s = {result['evaluated'] / solve_seconds:,.0f} evaluated/s",
            _ratio(result["evaluated"] / solve_seconds, peer),
        ),
        ("llm-analysis 0.2.2, one configuration (its own environment)", f"{peer:,.0f} /s" if peer else "not run", "1"),
    ]
    print(f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}\n")
    print("| what | rate | vs llm-analysis per configuration |\n|---|---|---|")
    for what, value, ratio in rows:
        print(f"| {what} | {value} | {ratio} |")


def peer_rate() -> float | None:
    if not PEER_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "rows.json"
        subprocess.run(
            [
                str(PEER_PYTHON),
                str(ROOT / "benchmarks" / "llm_analysis_rows.py"),
                "--output",
                str(output),
                "--csv",
                str(ROOT / "data" / "llm_bench_calibration.csv"),
            ],
            check=True,
            capture_output=True,
        )
        return json.loads(output.read_text())["estimates_per_second_median"]


def _ratio(ours: float, peer: float | None) -> str:
    return f"{ours / peer:,.1f}x" if peer else "-"


if __name__ == "__main__":
    main()
