"""The llm pack's compiled functions come from the evaluator cache once stored: no SymPy code generation,
the same numbers as a build that generates them."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import sympy as sp
from conftest import run_cli

from symcost import units
from symcost.errors import InputError
from symcost.packs.llm import analytic
from symcost.packs.llm.catalog import catalog, read_catalog
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload
from symcost.units import parse_unit

SCENARIO = Scenario(
    catalog("models").get("mixtral-8x7b"),
    catalog("hardware").get("rtx-4090"),
    catalog("runtimes").get("llama.cpp"),
    catalog("quantizations").get("q4_k_m"),
    Workload(700, 90, 3),
    ParallelLayout(),
)


def fresh_model():
    analytic._analytic_model.cache_clear()
    return analytic.analytic_model()


def test_a_stored_evaluator_is_loaded_without_generating_code(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    try:
        built = fresh_model()
        values = built.scenario_values(SCENARIO)
        expected_scalar, expected_array = built.evaluate(values), built.evaluator(**values)
        assert len(list(tmp_path.glob("*/*/evaluator.py"))) == 2  # the array evaluator and the one-scenario function
        with (
            mock.patch.object(analytic, "compile_outputs", side_effect=AssertionError("generated the evaluator")),
            mock.patch.object(sp, "lambdify", side_effect=AssertionError("generated code")),
        ):
            loaded = fresh_model()
            scalar, array = loaded.evaluate(values), loaded.evaluator(**values)
    finally:
        analytic._analytic_model.cache_clear()
    assert scalar.keys() == expected_scalar.keys()
    for name in expected_scalar:  # bit for bit
        assert np.array_equal(scalar[name], expected_scalar[name], equal_nan=True), name
        assert np.array_equal(array[name], expected_array[name], equal_nan=True), name


def test_a_warm_estimate_answers_what_a_cold_one_does(tmp_path):
    arguments = (
        "llm",
        "estimate",
        "--model",
        "qwen3-30b-a3b",
        "--hardware",
        "apple-m3-max-64gb",
        "--calibration",
        "packaged",
        "--format",
        "json",
    )
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    cold = run_cli(*arguments, env=cache)
    warm = run_cli(*arguments, env=cache)
    uncached = run_cli(*arguments, env={"SYMCOST_NO_CACHE": "1"})
    assert cold.code == warm.code == uncached.code == 0, cold.stderr + warm.stderr + uncached.stderr
    assert len(list((tmp_path / "cache").glob("*/*/evaluator.py"))) == 2
    assert warm.stdout == cold.stdout == uncached.stdout


PROBE = """
import sys
from symcost.cli import main
code = main(sys.argv[1:])
print(code, *sorted(name for name in ("pint", "jsonschema") if name in sys.modules))
"""


def modules_after_estimate(cache) -> list[str]:
    """The exit code and which of pint and jsonschema ``llm estimate`` loaded, in a fresh interpreter."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            "llm",
            "estimate",
            "--model",
            "llama-3.1-8b",
            "--hardware",
            "rtx-4090",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SYMCOST_CACHE_DIR": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-3:]


def test_a_warm_estimate_imports_neither_pint_nor_jsonschema(tmp_path):
    cold = modules_after_estimate(tmp_path / "cache")
    assert "jsonschema" in cold  # the probe can fail: a cold run checks schemas (pint: only for uncommon units)
    assert modules_after_estimate(tmp_path / "cache")[-1] == "0"


def test_a_catalog_is_read_from_its_remembered_json_once_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    path = Path(resources.files("symcost.catalogs").joinpath("hardware.yaml"))
    checked = read_catalog("hardware", path)
    with mock.patch("symcost.checked.checked_document", side_effect=AssertionError("parsed the YAML again")):
        remembered = read_catalog("hardware", path)
    assert [entry.data for entry in remembered.entries] == [entry.data for entry in checked.entries]
    assert remembered.get("rtx-4090").data == checked.get("rtx-4090").data


def test_a_changed_catalog_is_checked_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "hardware.yaml"
    path.write_text(Path(resources.files("symcost.catalogs").joinpath("hardware.yaml")).read_text())
    read_catalog("hardware", path)
    path.write_text(path.read_text() + "\nextra: field\n")
    with pytest.raises(InputError):
        read_catalog("hardware", path)  # the schema refuses the new top-level field: it was checked


@pytest.mark.parametrize("text", ["GB", "GB/s", "pJ", "mm^2", "kbit", "ms"])
def test_a_remembered_unit_is_the_unit_pint_gives(text, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    parse_unit.cache_clear()
    stored = parse_unit(text)
    parse_unit.cache_clear()
    with mock.patch.object(units, "_registry", side_effect=AssertionError("asked pint")):
        remembered = parse_unit(text)
    parse_unit.cache_clear()
    assert remembered == stored == units.Unit(text, *units._pint_unit(text))


def test_an_unknown_unit_is_refused_every_time_and_never_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    for _ in range(2):
        parse_unit.cache_clear()
        with pytest.raises(ValueError, match="unknown unit"):
            parse_unit("furlongs_per_fortnight")
    parse_unit.cache_clear()
    assert not list(tmp_path.glob("*/*/unit_*.json"))
