"""Sweep output: Parquet equals CSV, written block by block; the progress line; errors leave no file."""

from __future__ import annotations

import csv
import io
import itertools
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from hypothesis import given
from hypothesis import strategies as st

from symcost import build_model
from symcost.errors import SymcostError
from symcost.packs.selfspec.outputs import DEFAULT_COLUMNS
from symcost.progress import Progress, format_duration
from symcost.sweep import checked_axes, evaluate_blocks, parse_axis, write_sweep

parquet = pytest.importorskip("pyarrow.parquet")

FILES = (EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_geometric.yaml")
ARGS = [item for flag, path in zip(("--model", "--hardware", "--stats"), FILES) for item in (flag, path)]
GRID = ["--axis", "L_prompt=64:4096:log5", "--axis", "K=1:3", "--axis", "alpha=0.5,0.7,0.9"]
AXES = ("L_prompt=64:4096:log5", "K=1:3", "alpha=0.5,0.7,0.9")


@pytest.fixture(scope="module")
def model():
    return build_model(*FILES)


def read_csv(path) -> dict[str, np.ndarray]:
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {name: np.array([float(row[name]) for row in rows]) for name in rows[0]}


def read_parquet(path) -> dict[str, np.ndarray]:
    return {name: np.asarray(values) for name, values in parquet.read_table(path).to_pydict().items()}


def test_parquet_and_csv_hold_identical_values(tmp_path):
    for name in ("grid.csv", "grid.parquet"):
        result = run_cli("sweep", *ARGS, *GRID, "-o", tmp_path / name)
        assert result.code == 0, result.stderr
    from_csv, from_parquet = read_csv(tmp_path / "grid.csv"), read_parquet(tmp_path / "grid.parquet")
    assert list(from_parquet) == list(from_csv) == ["L_prompt", "K", "alpha", *DEFAULT_COLUMNS]
    assert len(from_parquet["K"]) == 5 * 3 * 3
    for name, values in from_csv.items():
        np.testing.assert_array_equal(from_parquet[name], values, err_msg=name)  # CSV's %.17g round-trips exactly
    schema = parquet.read_schema(tmp_path / "grid.parquet")
    assert str(schema.field("L_prompt").type) == "int64" and str(schema.field("alpha").type) == "double"


def test_format_option_overrides_the_suffix(tmp_path):
    result = run_cli(
        "sweep", *ARGS, "--axis", "L_prompt=8", "--axis", "K=1:2", "--format", "parquet", "-o", tmp_path / "grid.out"
    )
    assert result.code == 0, result.stderr
    assert read_parquet(tmp_path / "grid.out")["K"].tolist() == [1, 2]


def test_parquet_is_written_one_block_at_a_time_and_matches_a_plain_loop(model, tmp_path):
    axes = checked_axes(model, [parse_axis(text) for text in AXES])
    points = write_sweep(model, axes, tmp_path / "grid.parquet", ["speculative.energy_per_token"], chunk=7)
    assert points == 45
    assert parquet.ParquetFile(tmp_path / "grid.parquet").num_row_groups == 7  # ceil(45 / 7) blocks
    table = read_parquet(tmp_path / "grid.parquet")
    # Oracle: the grid in row-major order, one point at a time.
    for row, (length, k, alpha) in enumerate(itertools.product(*(axis.values for axis in axes))):
        assert (table["L_prompt"][row], table["K"][row], table["alpha"][row]) == (length, k, alpha)
        expected = model.evaluate(L_prompt=length, K=k, alpha=alpha)["speculative.energy_per_token"]
        assert table["speculative.energy_per_token"][row] == pytest.approx(float(expected), rel=1e-14)


@given(chunk=st.integers(1, 50))
def test_blocks_cover_the_grid_once_in_order(model, chunk):
    axes = checked_axes(model, [parse_axis(text) for text in AXES])
    blocks = list(evaluate_blocks(model, axes, ["baseline.latency_per_token"], chunk))
    assert [done for done, _ in blocks] == [min(end, 45) for end in range(chunk, 45 + chunk, chunk)]
    lengths = np.concatenate([block["L_prompt"] for _, block in blocks])
    np.testing.assert_array_equal(lengths, np.repeat(axes[0].values, 9))


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--axis", "beta=1,2"], "'beta' is neither an input"),
        (["--axis", "L_prompt=8", "--column", "speculative.nonsense"], "unknown output speculative.nonsense"),
        (["--axis", "L_prompt=8", "--axis", "K=1:2", "--axis", "K=3"], "axis K given more than once"),
        (["--axis", "K=1:2"], "L_prompt has no default value: vary it (in a sweep, give it an axis)"),
        (["--axis", "K=1:2", "--format", "xlsx"], "invalid choice: 'xlsx'"),
    ],
)
def test_bad_requests_exit_2_and_write_nothing(tmp_path, extra, fragment):
    output = tmp_path / "grid.parquet"
    result = run_cli("sweep", *ARGS, *extra, "-o", output)
    assert result.code == 2 and fragment in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not output.exists()


