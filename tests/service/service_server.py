"""A real ``symcost serve`` process on a loopback port, for the service and browser tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """``with Server(db) as server: server.get("/v1/calibrate")``; ``kill()`` sends SIGKILL.

    ``options`` are more ``symcost serve`` arguments (``["--workers", "1", "--request-timeout", "5"]``).
    The server's stdout (the access log, with ``--access-log``) goes to the file ``stdout_path``; its stderr
    is ``process.stderr``, a pipe.
    """

    def __init__(
        self,
        db: Path,
        recalibrate_after: int = 10,
        port: int | None = None,
        options: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ):
        self.db, self.recalibrate_after, self.options = Path(db), recalibrate_after, list(options)
        self.extra_env = dict(env or {})
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.stdout_path = self.db.parent / f"serve-{self.port}.stdout"
        self.process: subprocess.Popen | None = None

    def start(self) -> Server:
        env = {**os.environ, "SYMCOST_DATA_DIR": str(self.db.parent), **self.extra_env}
        with open(self.stdout_path, "ab") as stdout:  # a file: a pipe nobody reads would block an access log
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "symcost",
                    "serve",
                    "--port",
                    str(self.port),
                    "--db",
                    str(self.db),
                    "--recalibrate-after",
                    str(self.recalibrate_after),
                    *self.options,
                ],
                env=env,
                stdout=stdout,
                stderr=subprocess.PIPE,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                self.get("/healthz")
                return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not answer within 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=20)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def request(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, timeout: float = 120
    ) -> tuple[int, Any]:
        """(status, decoded JSON or text) of one request; HTTP errors are returned, not raised."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"content-type": "application/json"} if data is not None else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, _decode(response.read(), response.headers.get("content-type", ""))
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read(), error.headers.get("content-type", ""))

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        if status != 200:
            raise OSError(f"GET {path}: {status}")
        return body

    def post(self, path: str, body: Any, timeout: float = 120) -> tuple[int, Any]:
        return self.request("POST", path, body, timeout=timeout)

    def worker_pids(self) -> set[int]:
        """The worker processes: children of the forkserver, itself a child of the server."""
        return {worker for child in _children(self.process.pid) for worker in _children(child)}


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found |= {int(child) for child in (task / "children").read_text().split()}
        except OSError:  # the thread ended meanwhile
            continue
    return found


def _decode(data: bytes, content_type: str) -> Any:
    return json.loads(data) if "json" in content_type else data.decode(errors="replace")
