"""symcost explore as a user runs it: its front equals the brute-force non-dominated set of a full
symcost sweep over the same axes, constraints respected, with symbolic and structural knobs."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT, run_cli

USER_PACK = (
    "--pack",
    ROOT / "tests" / "data" / "user_pack" / "systolic.yaml",
    "--input",
    ROOT / "tests" / "data" / "user_pack" / "inputs.yaml",
)
SELFSPEC = (
    "--model",
    EXAMPLES / "model_tiny.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_k4.yaml",
)


def read(path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def brute_front(rows, objectives, feasible) -> set[tuple]:
    """The rows no feasible row dominates (a plain double loop over the sweep's rows)."""
    kept = [row for row in rows if feasible(row)]

    def cost(row):
        return [float(row[name]) if sense == "min" else -float(row[name]) for sense, name in objectives]

    front = set()
    for row in kept:
        mine = cost(row)
        if not any(
            all(o <= m for o, m in zip(cost(other), mine)) and any(o < m for o, m in zip(cost(other), mine))
            for other in kept
        ):
            front.add(tuple(row.values()))
    return front


def explore_and_sweep(tmp_path, inputs, axes, objectives, constraints=(), columns=()):
    front_file, sweep_file = tmp_path / "front.csv", tmp_path / "sweep.csv"
    axis_args = [arg for axis in axes for arg in ("--axis", axis)]
    objective_args = [arg for sense, name in objectives for arg in ("--objective", f"{sense}:{name}")]
    constraint_args = [arg for text in constraints for arg in ("--constraint", text)]
    outputs = list(
        dict.fromkeys(
            [name for _, name in objectives]
            + [text.split("<")[0].split(">")[0] for text in constraints]
            + list(columns)
        )
    )
    explored = run_cli(
        "explore",
        *inputs,
        *axis_args,
        *objective_args,
        *constraint_args,
        *[arg for name in columns for arg in ("--column", name)],
        "-o",
        front_file,
    )
    assert explored.code == 0, explored.stderr
    swept = run_cli(
        "sweep", *inputs, *axis_args, *[arg for name in outputs for arg in ("--column", name)], "-o", sweep_file
    )
    assert swept.code == 0, swept.stderr
    return read(front_file), read(sweep_file), explored.stdout


def test_a_user_pack_front_is_the_brute_force_front(tmp_path):
    objectives = [("min", "latency"), ("max", "macs"), ("min", "energy")]
    front, sweep, stdout = explore_and_sweep(
        tmp_path,
        USER_PACK,
        ["M=16:4096:log9", "dram.bandwidth_GBps=5,20,80,320", "array.rows=32,64,128,256"],
        objectives,
        ["t_dram<=2 ms"],
    )
    assert {tuple(row.values()) for row in front} == brute_front(
        sweep, objectives, lambda row: float(row["t_dram"]) <= 2e-3
    )
    assert f"evaluated {len(sweep)} designs" in stdout and len(front) >= 2
    assert all(float(row["t_dram"]) <= 2e-3 for row in front)


def test_structural_and_symbolic_knobs_together(tmp_path):
    objectives = [("min", "speculative.energy_per_token"), ("min", "speculative.latency_per_token")]
    front, sweep, stdout = explore_and_sweep(
        tmp_path,
        SELFSPEC,
        [
            "analog.adc.draft_bits=3,4,5",
            "hardware.soc.schedule=serialized,layer-pipelined",
            "analog.xbar_size=64,128",
            "K=1:4",
            "L_prompt=512",
        ],
        objectives,
        ["speculative.tokens_per_joule>=1e9"],
        columns=["speculative.throughput"],
    )
    expected = brute_front(sweep, objectives, lambda row: float(row["speculative.tokens_per_joule"]) >= 1e9)
    assert {tuple(row.values()) for row in front} == expected
    assert "6 compiled variants" in stdout
    assert {row["hardware.soc.schedule"] for row in sweep} == {"serialized", "layer-pipelined"}


def test_the_front_is_ordered_by_the_first_objective(tmp_path):
    front, _, _ = explore_and_sweep(
        tmp_path, USER_PACK, ["M=16:4096:log9", "dram.bandwidth_GBps=5,20,80"], [("min", "latency"), ("min", "energy")]
    )
    latency = [float(row["latency"]) for row in front]
    assert latency == sorted(latency)


def test_the_plot_and_the_summary(tmp_path):
    result = run_cli(
        "explore",
        *USER_PACK,
        "--axis",
        "M=16:4096:log9",
        "--axis",
        "dram.bandwidth_GBps=5,20,80",
        "--objective",
        "min:latency",
        "--objective",
        "min:energy",
        "--plot",
        tmp_path / "front.png",
    )
    assert result.code == 0, result.stderr
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"
    assert "best min:latency:" in result.stdout and "best min:energy:" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("--objective", "min:latency"), "at least two --objective"),
        (("--objective", "min:latency", "--objective", "min:nrg"), "unknown output 'nrg'; did you mean energy"),
        (
            ("--objective", "min:latency", "--objective", "min:energy", "--constraint", "latency<3 ns"),
            "expected OUTPUT<=VALUE",
        ),
        (
            ("--objective", "min:latency", "--objective", "min:energy", "--plot", "front.gif"),
            "cannot tell the figure format",
        ),
    ],
)
def test_mistakes_are_one_line_errors(args, message):
    result = run_cli("explore", *USER_PACK, "--axis", "M=16,32", *args)
    assert result.code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_empty_front_is_exit_1_with_the_counts(tmp_path):
    result = run_cli(
        "explore",
        *USER_PACK,
        "--axis",
        "M=16,32",
        "--objective",
        "min:latency",
        "--objective",
        "min:energy",
        "--constraint",
        "energy<=1 pJ",
        "-o",
        tmp_path / "front.csv",
    )
    assert result.code == 1 and "evaluated 2 designs (1 compiled variant), 0 feasible, 0 on the front" in result.stdout
    assert read(tmp_path / "front.csv") == []


