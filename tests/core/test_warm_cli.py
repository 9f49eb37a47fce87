"""Warm command lines: what a run takes from the evaluator cache gives the bytes a cold run writes, a changed
input misses, a tampered entry is computed again, and the warm report path stays clear of SymPy, pint,
jsonschema and matplotlib."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, run_cli

INPUTS = ("model_tiny.yaml", "hardware_knobs.yaml", "stats_k4.yaml")
HEAVY = ("sympy", "pint", "jsonschema", "matplotlib", "yaml")


@pytest.fixture
def inputs(tmp_path) -> list[Path]:
    """Copies of the example inputs, so a test can change one."""
    for name in INPUTS:
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return [tmp_path / name for name in INPUTS]


def report_args(inputs: list[Path], output: Path) -> list:
    model, hardware, stats = inputs
    return [
        "report",
        "--model",
        model,
        "--hardware",
        hardware,
        "--stats",
        stats,
        "--prompt-lengths",
        "64,128,4096",
        "-o",
        output,
    ]


def report(inputs: list[Path], output: Path, cache: Path | None) -> bytes:
    """The JSON ``symcost report`` writes, with the cache at ``cache`` (None: no cache)."""
    env = {"SYMCOST_CACHE_DIR": str(cache)} if cache else {"SYMCOST_NO_CACHE": "1"}
    done = run_cli(*report_args(inputs, output), env=env)
    assert done.code == 0, done.stderr
    return output.read_bytes()


def remembered(cache: Path, name: str) -> list[Path]:
    return sorted(cache.glob(f"*/*/{name}"))


def test_a_warm_report_writes_the_bytes_of_a_cold_one(inputs, tmp_path):
    cache = tmp_path / "cache"
    uncached = report(inputs, tmp_path / "uncached.json", None)
    cold = report(inputs, tmp_path / "cold.json", cache)
    assert remembered(cache, "described_inputs.json")  # the second run has something to take
    warm = report(inputs, tmp_path / "warm.json", cache)
    assert cold.replace(b"cold.json", b"") == warm.replace(b"warm.json", b"")
    assert json.loads(cold)["coefficients"] == json.loads(uncached)["coefficients"]
    assert json.loads(warm) == json.loads(uncached)


def test_a_changed_coefficient_misses_what_the_report_remembered(inputs, tmp_path):
    cache = tmp_path / "cache"
    before = json.loads(report(inputs, tmp_path / "before.json", cache))
    hardware = inputs[1]
    text = hardware.read_text()
    assert "energy_pj_per_token: 1.5 pJ" in text
    hardware.write_text(text.replace("energy_pj_per_token: 1.5 pJ", "energy_pj_per_token: 2.5 pJ"))
    after = json.loads(report(inputs, tmp_path / "after.json", cache))
    assert len(remembered(cache, "described_inputs.json")) == 2
    assert after["coefficients"] != before["coefficients"]
    assert after == json.loads(report(inputs, tmp_path / "uncached.json", None))


@pytest.mark.parametrize("damage", [b"{garbled", b'{"K": 99, "hardware": {}, "coefficients": [], "mappings": {}}'])
def test_a_tampered_remembered_summary_is_computed_again(inputs, tmp_path, damage):
    cache = tmp_path / "cache"
    cold = json.loads(report(inputs, tmp_path / "cold.json", cache))
    (summary,) = remembered(cache, "described_inputs.json")
    summary.write_bytes(damage)  # not what symcost recorded in the index: never trusted
    warm = json.loads(report(inputs, tmp_path / "warm.json", cache))
    assert warm["speculation"]["K"] == cold["speculation"]["K"] != 99
    assert warm["coefficients"] == cold["coefficients"]
    assert summary.read_bytes() != damage  # written again whole


PROBE = """
import sys
from symcost.cli import main
code = main(sys.argv[1:])
print(code, *sorted(name for name in {heavy!r} if name in sys.modules))
"""


def modules_after_report(inputs: list[Path], output: Path, cache: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The exit code and the heavy modules loaded by ``main(["report", ...])`` in a fresh interpreter."""
    return modules_after(report_args(inputs, output), cache, heavy)


