"""Whole-process times of symcost's commands, cold and warm, side by side with the reference calculator.

Run (about 5 minutes on 2 cores; prints Markdown):

    python benchmarks/bench_cli.py [--reference-python /tmp/refvenv/bin/python] [--repeat 5]
    python benchmarks/bench_cli.py --quick          # one repetition, report and --version only

Each command runs as a user runs it, ``python -m symcost ...`` in a fresh process, best of --repeat:

* cold: every repetition starts from an empty evaluator cache (``SYMCOST_CACHE_DIR`` a new folder);
* warm: the same command again with the cache a first run filled.

The reference's three programs (ppa-calculator, ppa-k-sweep, ppa-batch-inputs; it is not a dependency:
give the Python of an environment where it is installed, or set SYMCOST_REFERENCE_PYTHON) run on the
same files, and the ratio column is reference time / symcost warm time, both from this one run.

Bytecode is written and read as in a normal installation: ``PYTHONDONTWRITEBYTECODE`` is removed from the
children's environment (with it, every run compiles symcost's source again, about 0.1 s).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks")]

from bench_core import machine  # noqa: E402

PEER = ROOT.parent / "shared" / "peer-selfspec"
EXAMPLES = ROOT / "examples"
COMPAT = ROOT / "tests" / "data" / "compat"
LLAMA = ["--model", str(EXAMPLES / "model_llama2_7b.yaml"), "--stats", str(EXAMPLES / "stats_k4.yaml")]


@dataclass(frozen=True)
class Case:
    label: str
    symcost: tuple[str, ...]  # arguments after ``python -m symcost``; {out} is a scratch folder
    reference: tuple[str, ...] = ()  # the reference's program and arguments, run in PEER
    needs_peer: bool = False


def cases() -> list[Case]:
    toy = [
        "--model",
        str(PEER / "examples/model.yaml"),
        "--hardware",
        str(PEER / "examples/hardware.yaml"),
        "--stats",
        str(PEER / "examples/stats.json"),
    ]
    qwen = [
        "--model",
        str(PEER / "examples/model_qwen3_0p6b.yaml"),
        "--hardware",
        str(PEER / "examples/hardware_soc_area.yaml"),
        "--acceptance-sweep",
        str(COMPAT / "k_sweep_candidates.json"),
    ]
    batch = [
        "--inputs-dir",
        str(COMPAT / "simulator"),
        "--hardware-template",
        str(PEER / "examples/hardware_soc_area.yaml"),
    ]
    pipelined = [*LLAMA, "--hardware", str(EXAMPLES / "hardware_soc_pipelined.yaml")]
    knobs = [*LLAMA, "--hardware", str(EXAMPLES / "hardware_knobs.yaml")]
    return [
        Case("`symcost --version`", ("--version",)),
        Case("`symcost --help`", ("--help",)),
        Case(
            "report, toy example, 4 prompt lengths",
            ("report", *toy, "--prompt-lengths", "64,128,256,512", "-o", "{out}/report.json"),
            ("ppa-calculator", *toy, "--prompt-lengths", "64", "128", "256", "512", "--output", "{out}/ref.json"),
            True,
        ),
        Case(
            "k-sweep, Qwen3-0.6B, 3 candidates x 3 prompt lengths",
            ("k-sweep", *qwen, "--prompt-lengths", "128", "512", "2048", "-o", "{out}/k.json"),
            ("ppa-k-sweep", *qwen, "--prompt-lengths", "128", "512", "2048", "--output", "{out}/ref-k.json"),
            True,
        ),
        Case(
            "batch-inputs, 3 simulator runs",
            ("batch-inputs", *batch, "--models-dir", str(PEER / "examples"), "--output-dir", "{out}/batch"),
            ("ppa-batch-inputs", *batch, "--output-dir", "{out}/ref-batch"),
            True,
        ),
        Case("plot, Llama-2-7B pipelined", ("plot", *pipelined, "-o", "{out}/plot.png")),
        Case(
            "audit, Llama-2-7B pipelined (Markdown)",
            ("audit", *pipelined, "--format", "markdown", "-o", "{out}/audit.md"),
        ),
        Case("breakeven, Llama-2-7B knobs", ("breakeven", *knobs)),
        Case(
            "sensitivity, Llama-2-7B knobs, 2 prompt lengths", ("sensitivity", *knobs, "--prompt-lengths", "128,4096")
        ),
        Case(
            "llm estimate, Llama-3.1-8B on an RTX 4090",
            ("llm", "estimate", "--model", "llama-3.1-8b", "--hardware", "rtx-4090"),
        ),
    ]


def environment(cache: Path) -> dict[str, str]:
    env = {**os.environ, "SYMCOST_CACHE_DIR": str(cache)}
    for name in ("SYMCOST_NO_CACHE", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


def wall_time(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"error: {' '.join(command)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return wall


def filled(arguments: tuple[str, ...], scratch: Path) -> list[str]:
    return [argument.replace("{out}", str(scratch)) for argument in arguments]


def symcost_times(case: Case, repeat: int, workspace: Path) -> tuple[float, float]:
    """(best cold, best warm) seconds of ``python -m symcost`` for ``case``."""
    command = [sys.executable, "-m", "symcost", *filled(case.symcost, workspace)]
    cold, warm = [], []
    for repetition in range(repeat):
        env = environment(workspace / f"cache-{case.label[:12]}-{repetition}".replace(" ", "_"))
        cold.append(wall_time(command, env, ROOT))
        warm.append(wall_time(command, env, ROOT))
    return min(cold), min(warm)


def reference_time(case: Case, python: str, repeat: int, workspace: Path) -> float:
    program, *arguments = case.reference
    command = [str(Path(python).parent / program), *filled(tuple(arguments), workspace)]
    # The reference finds its model files under examples/ of the working folder (batch-inputs).
    return min(wall_time(command, dict(os.environ), PEER) for _ in range(repeat))


def bare_python(repeat: int) -> float:
    return min(wall_time([sys.executable, "-c", "pass"], dict(os.environ), ROOT) for _ in range(repeat))


def run(selected: list[Case], repeat: int, reference: str | None) -> None:
    print(f"Machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the start; best of {repeat}.")
    print(f"A bare `python -c pass`: {bare_python(repeat):.3f} s.\n")
    print("| command | symcost cold | symcost warm | reference | reference / symcost warm |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="symcost-bench-cli-") as folder:
        for case in selected:
            if case.needs_peer and not PEER.is_dir():
                print(f"| {case.label} | skipped: {PEER} is absent | | | |")
                continue
            cold, warm = symcost_times(case, repeat, Path(folder))
            theirs = reference_time(case, reference, repeat, Path(folder)) if reference and case.reference else None
            shown = "-" if not case.reference else "skipped" if theirs is None else f"{theirs:.3f} s"
            ratio = f"{theirs / warm:.2f}x" if theirs else "-"
            print(f"| {case.label} | {cold:.3f} s | {warm:.3f} s | {shown} | {ratio} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5, help="best of N (default 5)")
    parser.add_argument("--quick", action="store_true", help="one repetition, --version and report only")
    parser.add_argument("--only", metavar="WORD", default="", help="only the commands whose label contains WORD")
    parser.add_argument(
        "--reference-python",
        default=os.environ.get("SYMCOST_REFERENCE_PYTHON"),
        help="Python of an environment with the reference calculator installed",
    )
    args = parser.parse_args()
    quick = ("`symcost --version`", "report, toy example, 4 prompt lengths")
    selected = [case for case in cases() if (case.label in quick if args.quick else args.only in case.label)]
    run(selected, 1 if args.quick else args.repeat, args.reference_python)


if __name__ == "__main__":
    main()
