"""The llm pack's compiled functions come from the evaluator cache once stored: no SymPy code generation,
the same numbers as a build that generates them."""
from __future__ import annotations

from unittest import mock

import numpy as np
import sympy as sp

from conftest import run_cli
from symcost.packs.llm import analytic
from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload

SCENARIO = Scenario(catalog("models").get("mixtral-8x7b"), catalog("hardware").get("rtx-4090"),
                    catalog("runtimes").get("llama.cpp"), catalog("quantizations").get("q4_k_m"), Workload(700, 90, 3),
                    ParallelLayout())


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
        with mock.patch.object(analytic, "compile_outputs", side_effect=AssertionError("generated the evaluator")), \
                mock.patch.object(sp, "lambdify", side_effect=AssertionError("generated code")):
            loaded = fresh_model()
            scalar, array = loaded.evaluate(values), loaded.evaluator(**values)
    finally:
        analytic._analytic_model.cache_clear()
    assert scalar.keys() == expected_scalar.keys()
    for name in expected_scalar:  # bit for bit
        assert np.array_equal(scalar[name], expected_scalar[name], equal_nan=True), name
        assert np.array_equal(array[name], expected_array[name], equal_nan=True), name


def test_a_warm_estimate_answers_what_a_cold_one_does(tmp_path):
    arguments = ("llm", "estimate", "--model", "qwen3-30b-a3b", "--hardware", "apple-m3-max-64gb", "--calibration",
                 "packaged", "--format", "json")
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    cold = run_cli(*arguments, env=cache)
    warm = run_cli(*arguments, env=cache)
    uncached = run_cli(*arguments, env={"SYMCOST_NO_CACHE": "1"})
    assert cold.code == warm.code == uncached.code == 0, cold.stderr + warm.stderr + uncached.stderr
    assert len(list((tmp_path / "cache").glob("*/*/evaluator.py"))) == 2
    assert warm.stdout == cold.stdout == uncached.stdout
