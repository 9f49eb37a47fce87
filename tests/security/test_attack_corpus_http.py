"""The hostile-input corpus over HTTP, against one real ``symcost serve`` on loopback.

Every case must be answered with a 4xx (or a 503 for work over its budget) in
the documented shape ``{"error", "issues"}`` with one-line messages, store
nothing (the calibration store keeps its record count), and leave no
evaluator in the cache for what was refused before compiling. After the
corpus, an ordinary request still answers. tests/service/test_service_isolation.py
covers budgets, dead workers and body limits; this file walks the issue's
attacks through the endpoints that take documents.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from service.service_server import Server

from symcost.documents import load_document

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TINY = {
    role: load_document(EXAMPLES / name).data
    for role, name in (("model", "model_tiny.yaml"), ("hardware", "hardware_knobs.yaml"), ("stats", "stats_k4.yaml"))
}
RECORD = {
    "model_id": "llama-3-8b",
    "runtime_id": "llama.cpp",
    "hardware_id": "rtx-4090",
    "quant": "q4_k_m",
    "context_tokens": 512,
    "output_tokens": 128,
    "metrics": {"decode_toks_sec": 120.0},
}
ESTIMATE = {"model_id": "llama-3.1-8b", "hardware": {"hardware_id": "rtx-4090"}, "recommend": 0}


@dataclass(frozen=True)
class Attack:
    id: str
    path: str
    body: dict | None = None
    raw: bytes | None = None
    status: int = 422
    words: str = ""


def tiny(**changes) -> dict:
    """The tiny example's documents with ``changes`` ({'hardware.soc.control.energy_pj_per_token': value})."""
    documents = json.loads(json.dumps(TINY))
    for dotted, value in changes.items():
        role, *parents, leaf = dotted.split(".")
        node = documents[role]
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return {**documents, "prompt_lengths": [128]}


def record(**metrics) -> dict:
    return {**RECORD, "metrics": metrics}


def raw(text: str) -> bytes:
    return text.encode()


