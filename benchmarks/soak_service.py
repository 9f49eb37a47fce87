"""A bounded loopback soak of ``symcost serve``: latency of normal requests, quiet and under attack.

    .venv/bin/python benchmarks/soak_service.py [--seconds 45] [--rate 30] [--clients 3]

Starts the server (its own process, default worker settings, a temporary store
and evaluator cache), then runs two phases of ``--seconds`` each. Quiet:
``--clients`` client processes send normal requests at ``--rate`` requests/s
in all (estimates with and without recommendations, catalog reads, the
calibration status, a small selfspec report). Attacked: the same, while one
attacker process per attack sends hostile requests back to back (a short
pause between): bodies over the size limit (declared and chunked), NaN and
1e999 numbers, a 5000-digit integer, JSON nested 100,000 deep, a unit bomb in
a hardware field, 256-step acceptance histograms on the 7B example and 7B
models with 4096 layers (new documents each time, so never cached). Prints
p50/p99 per kind and phase, the attackers' answers by status, and the ratio
of the normal requests' p99 attacked to quiet (the done criterion: at most 2).
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import multiprocessing
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from symcost.documents import load_document  # noqa: E402 - after the path is set

EXAMPLES = ROOT / "examples"
ESTIMATE = {
    "model_id": "llama-3.1-8b",
    "hardware": {"hardware_id": "rtx-4090"},
    "workload": {"context_tokens": 2048, "output_tokens": 256, "concurrency": 4},
}
ATTACK_PAUSE = 0.05  # seconds between an attacker's requests
START_DELAY = 10  # seconds for the client processes to start before a phase


def documents(model: str, hardware: str, stats: str = "stats_k4.yaml") -> dict:
    return {
        role: load_document(EXAMPLES / name).data
        for role, name in (("model", model), ("hardware", hardware), ("stats", stats))
    }


SMALL_REPORT = {**documents("model_tiny.yaml", "hardware_knobs.yaml"), "prompt_lengths": [128, 1024]}
LLAMA_7B = documents("model_llama2_7b.yaml", "hardware_soc_pipelined.yaml")


NORMAL = [  # kind, share of the requests, method, path, body
    ("estimate", 0.35, "POST", "/v1/estimate", {**ESTIMATE, "recommend": 0}),
    ("estimate+recommend", 0.15, "POST", "/v1/estimate", ESTIMATE),
    ("catalog", 0.2, "GET", "/v1/catalog/models", None),
    ("calibrate status", 0.15, "GET", "/v1/calibrate", None),
    ("selfspec report (small)", 0.15, "POST", "/v1/selfspec/report", SMALL_REPORT),
]


def attacks() -> dict[str, object]:
    """Attack name -> a function of a counter giving (method, path, raw body, extra headers, chunked)."""
    estimate = json.dumps(ESTIMATE)

    def unit_bomb(_):
        hardware = json.loads(json.dumps(SMALL_REPORT["hardware"]))
        hardware["soc"]["control"]["energy_pj_per_token"] = "1 J**9**9**9"
        return "POST", "/v1/selfspec/report", json.dumps({**SMALL_REPORT, "hardware": hardware}).encode(), False

    def long_histogram(count):
        histogram = {str(steps): 1 for steps in range(257)}
        histogram["0"] = count + 2
        body = {**LLAMA_7B, "stats": {"k": 256, "histogram": histogram}}
        return "POST", "/v1/selfspec/report", json.dumps(body).encode(), False

    def many_layers(count):
        body = {**LLAMA_7B, "model": {**LLAMA_7B["model"], "n_layers": 4096 - count % 1000}}
        return "POST", "/v1/selfspec/report", json.dumps(body).encode(), False

    return {
        "oversize (declared)": lambda _: ("POST", "/v1/estimate", b" " * (300 * 1024), False),
        "oversize (chunked)": lambda _: ("POST", "/v1/estimate", b" " * (300 * 1024), True),
        "NaN / 1e999": lambda count: (
            "POST",
            "/v1/estimate" if count % 2 else "/v1/calibrate",
            estimate.replace("2048", "NaN" if count % 2 else "1e999").encode(),
            False,
        ),
        "5000-digit integer": lambda _: ("POST", "/v1/solve", estimate.replace("2048", "9" * 5000).encode(), False),
        "JSON 100,000 deep": lambda _: ("POST", "/v1/solve", b"[" * 100_000 + b"]" * 100_000, False),
        "unit bomb": unit_bomb,
        "256-step histogram, 7B": long_histogram,
        "4096 layers, 7B": many_layers,
    }


def normal_client(port: int, seed: int, rate: float, start_at: float, stop_at: float, results) -> None:
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings: list[tuple[str, float, int]] = []
    next_send = start_at
    while next_send < stop_at:
        time.sleep(max(0.0, next_send - time.monotonic()))
        kind, _, method, path, body = rng.choices(NORMAL, weights=[share for _, share, *_ in NORMAL])[0]
        started = time.perf_counter()
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"content-type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        timings.append((kind, time.perf_counter() - started, response.status))
        next_send += rng.expovariate(rate)
    results.put(("normal", timings))


def attacker(port: int, name: str, start_at: float, stop_at: float, results) -> None:
    make = attacks()[name]
    statuses: Counter[int] = Counter()
    time.sleep(max(0.0, start_at - time.monotonic()))
    for count in itertools.count():
        if time.monotonic() >= stop_at:
            break
        method, path, body, chunked = make(count)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=max(1.0, stop_at - time.monotonic()))
        try:
            connection.request(
                method,
                path,
                body=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]) if chunked else body,
                encode_chunked=chunked,
                headers={"content-type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
        except (OSError, http.client.HTTPException):  # the server closed an oversize upload, or the phase ended
            statuses["closed or timed out"] += 1
        finally:
            connection.close()
        time.sleep(ATTACK_PAUSE)
    results.put(("attack", (name, dict(statuses))))


def run_phase(port: int, seconds: float, rate: float, clients: int, attacked: bool) -> tuple[list, dict]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.monotonic() + START_DELAY  # every process started and its imports done: none of that is measured
    stop_at = start_at + seconds
    processes = [
        context.Process(
            target=normal_client, args=(port, 1000 * attacked + index, rate / clients, start_at, stop_at, results)
        )
        for index in range(clients)
    ]
    if attacked:
        processes += [
            context.Process(target=attacker, args=(port, name, start_at, stop_at, results)) for name in attacks()
        ]
    for process in processes:
        process.start()
    timings, statuses = [], {}
    for _ in processes:
        what, payload = results.get(timeout=seconds + 300)
        if what == "normal":
            timings += payload
        else:
            statuses[payload[0]] = payload[1]
    for process in processes:
        process.join(timeout=60)
    return timings, statuses


def start_server(folder: Path) -> tuple[int, subprocess.Popen]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "SYMCOST_DATA_DIR": str(folder), "SYMCOST_CACHE_DIR": str(folder / "cache")}
    server = subprocess.Popen(
        [sys.executable, "-m", "symcost", "serve", "--port", str(port), "--db", str(folder / "db.sqlite")],
        env=environment,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/v1/calibrate")
            if connection.getresponse().status == 200:
                return port, server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def warm(port: int) -> None:
    """Every kind sent a few times: the small report's evaluator is compiled, as for any report a client repeats."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for kind, _, method, path, body in NORMAL * 3:
        connection.request(
            method,
            path,
            body=json.dumps(body) if body is not None else None,
            headers={"content-type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{kind}: {response.status}")


def report(quiet: list, attacked: list, statuses: dict) -> None:
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        "server, normal clients and attackers on the same machine\n"
    )
    print(
        "| normal request | n quiet | p50 ms | p99 ms | n attacked | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|"
    )
    for kind in sorted({kind for kind, _, _ in quiet + attacked}) + ["all"]:
        row = [f"| {kind} "]
        for timings in (quiet, attacked):
            values = [seconds for name, seconds, _ in timings if kind in ("all", name)]
            row.append(
                f"| {len(values)} | {1e3 * np.percentile(values, 50):.1f} | {1e3 * np.percentile(values, 99):.1f} "
            )
        print("".join(row) + "|")
    failed = [(kind, status) for kind, _, status in quiet + attacked if status != 200]
    print(f"\nnormal requests not answered 200: {len(failed)} {Counter(failed).most_common(5) if failed else ''}\n")
    print("| attack | answers by status |\n|---|---|")
    for name, counts in statuses.items():
        print(f"| {name} | {', '.join(f'{status}: {count}' for status, count in sorted(counts.items(), key=str))} |")
    ratio = np.percentile([s for _, s, _ in attacked], 99) / np.percentile([s for _, s, _ in quiet], 99)
    print(f"\np99 of normal requests, attacked / quiet: {ratio:.2f} (criterion: at most 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45, help="length of each phase")
    parser.add_argument("--rate", type=float, default=30, help="normal requests per second, all clients together")
    parser.add_argument("--clients", type=int, default=3, help="normal client processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port, server = start_server(Path(folder))
        try:
            warm(port)
            quiet, _ = run_phase(port, args.seconds, args.rate, args.clients, attacked=False)
            attacked, statuses = run_phase(port, args.seconds, args.rate, args.clients, attacked=True)
        finally:
            server.terminate()
            server.wait(timeout=60)
    report(quiet, attacked, statuses)


if __name__ == "__main__":
    main()
