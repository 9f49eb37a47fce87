"""A bounded load test of ``symcost serve``: requests from this process to a server process on loopback.

    .venv/bin/python benchmarks/load_service.py [--requests 3000] [--clients 16]

Starts the server (its own process, a temporary store), sends a fixed mix of
requests from ``--clients`` threads with keep-alive connections, and prints
throughput, p50/p99 latency per kind and the error count (any status but the
expected one is an error). The mix: estimates without recommendations,
estimates with three recommendations (a solver run each), catalog reads,
small solver runs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

MODELS = ("llama-3.1-8b", "qwen2.5-7b", "mistral-7b-v0.3", "llama-3.1-70b", "mixtral-8x7b", "qwen3-30b-a3b")
HARDWARE = ("rtx-4090", "rtx-3090", "apple-m3-max-64gb", "dgx-spark", "h100-sxm", "2x-rtx-4090")


def request_mix(rng: random.Random) -> tuple[str, str, str, dict | None]:
    """(kind, method, path, body) of one request."""
    draw = rng.random()
    estimate = {
        "model_id": rng.choice(MODELS),
        "hardware": {"hardware_id": rng.choice(HARDWARE)},
        "workload": {
            "context_tokens": rng.choice((128, 512, 2048, 8192)),
            "output_tokens": rng.choice((64, 256)),
            "concurrency": rng.choice((1, 4, 16)),
        },
    }
    if draw < 0.6:
        return "estimate", "POST", "/v1/estimate", {**estimate, "recommend": 0}
    if draw < 0.8:
        return "estimate+recommend", "POST", "/v1/estimate", estimate
    if draw < 0.9:
        return (
            "catalog",
            "GET",
            "/v1/catalog/" + rng.choice(("models", "hardware-profiles", "runtimes", "quantizations")),
            None,
        )
    return (
        "solve",
        "POST",
        "/v1/solve",
        {"model_ids": [rng.choice(MODELS)], "hardware_ids": [rng.choice(HARDWARE)], "top": 3},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        port, server = start_server(Path(folder))
        try:
            run_load(port, args.requests, args.clients)
        finally:
            server.terminate()
            server.wait(timeout=30)


def start_server(folder: Path) -> tuple[int, subprocess.Popen]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "symcost", "serve", "--port", str(port), "--db", str(folder / "db.sqlite")],
        env={**os.environ, "SYMCOST_DATA_DIR": str(folder)},
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


def run_load(port: int, total: int, clients: int) -> None:
    rng = random.Random(20261123)
    plan = [request_mix(rng) for _ in range(total)]
    timings: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(total))

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            kind, method, path, body = plan[index]
            started = time.perf_counter()
            connection.request(
                method,
                path,
                body=json.dumps(body) if body is not None else None,
                headers={"content-type": "application/json"},
            )
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                timings.setdefault(kind, []).append(elapsed)
                if response.status != 200:
                    errors.append(f"{kind} {path}: {response.status}")

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"server and load generator on the same machine\n"
    )
    print(
        f"{total} requests from {clients} clients in {wall:.1f} s: {total / wall:,.0f} requests/s, {len(errors)} errors\n"
    )
    print("| request | n | p50 ms | p99 ms |\n|---|---|---|---|")
    everything = []
    for kind, values in sorted(timings.items()):
        everything += values
        print(
            f"| {kind} | {len(values)} | {1e3 * np.percentile(values, 50):.1f} | {1e3 * np.percentile(values, 99):.1f} |"
        )
    print(
        f"| all | {len(everything)} | {1e3 * np.percentile(everything, 50):.1f} | {1e3 * np.percentile(everything, 99):.1f} |"
    )
    for line in errors[:10]:
        print("error:", line)


if __name__ == "__main__":
    main()
