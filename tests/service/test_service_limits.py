"""POST /v1/selfspec/limits over HTTP: the selfspec pack's limits (formulas/selfspec.yaml) for a client's documents.

A real ``symcost serve`` on a loopback port. The expected numbers come from the documents by hand: the
context-capacity limit keeps prompt plus drafted tokens within the hardware's KV-cache capacity.
"""

from __future__ import annotations

import json

import pytest
from service.service_server import Server

SOC = "llama2-7b, SoC, layer-pipelined"  # its hardware limits the context
KNOBS = "tiny model, knob-based hardware"  # no context limit


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("limits") / "db.sqlite", recalibrate_after=1000) as running:
        yield running


@pytest.fixture(scope="module")
def examples(server):
    return server.get("/v1/selfspec/examples")


def with_histogram(documents: dict, counts: list[int]) -> dict:
    stats = {**documents["stats"], "k": len(counts) - 1, "histogram": {str(a): count for a, count in enumerate(counts)}}
    return {**documents, "stats": stats}


def test_the_context_capacity_for_these_documents(server, examples):
    documents = examples[SOC]
    capacity = documents["hardware"]["memory"]["kv_cache"]["max_context_tokens"]
    for counts in ([10, 8, 12, 15, 55], [5, 5, 5, 5, 5, 5, 70]):
        status, answer = server.post("/v1/selfspec/limits", with_histogram(documents, counts))
        assert status == 200, answer
        drafted = len(counts) - 1
        (limit,) = answer["limits"]
        assert limit == {
            "name": "context_capacity",
            "message": limit["message"],
            "expression": "K + L_prompt",
            "maximum": "max_context",
            "applies": True,
            "at_inputs": {"expression": f"L_prompt + {drafted}", "maximum": capacity},
        }
        assert "max_context_tokens" in limit["message"]
        assert answer["pack"] == "selfspec" and answer["prompt_length_max"] == capacity - drafted


def test_a_limit_the_documents_do_not_switch_on(server, examples):
    status, answer = server.post("/v1/selfspec/limits", examples[KNOBS])
    assert status == 200, answer
    assert [(limit["name"], limit["applies"], limit["at_inputs"]) for limit in answer["limits"]] == [
        ("context_capacity", False, None)
    ]
    assert answer["prompt_length_max"] is None


def test_the_served_limit_is_the_one_the_curve_enforces(server, examples):
    documents = examples[SOC]
    longest = server.post("/v1/selfspec/limits", documents)[1]["prompt_length_max"]
    status, _curve = server.post("/v1/selfspec/curve", {**documents, "prompt_lengths": [64, longest]})
    assert status == 200
    status, refused = server.post("/v1/selfspec/curve", {**documents, "prompt_lengths": [64, longest + 1]})
    assert 400 <= status < 500 and "max_context_tokens" in json.dumps(refused)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"model": {}, "hardware": {"library_file": "/etc/passwd"}, "stats": {}}, "library_file"),
        ({"model": {}, "hardware": {}}, "stats"),
    ],
)
def test_bad_documents_get_a_clear_4xx(server, body, words):
    status, answer = server.post("/v1/selfspec/limits", body)
    assert 400 <= status < 500 and words in json.dumps(answer) and "Traceback" not in json.dumps(answer)
