"""The HTTP service as a client sees it: a real ``symcost serve`` on a loopback port."""

from __future__ import annotations

import http.client
import json
import select
import sqlite3
import threading
import time

import pytest
from conftest import ROOT
from service.service_server import Server

from symcost.packs.llm.catalog import catalog
from symcost.packs.llm.estimate import estimate
from symcost.packs.llm.records import records_from_csv
from symcost.packs.llm.requests import packaged_bundle, scenario_from_request

CSV = ROOT / "data" / "llm_bench_calibration.csv"
ESTIMATE = {
    "model_id": "llama-3.1-8b",
    "hardware": {"hardware_id": "rtx-4090"},
    "workload": {"context_tokens": 1024, "output_tokens": 256, "concurrency": 4},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("service") / "db.sqlite", recalibrate_after=1000) as running:
        yield running


def csv_records() -> list[dict]:
    return [record.data for record in records_from_csv(CSV)]


def test_the_server_says_where_it_listens_and_logs_no_request_by_default(server):
    assert select.select([server.process.stderr], [], [], 30)[0], "nothing on stderr"  # not a hang
    assert server.process.stderr.readline().decode() == (
        f"symcost: serving on {server.url} (web UI at /, API description at /openapi.json; Ctrl+C stops)\n"
    )
    server.get("/v1/calibrate")
    assert server.stdout_path.read_text() == ""


def test_healthz_is_ok_and_in_the_openapi_document(server):
    assert server.get("/healthz") == {"status": "ok"}
    answer = server.get("/openapi.json")["paths"]["/healthz"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}


def test_the_page_links_the_openapi_document(server):
    assert '<a href="/openapi.json">' in server.get("/")


def test_access_log_prints_one_line_per_request(tmp_path):
    with Server(tmp_path / "db.sqlite", options=["--workers", "1", "--access-log"]) as logging_server:
        logging_server.get("/v1/calibrate")
    # the server has stopped: every line it logged is in the file
    assert '"GET /v1/calibrate HTTP/1.1" 200' in logging_server.stdout_path.read_text()


def test_estimate_is_the_libraries_answer(server):
    status, body = server.post("/v1/estimate", ESTIMATE)
    assert status == 200
    expected = estimate(scenario_from_request(ESTIMATE), packaged_bundle())
    assert body["feasibility"] == expected["feasibility"] == "in_vram"
    assert body["estimates"] == json.loads(json.dumps(expected["estimates"]))
    band = body["estimates"]["decode_toks_sec"]
    assert band["p10"] < band["p50"] < band["p90"]
    assert set(body) >= {"feasibility", "estimates", "bottlenecks", "recommended_configs", "explanations"}
    assert len(body["recommended_configs"]) == 3


def test_offload_and_insufficient_memory_classes(server):
    big = {**ESTIMATE, "model_id": "llama-3.1-70b", "workload": {"context_tokens": 2048, "output_tokens": 128}}
    assert server.post("/v1/estimate", big)[1]["feasibility"] == "with_offload"
    status, body = server.post("/v1/estimate", {**big, "offload": "none"})
    assert status == 200 and body["feasibility"] == "insufficient_memory" and "vram_capacity" in body["bottlenecks"]


def test_solve_returns_ranked_feasible_configurations(server):
    status, body = server.post("/v1/solve", {"model_ids": ["llama-3.1-70b"], "min_decode_tps": 10, "top": 3})
    assert status == 200 and body["objective"] == "min_hardware"
    assert body["candidates"] >= body["evaluated"] >= body["feasible"] > 0
    prices = [row["price_usd"] for row in body["top"]]
    assert prices == sorted(prices) and len({row["hardware_id"] for row in body["top"]}) == 3
    assert all(
        row["expected_decode_toks_sec"] >= 10 and row["feasibility"] != "insufficient_memory" for row in body["top"]
    )


@pytest.mark.parametrize(
    "kind, entries",
    [
        ("models", "models"),
        ("runtimes", "runtimes"),
        ("quantizations", "quantizations"),
        ("hardware-profiles", "hardware"),
    ],
)
def test_catalog_endpoints(server, kind, entries):
    body = server.get(f"/v1/catalog/{kind}")
    assert [entry[next(k for k in entry if k.endswith("_id"))] for entry in body] == catalog(entries).ids()
    assert not any(entry.get("fixture") for entry in body)  # test-13b, a calibration fixture, is not offered


def test_selfspec_report_and_curve(server):
    examples = server.get("/v1/selfspec/examples")
    documents = examples["tiny model, knob-based hardware"]
    status, report = server.post("/v1/selfspec/report", {**documents, "prompt_lengths": [128, 1024]})
    assert status == 200 and [point["L_prompt"] for point in report["points"]] == [128, 1024]
    assert "break_even" in report and "coefficients" in report
    status, curve = server.post("/v1/selfspec/curve", {**documents, "prompt_lengths": [64, 512, 4096]})
    assert status == 200 and curve["prompt_lengths"] == [64, 512, 4096]
    assert all(len(values) == 3 for values in curve["curves"].values())
    assert set(curve["break_even"]) == {"energy", "latency"}