def test_a_front_file_is_a_sweep_file_of_its_rows(tmp_path):
    front, sweep, _ = explore_and_sweep(
        tmp_path, USER_PACK, ["M=16:4096:log9"], [("min", "latency"), ("max", "cycles")]
    )
    assert list(front[0]) == list(sweep[0])
    assert {tuple(row.values()) for row in front} <= {tuple(row.values()) for row in sweep}
    assert np.all(np.diff([float(row["latency"]) for row in front]) >= 0)


NSGA = (
    "--axis",
    "M=16:4096:log24",
    "--axis",
    "dram.bandwidth_GBps=5:400:20",
    "--axis",
    "array.rows=16,32,64,128,256",
    "--objective",
    "min:latency",
    "--objective",
    "max:macs",
    "--constraint",
    "energy<=30 mJ",
)


def test_nsga2_finds_feasible_designs_of_the_grid_and_says_how_close_it_is(tmp_path):
    first = run_cli(
        "explore", *USER_PACK, *NSGA, "--search", "nsga2", "--budget", "600", "--seed", "7", "-o", tmp_path / "a.csv"
    )
    again = run_cli(
        "explore", *USER_PACK, *NSGA, "--search", "nsga2", "--budget", "600", "--seed", "7", "-o", tmp_path / "b.csv"
    )
    assert first.code == again.code == 0, first.stderr
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()  # the seed fixes the search
    ratio = float(first.stdout.split("hypervolume: ")[1].split()[0])
    assert 0.5 < ratio <= 1.0 + 1e-9, first.stdout
    swept = run_cli(
        "sweep",
        *USER_PACK,
        *NSGA[:6],
        "--column",
        "latency",
        "--column",
        "macs",
        "--column",
        "energy",
        "-o",
        tmp_path / "sweep.csv",
    )
    assert swept.code == 0, swept.stderr
    grid = {tuple(row.values()) for row in read(tmp_path / "sweep.csv")}
    front = read(tmp_path / "a.csv")
    assert front and all(tuple(row.values()) in grid for row in front)
    assert all(float(row["energy"]) <= 30e-3 for row in front)


def test_nsga2_needs_a_budget():
    result = run_cli("explore", *USER_PACK, *NSGA, "--search", "nsga2")
    assert result.code == 2 and "--search nsga2 needs --budget N" in result.stderr


def test_without_pymoo_nsga2_names_the_extra(tmp_path):
    hidden = tmp_path / "hide"
    (hidden / "pymoo").mkdir(parents=True)
    (hidden / "pymoo" / "__init__.py").write_text("raise ImportError('pymoo is not installed here')\n")
    result = run_cli(
        "explore", *USER_PACK, *NSGA, "--search", "nsga2", "--budget", "100", env={"PYTHONPATH": str(hidden)}
    )
    assert result.code == 2 and "pip install 'symcost[explore]'" in result.stderr, result.stderr
