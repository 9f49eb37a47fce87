"""Smoke test: the whole-process benchmark runs end to end at its smallest setting (it times nothing it asserts)."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import PEER, ROOT


def test_quick_command_line_benchmark_prints_a_row_per_command():
    environment = {**os.environ}
    environment.pop("SYMCOST_REFERENCE_PYTHON", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_cli.py"), "--quick"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.split(" | ") for line in done.stdout.splitlines() if line.startswith("| ")]
    assert rows[0][0] == "| command" and rows[1][0] == "| `symcost --version`"
    report = rows[2]
    if (PEER / "examples").is_dir():  # timed, and the reference skipped without its Python
        assert report[0] == "| report, toy example, 4 prompt lengths" and report[3] == "skipped"
    else:
        assert "skipped" in report[1]