def test_missing_pyarrow_says_how_to_install_it(tmp_path):
    shadow = tmp_path / "shadow" / "pyarrow"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named pyarrow')\n")
    result = run_cli(
        "sweep", *ARGS, "--axis", "L_prompt=8", "-o", tmp_path / "grid.parquet", env={"PYTHONPATH": str(shadow.parent)}
    )
    assert result.code == 2 and not (tmp_path / "grid.parquet").exists()
    assert result.stderr.startswith("error: ") and "pip install 'symcost[parquet]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    csv_result = run_cli(
        "sweep", *ARGS, "--axis", "L_prompt=8", "-o", tmp_path / "grid.csv", env={"PYTHONPATH": str(shadow.parent)}
    )
    assert csv_result.code == 0, csv_result.stderr


def test_a_sweep_that_fails_part_way_leaves_no_file(tmp_path):
    hardware = tmp_path / "hardware.yaml"
    hardware.write_text(FILES[1].read_text() + "memory:\n  kv_cache:\n    max_context_tokens: 1000\n")
    output = tmp_path / "grid.csv"
    result = run_cli(
        "sweep",
        "--model",
        FILES[0],
        "--hardware",
        hardware,
        "--stats",
        FILES[2],
        "--axis",
        "L_prompt=1:2000",
        "-o",
        output,
    )
    assert result.code == 2 and "max_context_tokens" in result.stderr and not output.exists()


def test_progress_only_when_asked_or_on_a_terminal(tmp_path):
    shown = run_cli("sweep", *ARGS, *GRID, "--progress", "-o", tmp_path / "a.csv")
    assert shown.code == 0 and shown.stderr.strip().splitlines()[-1].startswith("sweep: 45 / 45 points (100%)")
    for quiet in ([], ["--no-progress"]):  # the test's stderr is a pipe, not a terminal
        result = run_cli("sweep", *ARGS, *GRID, *quiet, "-o", tmp_path / "b.csv")
        assert result.code == 0 and result.stderr == ""


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_reports_rate_and_time_left():
    clock, stream = FakeClock(), io.StringIO()
    progress = Progress("sweep", 1_000_000, stream, clock)
    clock.now += 5
    progress.update(250_000)
    clock.now += 15
    progress.update(1_000_000)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "sweep: 250,000 / 1,000,000 points (25%), 50,000 points/s, ETA 0:15",
        "sweep: 1,000,000 / 1,000,000 points (100%), 50,000 points/s, done",
    ]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_redraws_in_place_on_a_terminal():
    clock, stream = FakeClock(), Terminal()
    progress = Progress("sweep", 10, stream, clock)
    clock.now += 1
    progress.update(5)
    progress.update(10)
    progress.finish()
    assert (
        stream.getvalue().count("\r") == 2 and stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1
    )


@given(seconds=st.floats(0, 1e6))
def test_durations_read_back_as_whole_seconds(seconds):
    *hours, minutes, rest = (int(part) for part in format_duration(seconds).split(":"))
    assert (hours[0] if hours else 0) * 3600 + minutes * 60 + rest == round(seconds)
    assert minutes < 60 and rest < 60


def test_write_sweep_refuses_unknown_outputs_before_opening_the_file(model, tmp_path):
    with pytest.raises(SymcostError, match="unknown output"):
        write_sweep(model, [parse_axis("L_prompt=8")], tmp_path / "x.csv", ["nonsense"])
    assert not (tmp_path / "x.csv").exists()


def test_progress_shows_by_default_when_stderr_is_a_terminal(tmp_path):
    pty = pytest.importorskip("pty")
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "symcost", "sweep", *map(str, ARGS), *GRID, "-o", str(tmp_path / "grid.csv")],
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert completed.returncode == 0
    assert b"\rsweep: 45 / 45 points (100%)" in shown