@pytest.mark.parametrize(
    "path, body, status, words",
    [
        ("/v1/estimate", {**ESTIMATE, "model_id": "lama-3.1-8b"}, 400, "did you mean llama-3.1-8b"),
        ("/v1/estimate", {**ESTIMATE, "workload": {"context_tokens": -5}}, 422, "greater than or equal to 0"),
        ("/v1/estimate", {**ESTIMATE, "parallelism": {"tensor_parallel": 3}}, 400, "does not divide"),
        ("/v1/estimate", {**ESTIMATE, "surprise": 1}, 422, "surprise"),
        ("/v1/solve", {"model_ids": []}, 422, "model_ids"),
        (
            "/v1/solve",
            {
                "model_ids": catalog("models").ids()[:8],
                "concurrency": list(range(1, 17)),
                "context_caps": [2**k for k in range(10, 18)],
            },
            400,
            "candidates is more than",
        ),
        ("/v1/calibrate", {"model_id": "llama-3-8b"}, 422, "required"),
        (
            "/v1/selfspec/report",
            {"model": {}, "hardware": {"library_file": "/etc/passwd"}, "stats": {}},
            400,
            "library_file",
        ),
    ],
)
def test_bad_requests_get_clear_4xx_errors(server, path, body, status, words):
    got, answer = server.post(path, body)
    assert got == status, answer
    text = json.dumps(answer)
    assert words in text and "Traceback" not in text


def test_unknown_catalog_and_asset(server):
    status, body = server.request("GET", "/v1/catalog/gpus")
    assert status == 422 and "hardware-profiles" in json.dumps(body)
    assert server.request("GET", "/static/secret.py")[0] == 404


def test_records_with_prompts_are_refused(server):
    record = {**csv_records()[0], "run_id": "with-prompt", "prompt": "tell me a secret"}
    status, body = server.post("/v1/calibrate", record)
    assert status == 422 and "prompt" in json.dumps(body)


def test_oversized_bodies_are_refused_before_reading(server):
    status, body = server.request("POST", "/v1/estimate", raw=b"{" + b" " * (300 * 1024) + b"}")
    assert status == 413 and "larger than" in body["error"]


def test_concurrent_clients_all_get_answers(server):
    results, errors = [], []

    def client(index: int) -> None:
        for repeat in range(10):
            body = {**ESTIMATE, "workload": {"context_tokens": 256 * (index + 1), "output_tokens": 64 + repeat}}
            try:
                results.append(server.post("/v1/estimate", body)[0])
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    threads = [threading.Thread(target=client, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and results == [200] * 80


def test_host_identifiers_are_stored_hashed(tmp_path):
    record = {**csv_records()[0], "run_id": "hashed-host", "host_id": "lab-box-17.example.org"}
    with Server(tmp_path / "db.sqlite") as server:
        status, body = server.post("/v1/calibrate", record)
        assert status == 202 and body["stored"]
    stored = sqlite3.connect(tmp_path / "db.sqlite").execute("SELECT record FROM runs").fetchone()[0]
    assert "lab-box-17" not in stored and json.loads(stored)["host_sha256"]


def test_enough_new_records_trigger_a_recalibration(tmp_path):
    with Server(tmp_path / "db.sqlite", recalibrate_after=10) as server:
        answers = [server.post("/v1/calibrate", record)[1] for record in csv_records()[:12]]
        assert [a["recalibration_queued"] for a in answers][8:10] == [False, True]
        status = _wait_for(server, lambda s: s["bundles"] >= 1)
        assert status["latest_bundle"]["n_records"] >= 10 and status["last_error"] is None
        estimate_body = server.post("/v1/estimate", ESTIMATE)[1]
        assert estimate_body["calibration"] == status["latest_bundle"]["bundle_id"]


def test_kill_9_during_ingest_loses_no_acknowledged_record_and_keeps_the_queue(tmp_path):
    db = tmp_path / "db.sqlite"
    records = csv_records()
    server = Server(db, recalibrate_after=1000).start()
    acknowledged: list[str] = []

    def ingest() -> None:
        for record in records:
            try:
                status, body = server.post("/v1/calibrate", record, timeout=10)
            except (OSError, http.client.HTTPException):  # the server died under this request: not acknowledged
                return
            if status == 202:
                acknowledged.append(body["run_id"])

    sender = threading.Thread(target=ingest)
    sender.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 15 and sender.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    sender.join()
    assert 15 <= len(acknowledged) < len(records)
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with Server(db, recalibrate_after=1000) as restarted:
        status = restarted.get("/v1/calibrate")
        assert status["records"] >= len(acknowledged) and status["pending"] == status["records"]
    stored = {row[0] for row in sqlite3.connect(db).execute("SELECT run_id FROM runs")}
    assert set(acknowledged) <= stored


def _wait_for(server: Server, condition, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = server.get("/v1/calibrate")
        if condition(status):
            return status
        time.sleep(0.5)
    raise AssertionError(f"condition not reached: {status}")


def test_a_restarted_server_refits_a_queue_left_by_an_earlier_run(tmp_path):
    from symcost.packs.llm.records import checked_records
    from symcost.packs.llm.store import Store

    with Store(tmp_path / "db.sqlite") as store:  # records accepted before a crash, never fitted
        store.add_runs(checked_records(csv_records()[:12], "queue"))
    with Server(tmp_path / "db.sqlite", recalibrate_after=10) as server:
        status = _wait_for(server, lambda s: s["bundles"] >= 1)
        assert status["latest_bundle"]["n_records"] == 12 and status["pending"] == 0
