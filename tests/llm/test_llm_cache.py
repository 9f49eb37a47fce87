"""The llm pack's compiled functions come from the evaluator cache once stored: no SymPy code generation,
the same numbers as a build that generates them."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from importlib import resources
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import sympy as sp
from conftest import run_cli

from symcost import units
from symcost.errors import InputError, SymcostError
from symcost.packs.llm import analytic
from symcost.packs.llm.backends import supported_backends
from symcost.packs.llm.catalog import catalog, read_catalog
from symcost.packs.llm.requests import packaged_bundle
from symcost.packs.llm.scenario import ParallelLayout, Scenario, Workload, layout_problems
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
    analytic._chain.cache_clear()
    return analytic.analytic_model()


def test_a_stored_evaluator_is_loaded_without_generating_code(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    try:
        built = fresh_model()
        values = built.scenario_values(SCENARIO)
        expected_scalar, expected_array = built.evaluate(values), built.evaluator(**values)
        assert len(list(tmp_path.glob("*/*/evaluator.py"))) == 2  # the array evaluator and the one-scenario function
        with (
            mock.patch("symcost.compile.compile_outputs", side_effect=AssertionError("generated the evaluator")),
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


def test_the_pack_symbols_are_kept_and_a_tampered_copy_is_built_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path))
    try:
        built = fresh_model().symbols
        with mock.patch("symcost.pack.load_pack", side_effect=AssertionError("parsed the pack")):
            kept = fresh_model().symbols
        (path,) = tmp_path.glob("*/*/symbols.json")
        path.write_text(path.read_text().replace('"B/s"', '"GB/s"'))
        tampered = fresh_model().symbols
    finally:
        fresh_model()
    assert kept == built
    assert tampered == built
    assert '"GB/s"' not in path.read_text()  # written again


PROBE = """
import sys
from symcost.cli import main
code = main(sys.argv[1:])
print(code, *sorted(name for name in ("pint", "jsonschema", "sympy") if name in sys.modules))
"""


def modules_after_estimate(cache) -> list[str]:
    """The exit code and which of pint, jsonschema and SymPy ``llm estimate`` loaded, in a fresh interpreter."""
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
    return done.stdout.splitlines()[-1].split()


def test_a_warm_estimate_imports_neither_sympy_nor_pint_nor_jsonschema(tmp_path):
    # The probe can fail: a cold run checks schemas and parses the pack into SymPy (pint: only for uncommon units).
    assert modules_after_estimate(tmp_path / "cache") == ["0", "jsonschema", "sympy"]
    assert modules_after_estimate(tmp_path / "cache") == ["0"]


# A scenario of each kind the binder treats differently: weights offloaded to host RAM, tensor and
# pipeline parallelism, a runtime's multi-device mode, a runtime without measured runs (uncalibrated),
# a unified-memory machine, a CPU-only server, a MoE model with its own context window.
ESTIMATES = [
    ("--model", "llama-3.1-70b", "--hardware", "rtx-4090", "--offload", "auto"),
    ("--model", "llama-3.1-70b", "--hardware", "2x-a100-sxm-40gb", "--runtime", "vllm", "--tp", "2"),
    ("--model", "qwen2.5-32b", "--hardware", "2x-rtx-3090", "--devices", "2", "--split-mode", "row"),
    ("--model", "mistral-7b-v0.3", "--hardware", "rtx-3090", "--runtime", "exllamav2", "--concurrency", "4"),
    ("--model", "qwen3-30b-a3b", "--hardware", "apple-m3-max-64gb", "--runtime", "mlx", "--context-window", "9000"),
    ("--model", "llama-3.1-8b", "--hardware", "2x-epyc-9654", "--offload", "none", "--prompt-tokens", "3000"),
]


@pytest.mark.parametrize("scenario", ESTIMATES, ids=lambda arguments: "-".join(arguments[1:4:2]))
def test_a_warm_estimate_prints_what_a_cold_one_does(scenario, tmp_path):
    arguments = ("llm", "estimate", *scenario, "--calibration", "packaged", "--format", "json")
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    cold, warm = run_cli(*arguments, env=cache), run_cli(*arguments, env=cache)
    assert cold.code == warm.code == 0, cold.stderr + warm.stderr
    assert warm.stdout == cold.stdout
    assert json.loads(warm.stdout)["estimates"]["decode_toks_sec"]["p50"] > 0


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


def catalog_scenario(index: int) -> Scenario:
    """The index-th of a sweep that takes every model and hardware entry, with a runtime that runs on it, a
    format the runtime runs, varied workloads and layouts, and half of them the packaged coefficients."""
    models, machines, runtimes, formats = (
        list(catalog(kind)) for kind in ("models", "hardware", "runtimes", "quantizations")
    )
    model, hardware = models[index % len(models)], machines[index % len(machines)]
    runtime = next(
        runtime for runtime in runtimes[index % len(runtimes) :] + runtimes if supported_backends(runtime, hardware)
    )
    runs = [entry for entry in formats if entry.id in (runtime.get("supported_quant") or [entry.id])]
    workload = Workload(
        64 + 997 * index,
        1 + 31 * index,
        1 + index % 5,
        depth_tokens=(0, 4096)[index % 2],
        decode_start_tokens=(None, 2000)[index % 3 == 0],
        context_alloc=(None, 8192)[index % 4 == 0],
        saturate=index % 7 == 0,
    )
    offload = ("auto", "none", "full")[index % 3]
    parallel = [(2, 1), (1, 2)][index % 2 :] + [(2, 1), (1, 2), (1, 1)]  # parallel where the machine allows
    layouts = [ParallelLayout(tp, pp, offload) for tp, pp in parallel]
    scenarios = [Scenario(model, hardware, runtime, runs[index % len(runs)], workload, layout) for layout in layouts]
    scenario = next(scenario for scenario in scenarios if not layout_problems(scenario))
    return scenario.with_(coefficients=packaged_bundle().coefficients_for(scenario)) if index % 2 else scenario


@pytest.mark.parametrize("index", range(40))
def test_the_warm_binder_gives_the_exact_binders_numbers_bit_for_bit(index):
    model, scenario = analytic.analytic_model(), catalog_scenario(index)
    try:
        exact = model.bind_exact(scenario)
    except SymcostError as error:  # a layout or machine the model cannot take: refused alike
        with pytest.raises(type(error)) as refused:
            model.bind(scenario)
        assert str(refused.value) == str(error)
        return
    warm = model.bind(scenario)
    derived = [spec.name for spec in model.pack.symbols.values() if spec.definition is not None]
    for name in [symbol.name for symbol in exact.values] + derived:
        expected, found = exact.number(name), warm.number(name)
        assert found == expected or (math.isnan(found) and math.isnan(expected)), (name, found, expected)
    assert warm.bound.keys() == {symbol.name for symbol in exact.bound}


def test_the_warm_binder_refuses_what_the_exact_one_refuses():
    model = analytic.analytic_model()
    cpu = catalog("hardware").get("2x-epyc-9654")
    without_rate = replace(
        cpu, data={**cpu.data, "cpu": {k: v for k, v in cpu.data["cpu"].items() if k != "fp16_tflops"}}
    )
    scenario = SCENARIO.with_(hardware=without_rate)
    with pytest.raises(InputError) as exact:
        model.bind_exact(scenario)
    with pytest.raises(InputError) as warm:
        model.bind(scenario)
    assert str(warm.value) == str(exact.value)
    assert "fp16_tflops" in str(warm.value)


def test_a_warm_estimate_names_the_input_behind_a_figure_that_is_not_finite(tmp_path):
    hardware = json.loads(json.dumps(catalog("hardware").get("rtx-4090").data))
    hardware.pop("aliases", None)
    hardware["hardware_id"] = "crawling-gpu"
    hardware["gpus"][0]["mem_bw_gbps"] = 1e-310
    path = tmp_path / "crawling.json"
    path.write_text(json.dumps(hardware))
    arguments = ("llm", "estimate", "--model", "llama-3.1-8b", "--hardware-file", path, "--recommend", "0")
    cache = {"SYMCOST_CACHE_DIR": str(tmp_path / "cache")}
    cold, warm = run_cli(*arguments, env=cache), run_cli(*arguments, env=cache)
    assert cold.code == warm.code == 2
    assert warm.stderr == cold.stderr
    assert "is inf" in warm.stderr and "hardware.gpus.0.mem_bw_gbps" in warm.stderr and "1e-310 GB/s" in warm.stderr
