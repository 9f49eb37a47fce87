"""Smoke test: the benchmark script runs end to end at its smallest setting (it times nothing it asserts)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import PEER, ROOT


def test_quick_benchmark_runs_and_checks_the_hand_written_numpy():
    environment = {**os.environ}
    environment.pop("SYMCOST_REFERENCE_PYTHON", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_core.py"), "--quick"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    # Every section printed a row for the serialized example; the hand-written row exists only
    # when its numbers agreed with symcost's evaluator to 1e-12 (else the script stops with an error).
    assert any(line.startswith("| Llama-2-7B, knob-based, serialized | report evaluator |") for line in lines)
    assert any(line.startswith("| Llama-2-7B, knob-based, serialized | `symcost report` |") for line in lines)
    assert any(line.startswith("| within 2x of hand-written numpy | Llama-2-7B") for line in lines)
    if (PEER / "examples").is_dir():
        assert any(line.startswith("| reference: toy model") for line in lines)
        assert "reference calculator skipped: give --reference-python" in done.stdout
