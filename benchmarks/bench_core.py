"""symcost's performance against the targets of docs/performance.md, on the bundled and the reference's examples.

Run (about 2 minutes on 2 cores; prints Markdown):

    python benchmarks/bench_core.py [--reference-python /tmp/refvenv/bin/python] [--repeat 3] [--points 1000000]
    python benchmarks/bench_core.py --quick        # one repetition, small sizes, the serialized example only

Measures, best of --repeat each:

1. compile: build_model in a fresh process with an empty evaluator cache (cold) and again with the cache it
   filled (warm), for the report's evaluator (every output) and a sweep's (two metrics, only L_prompt varied);
   the whole `symcost report` command, cold and warm;
2. a 10^6-point L_prompt sweep of the sweep evaluator;
3. per prompt length against the reference calculator (optional: it is not a dependency; give the Python of
   an environment where it is installed, or set SYMCOST_REFERENCE_PYTHON), the plain loop oracle
   (tests/oracles/oracle_selfspec.py) and, for the Llama-2-7B examples, hand-written numpy (benchmarks/handwritten.py).

The reference's example files are read from ../shared/peer-selfspec/examples; parts that need them are
skipped, saying so, where that folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

import handwritten  # noqa: E402

from symcost import build_model  # noqa: E402

EXAMPLES = ROOT / "examples"
PEER = ROOT.parent / "shared" / "peer-selfspec" / "examples"
METRICS = ["speculative.energy_per_token", "speculative.latency_per_token"]
SWEEP = {"only": METRICS, "vary": ["L_prompt"]}
LONGEST_PROMPT = 30_000  # below every example's context limit (32768 - K)


@dataclass(frozen=True)
class Case:
    label: str
    files: tuple[Path, Path, Path]


LLAMA_KNOBS = Case(
    "Llama-2-7B, knob-based, serialized",
    (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml"),
)
LLAMA_PIPELINED = Case(
    "Llama-2-7B, NeuroSim library, layer-pipelined",
    (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml"),
)
QWEN_SCIENCE = Case(
    "reference: Qwen3-1.7B + science_adi9405_v1_neurosim",
    (PEER / "model_qwen3_1p7b.yaml", PEER / "hardware_science_adi9405_v1_neurosim.yaml", PEER / "stats.json"),
)
TOY = Case("reference: toy model + hardware.yaml", (PEER / "model.yaml", PEER / "hardware.yaml", PEER / "stats.json"))
HANDWRITTEN = {LLAMA_KNOBS: handwritten.serialized_knobs, LLAMA_PIPELINED: handwritten.pipelined_soc}


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    names = (
        [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")]
        if cpuinfo.is_file()
        else []
    )
    cpu = names[0] if names else platform.processor() or platform.machine()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}; {platform.python_implementation()} "
        f"{platform.python_version()}, numpy {np.__version__}, sympy {sympy.__version__}; {time.strftime('%Y-%m-%d')}"
    )


def prompt_lengths(points: int) -> np.ndarray:
    return np.resize(np.arange(1.0, LONGEST_PROMPT + 1), points)


# ---- 1. compile -------------------------------------------------------------------------------------------


def timed_process(command: list[str], cache: Path) -> tuple[float, str]:
    """Wall time of a fresh process with the evaluator cache at ``cache``, and its stdout."""
    environment = {**os.environ, "SYMCOST_CACHE_DIR": str(cache)}
    environment.pop("SYMCOST_NO_CACHE", None)
    start = time.perf_counter()
    done = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"error: {' '.join(command)} failed:\n{done.stderr}")
    return wall, done.stdout


def probe_build(case: Case, cache: Path, options: dict) -> dict:
    command = [sys.executable, str(ROOT / "benchmarks" / "probe_build.py"), *map(str, case.files)]
    for name, values in options.items():
        command += [f"--{name}", *values]
    wall, output = timed_process(command, cache)
    return {**json.loads(output), "wall_s": wall}


def report_command(case: Case, cache: Path) -> float:
    model, hardware, stats = map(str, case.files)
    return timed_process(
        [sys.executable, "-m", "symcost", "report", "--model", model, "--hardware", hardware, "--stats", stats], cache
    )[0]


def compile_times(cases: list[Case], repeat: int, workspace: Path, sweep_too: bool) -> dict:
    """Per case, the best cold and warm figures; each repetition starts from an empty cache directory."""
    kinds = {"report evaluator": {}, **({"sweep evaluator": SWEEP} if sweep_too else {})}
    results: dict = {}
    for repetition in range(repeat):
        for case in cases:
            cache = workspace / f"cache-{repetition}"
            for kind, options in kinds.items():
                for state in ("cold", "warm"):
                    probe = probe_build(case, cache, options)
                    _keep_best(results, (case, kind, state), probe)
            command_cache = workspace / f"command-{repetition}"
            for state in ("cold", "warm"):
                _keep_best(results, (case, "`symcost report`", state), {"wall_s": report_command(case, command_cache)})
    return results


def _keep_best(results: dict, key: tuple, probe: dict) -> None:
    old = results.get(key, probe)
    results[key] = {name: min(value, old[name]) for name, value in probe.items()}


def print_compile(results: dict) -> None:
    print("\n| example | what | cold: build_model | cold: process | warm: build_model | warm: process |")
    print("|---|---|---|---|---|---|")
    for (case, kind, state), probe in results.items():
        if state == "cold":
            warm = results[(case, kind, "warm")]
            print(
                f"| {case.label} | {kind} | {_seconds(probe.get('build_s'))} | {probe['wall_s']:.2f} s "
                f"| {_seconds(warm.get('build_s'))} | {warm['wall_s']:.2f} s |"
            )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


# ---- 2. sweep and 3. per point ----------------------------------------------------------------------------


def sweep_time(case: Case, lengths: np.ndarray, repeat: int) -> float:
    model = build_model(*case.files, **SWEEP)
    return best(lambda: model.evaluate(L_prompt=lengths), repeat)


def full_per_point(case: Case, points: int, repeat: int) -> tuple[float, float]:
    """Per prompt length, every output (metrics and every breakdown of both scenarios), as a report needs:
    through ``evaluate`` and in the generated function alone (without broadcasting and copying each output)."""
    model = build_model(*case.files)
    lengths = prompt_lengths(points)
    values = {**model.defaults, "L_prompt": lengths}
    arrays = np.broadcast_arrays(*(np.asarray(values[name], dtype=np.float64) for name in model.evaluator.input_names))
    with np.errstate(all="ignore"):
        generated = best(lambda: model.evaluator.function(*arrays), repeat)
    return best(lambda: model.evaluate(L_prompt=lengths), repeat) / points, generated / points


def compare_handwritten(case: Case, lengths: np.ndarray, repeat: int) -> tuple[float, float]:
    """(symcost, hand-written) seconds for the two metrics at ``lengths``, after checking they agree."""
    model = build_model(*case.files, **SWEEP)
    ours = model.evaluate(L_prompt=lengths)
    theirs = HANDWRITTEN[case](lengths)
    for name, values in zip(METRICS, theirs):
        worst = float(np.max(np.abs(values / ours[name] - 1)))
        if worst > 1e-12:
            raise SystemExit(
                f"error: benchmarks/handwritten.py disagrees with symcost on {case.label}, {name}: "
                f"relative {worst:.2e}; update its coefficients"
            )
    return best(lambda: model.evaluate(L_prompt=lengths), repeat), best(lambda: HANDWRITTEN[case](lengths), repeat)


def oracle_per_point(case: Case, count: int, repeat: int) -> float:
    from oracles import oracle_selfspec

    lengths = list(range(1, LONGEST_PROMPT, LONGEST_PROMPT // count))[:count]
    return best(lambda: oracle_selfspec.run(*map(str, case.files), lengths), repeat) / len(lengths)


def reference_per_point(case: Case, python: str, count: int, repeat: int) -> tuple[float, float]:
    """(seconds per prompt length, worst relative difference from symcost's speculative energy per token)."""
    lengths = list(range(1, LONGEST_PROMPT, LONGEST_PROMPT // count))[:count]
    command = [
        python,
        str(ROOT / "benchmarks" / "probe_reference.py"),
        *map(str, case.files),
        "--lengths",
        ",".join(map(str, lengths)),
        "--repeat",
        str(repeat),
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"error: the reference calculator failed:\n{done.stderr}")
    measured = json.loads(done.stdout)
    ours = build_model(*case.files, **SWEEP).evaluate(L_prompt=np.array(lengths))["speculative.energy_per_token"] * 1e12
    theirs = np.array([measured["energy_pj_per_token"][str(length)] for length in lengths])
    return measured["per_point_s"], float(np.max(np.abs(ours / theirs - 1)))


# ---- the run ----------------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    quick = args.quick
    repeat, points = (1, 10_000) if quick else (args.repeat, args.points)
    compiled = [LLAMA_KNOBS] if quick else [LLAMA_KNOBS, LLAMA_PIPELINED, *([QWEN_SCIENCE] if PEER.is_dir() else [])]
    print(f"machine: {machine()}")
    print(f"best of {repeat}; the machine may be shared: compare ratios rather than absolute times")
    with tempfile.TemporaryDirectory(prefix="symcost-bench-") as workspace:
        compile_results = compile_times(compiled, repeat, Path(workspace), sweep_too=not quick)
        print_compile(compile_results)
        # Later builds in this process reuse the evaluators the last repetition cached.
        os.environ["SYMCOST_CACHE_DIR"] = str(Path(workspace) / f"cache-{repeat - 1}")
        os.environ.pop("SYMCOST_NO_CACHE", None)
        sweeps = print_sweeps(compiled, points, repeat)
        handwritten_ratios = print_handwritten(compiled, points, repeat)
        sizes = (points, 1_000, 2) if quick else (points, args.full_points, args.reference_lengths)
        reference_ratios = print_per_point([TOY] if quick else [TOY, QWEN_SCIENCE], args, sizes, repeat)
    if quick:
        print("\n(--quick: too few repetitions and points to judge the targets; run without it for that)")
    print_targets(compile_results, sweeps, handwritten_ratios, reference_ratios, points)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repetition, 10^4 points, the serialized example only")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions; the best is kept (default 3)")
    parser.add_argument("--points", type=int, default=10**6, help="prompt lengths in the sweep (default 10^6)")
    parser.add_argument(
        "--full-points", type=int, default=10**5, help="prompt lengths for the every-output evaluator (default 10^5)"
    )
    parser.add_argument(
        "--reference-lengths",
        type=int,
        default=8,
        help="prompt lengths timed in the reference calculator and the oracle (default 8)",
    )
    parser.add_argument(
        "--reference-python",
        default=os.environ.get("SYMCOST_REFERENCE_PYTHON"),
        help="Python of an environment with selfspec-calculator installed (or SYMCOST_REFERENCE_PYTHON)",
    )
    return parser.parse_args()


def print_sweeps(cases: list[Case], points: int, repeat: int) -> dict:
    lengths = prompt_lengths(points)
    print(
        f"\n{points:,}-point L_prompt sweep, per-token energy and latency (build_model(only=..., vary=['L_prompt'])):\n"
    )
    print("| example | sweep | per point |")
    print("|---|---|---|")
    sweeps = {}
    for case in cases:
        sweeps[case] = sweep_time(case, lengths, repeat)
        print(f"| {case.label} | {sweeps[case] * 1e3:.3g} ms | {sweeps[case] / points * 1e9:.0f} ns |")
    return sweeps


def print_handwritten(cases: list[Case], points: int, repeat: int) -> dict:
    lengths = prompt_lengths(points)
    print(f"\nAgainst hand-written numpy of the same closed form ({points:,} points; agreement checked to 1e-12):\n")
    print("| example | symcost | hand-written | ratio |")
    print("|---|---|---|---|")
    ratios = {}
    for case in (case for case in cases if case in HANDWRITTEN):
        ours, theirs = compare_handwritten(case, lengths, repeat)
        ratios[case] = ours / theirs
        print(f"| {case.label} | {ours * 1e3:.3g} ms | {theirs * 1e3:.3g} ms | {ratios[case]:.1f}x |")
    return ratios


def print_per_point(cases: list[Case], args: argparse.Namespace, sizes: tuple[int, int, int], repeat: int) -> dict:
    """Per prompt length on the reference's inputs; ``sizes``: sweep points, every-output points, timed lengths."""
    if not PEER.is_dir():
        print(f"\n(reference examples not found at {PEER}: oracle and reference comparisons skipped)")
        return {}
    print("\nPer prompt length, on the reference's inputs (speculative and baseline, every breakdown):\n")
    print(
        "| example | reference calculator | plain loop oracle | symcost, every output (generated function alone) "
        "| symcost, two metrics | reference / symcost (every output; two metrics) | oracle / symcost (every output) |"
    )
    print("|---|---|---|---|---|---|---|")
    ratios, notes = {}, []
    for case in cases:
        row = measure_per_point(case, args.reference_python, sizes, repeat)
        full, metrics = row["every output"], row["two metrics"]
        reference = ratio = "-"
        if "reference" in row:
            ratios[case] = row["reference"] / full
            reference, ratio = (
                f"{row['reference'] * 1e3:.1f} ms",
                f"{ratios[case]:,.0f}x; {row['reference'] / metrics:,.0f}x",
            )
            notes.append(
                f"{case.label}: symcost's speculative energy per token differs from the reference's "
                f"by at most {row['difference']:.1e} (relative) at the timed lengths"
            )
        print(
            f"| {case.label} | {reference} | {row['oracle'] * 1e3:.2f} ms | {full * 1e6:.2f} us "
            f"({row['generated'] * 1e6:.2f} us) | {metrics * 1e9:.0f} ns | {ratio} | {row['oracle'] / full:,.0f}x |"
        )
    if not args.reference_python:
        print("\n(reference calculator skipped: give --reference-python PATH or set SYMCOST_REFERENCE_PYTHON)")
    for note in notes:
        print(f"- {note}")
    return ratios


def measure_per_point(case: Case, reference_python: str | None, sizes: tuple[int, int, int], repeat: int) -> dict:
    """Seconds per prompt length: symcost's two evaluators, the oracle and, when given, the reference."""
    points, full_points, count = sizes
    row = dict(zip(("every output", "generated"), full_per_point(case, full_points, repeat)))
    row["two metrics"] = sweep_time(case, prompt_lengths(points), repeat) / points
    row["oracle"] = oracle_per_point(case, count, repeat)
    if reference_python:
        row["reference"], row["difference"] = reference_per_point(case, reference_python, count, repeat)
    return row


def print_targets(
    compile_results: dict, sweeps: dict, handwritten_ratios: dict, reference_ratios: dict, points: int
) -> None:
    print("\n| target | example | measured | met |")
    print("|---|---|---|---|")
    rows = []
    for (case, kind, state), probe in compile_results.items():
        if kind == "report evaluator":
            limit = 3.0 if state == "cold" else 0.3
            rows.append((f"{state} compile < {limit:g} s (build_model)", case, probe["build_s"], limit))
            rows.append((f"{state} compile < {limit:g} s (whole process)", case, probe["wall_s"], limit))
    rows += [(f"{points:,}-point sweep < 0.2 s", case, seconds, 0.2) for case, seconds in sweeps.items()]
    for label, case, value, limit in rows:
        print(f"| {label} | {case.label} | {value:.3f} s | {'yes' if value < limit else 'no'} |")
    for case, ratio in reference_ratios.items():
        met = "yes" if ratio >= 1e4 else "no"
        print(f"| >= 10^4x faster per point than the reference (every output) | {case.label} | {ratio:,.0f}x | {met} |")
    for case, ratio in handwritten_ratios.items():
        print(f"| within 2x of hand-written numpy | {case.label} | {ratio:.1f}x | {'yes' if ratio <= 2 else 'no'} |")


if __name__ == "__main__":
    main()