CONTROL = "hardware.soc.control.energy_pj_per_token"
ATTACKS = [
    Attack(
        "unit-power-tower", "/v1/selfspec/report", tiny(**{CONTROL: "1 J**9**9**9"}), words="a power may be given once"
    ),
    Attack("unit-huge-power", "/v1/selfspec/report", tiny(**{CONTROL: "1 J**99999"}), words="small integer power"),
    Attack(
        "unit-injection",
        "/v1/selfspec/curve",
        {**tiny(**{CONTROL: "1 J;__import__('os')"}), "prompt_lengths": [1, 2]},
        words="is not part of a unit",
    ),
    Attack(
        "unit-in-record",
        "/v1/calibrate",
        {**RECORD, "metrics": {"vram_peak_gb": "1 GB**9**9"}},
        words="a power may be given once",
    ),
    Attack("stats-k-1e7", "/v1/selfspec/report", tiny(**{"stats.k": 10_000_000}), words="expected integer <= 256"),
    Attack(
        "histogram-too-long",
        "/v1/selfspec/report",
        tiny(**{"stats.k": 4, "stats.histogram": {str(a): 1 for a in range(300)}}),
        words="histogram",
    ),
    Attack("layers-1e12", "/v1/selfspec/report", tiny(**{"model.n_layers": 10**12}), words="expected integer <= 4096"),
    Attack(
        "integer-beyond-2-53",
        "/v1/selfspec/report",
        tiny(**{"model.d_model": 2**60}),
        words="expected a number within +-9007199254740992",
    ),
    Attack(
        "layers-above-limit",
        "/v1/selfspec/report",
        tiny(**{"model.n_layers": 100_000}),
        words="expected integer <= 4096",
    ),
    Attack("prompt-length-huge", "/v1/selfspec/report", {**tiny(), "prompt_lengths": [10**12]}, words="prompt_lengths"),
    Attack(
        "prompt-lengths-many",
        "/v1/selfspec/curve",
        {**tiny(), "prompt_lengths": list(range(1, 2000))},
        words="prompt_lengths",
    ),
    Attack(
        "library-file",
        "/v1/selfspec/report",
        tiny(**{"hardware.library_file": "/etc/passwd"}),
        status=400,
        words="the service does not read files",
    ),
    Attack(
        "subnormal-bandwidth",
        "/v1/selfspec/report",
        tiny(**{"hardware.memory": {"hbm": {"read_bandwidth_GBps": 1e-320, "write_bandwidth_GBps": 1}}}),
        words="speculative.latency_per_token is inf at L_prompt = 128: it is driven by",
    ),
    Attack("duplicate-key-json", "/v1/calibrate", raw=raw('{"model_id": "a", "model_id": "b"}'), words="twice"),
    Attack("nan-metric", "/v1/calibrate", raw=raw(json.dumps(RECORD).replace("120.0", "NaN")), words="finite"),
    Attack("infinite-metric", "/v1/calibrate", raw=raw(json.dumps(RECORD).replace("120.0", "1e999")), words="finite"),
    Attack("zero-metric", "/v1/calibrate", record(decode_toks_sec=0), words="decode_toks_sec"),
    Attack(
        "huge-integer",
        "/v1/estimate",
        raw=raw(json.dumps(ESTIMATE).replace('"recommend": 0', '"recommend": ' + "9" * 5000)),
        words="4300 digits",
    ),
    Attack("deep-json", "/v1/solve", raw=raw('{"model_ids": ' + "[" * 5000 + "]" * 5000 + "}"), words="nested deeper"),
    Attack("nul-character", "/v1/estimate", raw=raw(json.dumps(ESTIMATE)[:-1] + ', "x": "\\u0000"}')),
    Attack(
        "workload-huge", "/v1/estimate", {**ESTIMATE, "workload": {"context_tokens": 10**12}}, words="context_tokens"
    ),
    Attack(
        "tensor-parallel-huge",
        "/v1/estimate",
        {**ESTIMATE, "parallelism": {"tensor_parallel": 10**6}},
        words="tensor_parallel",
    ),
    Attack(
        "solve-grid-lists",
        "/v1/solve",
        {"model_ids": ["llama-3.1-8b"], "context_caps": [4096] * 100},
        words="context_caps",
    ),
    Attack("unknown-field", "/v1/estimate", {**ESTIMATE, "__class__": 1}, words="__class__"),
    Attack("oversize-body", "/v1/calibrate", raw=b'{"x": "' + b"a" * 300_000 + b'"}', status=413, words="larger than"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-corpus")
    with Server(folder / "store.sqlite", env={"SYMCOST_CACHE_DIR": str(folder / "cache")}) as running:
        running.cache = folder / "cache"
        running.durations = {}
        yield running
        slowest = max(running.durations.items(), key=lambda item: item[1], default=None)
        print(f"\nHTTP corpus: {len(running.durations)} cases, slowest {slowest}")


@pytest.mark.parametrize("attack", ATTACKS, ids=[attack.id for attack in ATTACKS])
def test_attack_is_refused_in_the_documented_shape(server, attack):
    records_before = server.get("/v1/calibrate")["records"]
    started = time.monotonic()
    status, body = server.request("POST", attack.path, body=attack.body, raw=attack.raw, timeout=60)
    elapsed = time.monotonic() - started
    assert status == attack.status, (status, body)
    assert isinstance(body, dict) and set(body) == {"error", "issues"}, body
    assert all("\n" not in line for line in [body["error"], *map(str, body["issues"])]), body
    assert attack.words in json.dumps(body), body
    assert "Traceback" not in json.dumps(body) and str(Path.home()) not in json.dumps(body)
    assert server.get("/v1/calibrate")["records"] == records_before, "an invalid record was stored"
    server.durations[attack.id] = elapsed


def test_nothing_was_compiled_for_refused_documents_and_the_server_still_answers(server):
    status, body = server.post("/v1/estimate", ESTIMATE)
    assert status == 200 and body["estimates"]["decode_toks_sec"]["p50"] > 0
    # only the subnormal-bandwidth case compiles (its documents are valid; the result is refused), beside the
    # llm pack's two functions, compiled when the server starts and keyed by the pack alone, never by a request
    entries = list(server.cache.rglob("evaluator.py")) if server.cache.exists() else []
    assert len(entries) <= 1 + 2, entries


def test_corpus_covers_every_endpoint_that_takes_a_body():
    assert {attack.path for attack in ATTACKS} == {
        "/v1/selfspec/report",
        "/v1/selfspec/curve",
        "/v1/calibrate",
        "/v1/estimate",
        "/v1/solve",
    }
