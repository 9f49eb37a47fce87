"""Cold command lines of two source trees, interleaved: did a speed change gain, and do the outputs stay?

Run (each command runs cold once per tree and repetition; about 5 minutes on 2 cores):

    git archive <base-commit> | tar -x -C /tmp/base
    python benchmarks/bench_cold_trees.py /tmp/base [--only WORD] [--repeat N]
    python benchmarks/bench_cold_trees.py /tmp/base --outputs /tmp/compare   # outputs only, no timing

Timing: the commands of ``bench_cli.py``, each from an empty evaluator cache, the base tree's and this one's
run one after the other so that both meet the same load; wall and CPU seconds (user + system of the process),
best of --repeat. On a shared machine the CPU seconds are the steadier figure.

Outputs (``--outputs DIR``): ``symcost report`` (JSON, 3 prompt lengths) and ``symcost audit`` (Markdown, every
closed form) for each hardware file of ``examples/`` and of the reference's examples, and each model, with
both trees; prints the files that are not byte-equal and, for JSON, whether they agree within 1e-12.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks")]

from bench_cli import EXAMPLES, PEER, cases, filled  # noqa: E402


def cold_run(tree: Path, arguments: list[str], scratch: Path) -> tuple[float, float]:
    """(wall, CPU) seconds of ``python -m symcost ARGUMENTS`` from ``tree`` with an empty evaluator cache."""
    env = {**os.environ, "SYMCOST_CACHE_DIR": tempfile.mkdtemp(dir=scratch)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "symcost", *arguments], cwd=tree, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"error: {tree}: symcost {' '.join(arguments)} failed:\n{done.stderr.decode()[-2000:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def time_trees(base: Path, only: str | None, repeat: int) -> None:
    print(f"load average {os.getloadavg()[0]:.1f} at the start; best of {repeat}\n")
    print("| command (cold) | base: wall (CPU) | this tree: wall (CPU) |\n|---|---|---|")
    with tempfile.TemporaryDirectory(prefix="symcost-cold-trees-") as folder:
        for case in cases()[1:]:
            if only and only not in case.label:
                continue
            best = {base: (1e9, 1e9), ROOT: (1e9, 1e9)}
            for _ in range(repeat):
                for tree in best:
                    arguments = [part.replace(str(ROOT), str(tree)) for part in filled(case.symcost, Path(folder))]
                    wall, cpu = cold_run(tree, arguments, Path(folder))
                    best[tree] = (min(best[tree][0], wall), min(best[tree][1], cpu))
            (base_wall, base_cpu), (wall, cpu) = best[base], best[ROOT]
            print(f"| {case.label} | {base_wall:.2f} s ({base_cpu:.2f} s CPU) | {wall:.2f} s ({cpu:.2f} s CPU) |")


def example_inputs() -> list[tuple[Path, Path, Path]]:
    """(model, hardware, stats): every hardware file with one model, every model with one hardware file."""
    llama = (EXAMPLES / "model_llama2_7b.yaml", EXAMPLES / "stats_k4.yaml")
    toy = (PEER / "examples/model.yaml", PEER / "examples/stats.json")
    combinations = [(llama[0], hardware, llama[1]) for hardware in sorted(EXAMPLES.glob("hardware_*.yaml"))]
    combinations += [(toy[0], hardware, toy[1]) for hardware in sorted((PEER / "examples").glob("hardware*.yaml"))]
    models = [EXAMPLES / "model_tiny.yaml", EXAMPLES / "model_llama3_2_1b.yaml"]
    models += sorted((PEER / "examples").glob("model_*.yaml"))
    combinations += [(model, PEER / "examples/hardware_soc_area.yaml", toy[1]) for model in models]
    return combinations + [(llama[0], EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_geometric.yaml")]


def compare_outputs(base: Path, folder: Path) -> None:
    commands = {"json": ["report", "--prompt-lengths", "64,512,4096"], "md": ["audit", "--format", "markdown"]}
    differing = 0
    for number, (model, hardware, stats) in enumerate(example_inputs()):
        for suffix, command in commands.items():
            written = []
            for tree in (base, ROOT):
                path = folder / f"{'base' if tree == base else 'this'}-{number:02d}.{suffix}"
                inputs = ["--model", str(model), "--hardware", str(hardware), "--stats", str(stats)]
                cold_run(tree, [*command, *inputs, "-o", str(path)], folder)
                written.append(path)
            if written[0].read_bytes() != written[1].read_bytes():
                differing += 1
                print(f"{model.name} on {hardware.name} ({suffix}): not byte-equal{_within(*written)}")
    print(f"{differing} of {2 * len(example_inputs())} outputs differ")


def _within(first: Path, second: Path) -> str:
    if first.suffix != ".json":
        return ""
    return ", within 1e-12" if _close(json.loads(first.read_text()), json.loads(second.read_text())) else ""


def _close(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        numbers = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return numbers and (a == b or abs(a - b) <= 1e-12 * max(abs(a), abs(b)))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[key], b[key]) for key in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base", type=Path, help="the other source tree (e.g. a `git archive` of the base commit)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N (default 1)")
    parser.add_argument("--only", metavar="WORD", help="only the commands whose label contains WORD")
    parser.add_argument("--outputs", type=Path, metavar="DIR", help="compare outputs (written in DIR) instead")
    args = parser.parse_args()
    if args.outputs:
        args.outputs.mkdir(parents=True, exist_ok=True)
        compare_outputs(args.base.resolve(), args.outputs)
    else:
        time_trees(args.base.resolve(), args.only, args.repeat)


if __name__ == "__main__":
    main()