def modules_after(arguments: list, cache: Path, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """The exit code and the ``heavy`` modules loaded by ``main(arguments)`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy), *map(str, arguments)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "SYMCOST_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-(len(heavy) + 1) :]


def test_a_warm_report_imports_no_sympy_pint_jsonschema_matplotlib_or_yaml(inputs, tmp_path):
    cache = tmp_path / "cache"
    report(inputs, tmp_path / "cold.json", cache)
    assert modules_after_report(inputs, tmp_path / "warm.json", cache)[-1:] == ["0"]  # nothing loaded after the code


# What a warm report does without: numpy (its few points run on Python floats, symcost.evaluator_points), the
# input readers (it reads no input document), the packaged-data machinery, and what only writing needs.
WARM_REPORT_SKIPS = ("numpy", "symcost.packs.selfspec.inputs", "symcost.documents", "importlib.resources", "tempfile")


def test_a_warm_report_of_a_few_prompt_lengths_imports_no_numpy_and_no_input_reader(inputs, tmp_path):
    cache = tmp_path / "cache"
    cold = modules_after_report(inputs, tmp_path / "cold.json", cache, WARM_REPORT_SKIPS)
    assert {"numpy", "symcost.packs.selfspec.inputs"} <= set(cold)  # the probe sees them where they are used
    assert modules_after_report(inputs, tmp_path / "warm.json", cache, WARM_REPORT_SKIPS)[-1:] == ["0"]


def test_a_cold_report_does_import_sympy(inputs, tmp_path):
    """The probe above can fail: it sees SymPy where the closed forms are derived."""
    assert "sympy" in modules_after_report(inputs, tmp_path / "cold.json", tmp_path / "empty")


@pytest.mark.parametrize(
    "command", [["breakeven"], ["breakeven", "--json", "--quantity", "energy"], ["audit", "--format", "markdown"]]
)
def test_remembered_answers_and_audits_equal_uncached_ones(inputs, tmp_path, command):
    model, hardware, stats = inputs
    arguments = [*command, "--model", model, "--hardware", hardware, "--stats", stats]
    uncached = run_cli(*arguments, env={"SYMCOST_NO_CACHE": "1"})
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    cold, warm = run_cli(*arguments, env=cache), run_cli(*arguments, env=cache)
    assert uncached.code == cold.code == warm.code == 0, uncached.stderr + warm.stderr
    assert len(remembered(tmp_path / "cache", f"{command[0]}_*.json")) == 1
    assert uncached.stdout == cold.stdout == warm.stdout and uncached.stdout


def test_a_warm_sensitivity_derives_nothing_and_prints_what_an_uncached_one_does(inputs, tmp_path):
    model, hardware, stats = inputs
    arguments = [
        "sensitivity",
        "--model",
        model,
        "--hardware",
        hardware,
        "--stats",
        stats,
        "--prompt-lengths",
        "128,4096",
    ]
    cache = tmp_path / "cache"
    assert "sympy" in modules_after(arguments, cache)  # the cold run derives (so the probe below can fail)
    assert remembered(cache, "sensitivity_*.json")
    assert modules_after(arguments, cache)[-1:] == ["0"]
    for shown in ([], ["--json"]):
        warm = run_cli(*arguments, *shown, env={"SYMCOST_CACHE_DIR": str(cache)})
        uncached = run_cli(*arguments, *shown, env={"SYMCOST_NO_CACHE": "1"})
        assert warm.code == uncached.code == 0, warm.stderr + uncached.stderr
        assert warm.stdout == uncached.stdout


def test_sensitivities_at_other_prompt_lengths_are_derived_for_them(inputs, tmp_path):
    model, hardware, stats = inputs
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    first, second = (
        run_cli(
            "sensitivity",
            "--model",
            model,
            "--hardware",
            hardware,
            "--stats",
            stats,
            "--json",
            "--prompt-lengths",
            lengths,
            env=cache,
        )
        for lengths in ("128", "128,4096")
    )
    assert first.code == second.code == 0, first.stderr + second.stderr
    assert json.loads(first.stdout)["prompt_lengths"] == [128]
    assert json.loads(second.stdout)["prompt_lengths"] == [128, 4096]


def plot_args(inputs: list[Path], output: Path, *options: str) -> list:
    model, hardware, stats = inputs
    return ["plot", "--model", model, "--hardware", hardware, "--stats", stats, "-o", output, *options]


def test_a_warm_plot_writes_the_bytes_of_a_cold_one_without_matplotlib(inputs, tmp_path):
    cache = tmp_path / "cache"
    assert "matplotlib" in modules_after(plot_args(inputs, tmp_path / "cold.png"), cache)  # the probe can fail
    (kept,) = remembered(cache, "figure.png")
    assert modules_after(plot_args(inputs, tmp_path / "warm.png"), cache)[-1:] == ["0"]
    uncached = run_cli(*plot_args(inputs, tmp_path / "uncached.png"), env={"SYMCOST_NO_CACHE": "1"})
    assert uncached.code == 0, uncached.stderr
    drawn = (tmp_path / "uncached.png").read_bytes()
    assert (tmp_path / "cold.png").read_bytes() == (tmp_path / "warm.png").read_bytes() == kept.read_bytes() == drawn


@pytest.mark.parametrize("options", [("--dpi", "50"), ("--prompt-lengths", "64,4096")])
def test_a_plot_of_other_content_or_resolution_is_drawn_again(inputs, tmp_path, options):
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    first = run_cli(*plot_args(inputs, tmp_path / "first.png"), env=cache)
    second = run_cli(*plot_args(inputs, tmp_path / "second.png", *options), env=cache)
    assert first.code == second.code == 0, first.stderr + second.stderr
    assert len(remembered(tmp_path / "cache", "figure.png")) == 2
    assert (tmp_path / "first.png").read_bytes() != (tmp_path / "second.png").read_bytes()


def test_a_tampered_kept_figure_is_drawn_again(inputs, tmp_path):
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    assert run_cli(*plot_args(inputs, tmp_path / "cold.png"), env=cache).code == 0
    (kept,) = remembered(tmp_path / "cache", "figure.png")
    kept.write_bytes(b"\x89PNG\r\n\x1a\n not what symcost drew")
    warm = run_cli(*plot_args(inputs, tmp_path / "warm.png"), env=cache)
    assert warm.code == 0, warm.stderr
    assert (tmp_path / "warm.png").read_bytes() == (tmp_path / "cold.png").read_bytes() == kept.read_bytes()
