"""``symcost sweep`` as a user runs it, checked against ``symcost report`` numbers."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli

from symcost import build_model
from symcost.sweep import checked_axes, parse_axis

ARGS = [
    "--model",
    EXAMPLES / "model_tiny.yaml",
    "--hardware",
    EXAMPLES / "hardware_knobs.yaml",
    "--stats",
    EXAMPLES / "stats_geometric.yaml",
]


def test_sweep_writes_the_full_grid(tmp_path):
    output = tmp_path / "sweep.csv"
    result = run_cli(
        "sweep", *ARGS, "--axis", "L_prompt=64:4096:log4", "--axis", "K=1:3", "--axis", "alpha=0.5,0.9", "-o", output
    )
    assert result.code == 0, result.stderr
    rows = list(csv.DictReader(output.open()))
    assert len(rows) == 4 * 3 * 2
    assert rows[0]["L_prompt"] == "64" and rows[-1]["L_prompt"] == "4096"
    model = build_model(*ARGS[1::2])
    row = rows[-1]
    expected = model.evaluate(L_prompt=4096, K=3, alpha=0.9)["speculative.energy_per_token"]
    assert float(row["speculative.energy_per_token"]) == pytest.approx(float(expected), rel=1e-15)


def test_axis_syntax():
    assert parse_axis("K=1:4").values.tolist() == [1, 2, 3, 4]
    assert parse_axis("alpha=0.5:0.9:5").values.tolist() == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9])
    assert parse_axis("L_prompt=1:1000:log4").values.tolist() == pytest.approx([1, 10, 100, 1000])


def test_integer_inputs_are_rounded_and_deduplicated():
    model = build_model(*ARGS[1::2])
    (lengths, alphas) = checked_axes(model, [parse_axis("L_prompt=3,1,3.2"), parse_axis("alpha=0.5,0.55")])
    np.testing.assert_array_equal(lengths.values, [1, 3])  # L_prompt is an integer symbol of the pack
    np.testing.assert_array_equal(alphas.values, [0.5, 0.55])


@pytest.mark.parametrize(
    "axis, fragment",
    [
        ("L_prompt", "expected NAME=START:STOP"),
        ("K=4:1", "STOP is below START"),
        ("L_prompt=0:100:log5", "log spacing needs positive"),
        ("beta=0.1,0.2", "'beta' is neither an input (L_prompt, K, alpha, E_commit)"),
        ("alpha=a,b", "axis alpha: expected numbers"),
    ],
)
def test_bad_axes_exit_2(tmp_path, axis, fragment):
    result = run_cli("sweep", *ARGS, "--axis", axis, "-o", tmp_path / "x.csv")
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "axes, fragment",
    [
        (["K=-1,2", "L_prompt=64"], "axis K: values must be non-negative (K is nonnegative integer), got -1"),
        (["L_prompt=-5,64"], "axis L_prompt: values must be non-negative"),
        (["soc.parallel_tile_reads=0,2", "L_prompt=64"], "axis soc.parallel_tile_reads: values must be positive"),
    ],
)
def test_axis_values_outside_the_inputs_domain_exit_2(tmp_path, axes, fragment):
    # A negative K would otherwise give negative energies; a zero count a division by zero.
    result = run_cli("sweep", *ARGS, *[part for axis in axes for part in ("--axis", axis)], "-o", tmp_path / "x.csv")
    assert result.code == 2 and fragment in result.stderr and not (tmp_path / "x.csv").exists()
