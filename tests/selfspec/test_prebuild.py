"""prebuild: the missing cost models of a command compiled side by side into the evaluator cache."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES

from symcost.packs.selfspec import prebuild as prebuild_module
from symcost.packs.selfspec.model import build_model, recipe_of
from symcost.packs.selfspec.prebuild import prebuild


@pytest.fixture
def requests(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOST_CACHE_DIR", str(tmp_path / "cache"))
    stats, hardware = EXAMPLES / "stats_k4.yaml", EXAMPLES / "hardware_knobs.yaml"
    return [
        {"model_path": EXAMPLES / name, "hardware_path": hardware, "stats_path": stats}
        for name in ("model_tiny.yaml", "model_llama3_2_1b.yaml", "model_tiny.yaml")
    ]


def _stored(request) -> bool:
    return recipe_of(**request).cache_entry().exists()


def test_missing_models_are_built_into_the_cache_once_each(requests, monkeypatch):
    monkeypatch.setattr(prebuild_module, "cores", lambda: 4)
    assert not any(map(_stored, requests))
    assert prebuild(requests) == 2  # two distinct models
    assert all(map(_stored, requests))
    assert prebuild(requests) == 0  # all cached: nothing to do


def test_the_models_it_stored_evaluate_as_a_build_in_the_process(requests, monkeypatch):
    monkeypatch.setattr(prebuild_module, "cores", lambda: 2)
    prebuild(requests)
    loaded = build_model(**requests[1]).evaluate(L_prompt=[128.0, 4096.0])
    monkeypatch.setenv("SYMCOST_NO_CACHE", "1")
    built = build_model(**requests[1]).evaluate(L_prompt=[128.0, 4096.0])
    assert json.dumps({k: v.tolist() for k, v in loaded.items()}) == json.dumps(
        {k: v.tolist() for k, v in built.items()}
    )


def test_one_core_or_one_model_builds_nothing_here(requests, monkeypatch):
    monkeypatch.setattr(prebuild_module, "cores", lambda: 1)
    assert prebuild(requests) == 0
    monkeypatch.setattr(prebuild_module, "cores", lambda: 4)
    assert prebuild(requests[:1]) == 0
    assert not any(map(_stored, requests))


def test_a_request_that_fails_is_left_to_the_command(requests, monkeypatch, tmp_path):
    monkeypatch.setattr(prebuild_module, "cores", lambda: 2)
    broken = tmp_path / "broken.yaml"
    broken.write_text("layers: [unclosed\n")
    bad = {**requests[0], "model_path": broken}
    assert prebuild([bad, requests[1]]) == 2
    assert _stored(requests[1])
    with pytest.raises(Exception, match="broken.yaml"):
        build_model(**bad)
