"""The on-disk evaluator cache: a second build skips SymPy and gives the same numbers."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import EXAMPLES
from symcost import build_model
from symcost.cache import Entry

INPUTS = ("model_tiny.yaml", "hardware_soc_pipelined.yaml", "stats_k4.yaml")
LENGTHS = np.array([1.0, 100.0, 5000.0])


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def inputs(tmp_path):
    """Copies of the example inputs, so a test can change one."""
    copies = []
    for name in INPUTS:
        shutil.copy(EXAMPLES / name, tmp_path / name)
        copies.append(tmp_path / name)
    return copies


def test_second_build_loads_the_generated_source_without_sympy(cache_dir, inputs):
    cold = build_model(*inputs)
    assert (cold.cache.directory / "evaluator.py").is_file()
    warm = build_model(*inputs)
    assert "symbolic" not in warm.__dict__  # nothing symbolic was derived
    cold_results, warm_results = cold.evaluate(L_prompt=LENGTHS), warm.evaluate(L_prompt=LENGTHS)
    assert cold_results.keys() == warm_results.keys()
    for name in cold_results:
        np.testing.assert_array_equal(cold_results[name], warm_results[name])
    # The closed forms are still there on demand, matching the cached evaluator's outputs.
    assert list(warm.outputs) == list(warm.evaluator.names)


def test_a_changed_input_misses_the_cache(cache_dir, inputs):
    first = build_model(*inputs)
    hardware = inputs[1]
    hardware.write_text(hardware.read_text() + "\n# a comment changes the bytes\n")
    second = build_model(*inputs)
    assert second.cache.directory != first.cache.directory
    assert "symbolic" in second.__dict__


def test_kept_coefficients_are_part_of_the_key(cache_dir, inputs):
    plain = build_model(*inputs)
    kept = build_model(*inputs, keep=["e_AD"])
    assert plain.cache.directory != kept.cache.directory and "e_AD" in kept.evaluator.input_names


def test_a_damaged_entry_is_rebuilt(cache_dir, inputs):
    first = build_model(*inputs)
    (first.cache.directory / "meta.json").write_text("{not json")
    again = build_model(*inputs)
    assert "symbolic" in again.__dict__
    json.loads((again.cache.directory / "meta.json").read_text())  # rewritten whole


def test_remembered_results_are_computed_once(cache_dir, inputs):
    model = build_model(*inputs)
    calls = []
    assert model.remember("answer", lambda: calls.append(1) or {"x": 1}) == {"x": 1}
    assert build_model(*inputs).remember("answer", lambda: calls.append(1) or {"x": 2}) == {"x": 1}
    assert calls == [1]


def test_functions_using_names_outside_numpy_are_not_stored(tmp_path):
    def uses_a_builtin(x):
        return len(x)
    assert not Entry(tmp_path / "entry").store(uses_a_builtin, "def uses_a_builtin(x):\n    return len(x)\n", {})
    assert not (tmp_path / "entry").exists()


def test_cache_can_be_switched_off(monkeypatch, inputs):
    monkeypatch.setenv("SYMCOST_NO_CACHE", "1")
    assert build_model(*inputs).cache is None


def test_closed_form_answers_from_a_warm_model_equal_the_cold_ones(cache_dir, inputs):
    # A cached evaluator's input symbols carry no assumptions; closed-form work must match by name.
    from symcost.breakeven import find_break_even, prompt_domain
    cold = build_model(*inputs)
    warm = build_model(*inputs)
    assert prompt_domain(warm) == prompt_domain(cold) == (0, 32764)
    cold_answers, warm_answers = find_break_even(cold), find_break_even(warm)
    assert {c: {q: a.as_json() for q, a in by.items()} for c, by in cold_answers.items()} == \
        {c: {q: a.as_json() for q, a in by.items()} for c, by in warm_answers.items()}


def test_outputs_are_independent_arrays(cache_dir, inputs):
    model = build_model(*inputs)
    lengths = LENGTHS.copy()
    results = model.evaluate(L_prompt=lengths)
    arrays = list(results.values())
    assert all(array.flags.writeable and array.shape == lengths.shape for array in arrays)
    assert len({id(array) for array in arrays}) == len(arrays)
    assert not any(np.shares_memory(array, lengths) for array in arrays)
