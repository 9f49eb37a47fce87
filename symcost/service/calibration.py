"""The service's calibration queue: records are persisted at once, refits run one at a time in the background.

The queue is the store itself (records the newest bundle was not fitted on),
so a restarted server finds it intact and refits if it is long enough. One
thread starts a refit when woken by an ingest or at start-up and waits for it;
the service runs the fit itself in a worker process with its own time budget
(``refit_runner``), so a fit never holds the server's interpreter. Requests
never wait for a fit. A refit that fails or runs over its budget leaves the
previous bundle in use; its error is kept for the status endpoint and the
refit is retried with the next ingest.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..packs.llm.calibration import Bundle
from ..packs.llm.records import RunRecord
from ..packs.llm.requests import packaged_bundle
from ..packs.llm.store import Store
from .http_errors import ServiceError, without_server_paths
from .jobs import refit_store


class CalibrationService:
    def __init__(self, db: Path, recalibrate_after: int, refit_runner: Callable[[str], Any] = refit_store):
        """``refit_runner(db)`` refits and stores a bundle, raising on failure (default: in this process)."""
        self.db, self.recalibrate_after, self._refit = db, recalibrate_after, refit_runner
        self.last_error: str | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._busy = threading.Event()
        self._bundle_lock = threading.Lock()
        self._bundle: Bundle | None = None
        self._thread = threading.Thread(target=self._run, name="symcost-recalibration", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._wake.set()  # a queue left by an earlier run is refitted at once

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)

    def bundle(self) -> Bundle:
        """The newest stored bundle, else the packaged one (read once per new bundle)."""
        with self._bundle_lock:
            if self._bundle is None:
                with Store(self.db) as store:
                    self._bundle = store.latest_bundle() or packaged_bundle()
            return self._bundle

    def ingest(self, record: RunRecord) -> dict[str, Any]:
        with Store(self.db) as store:
            added, _ = store.add_runs([record])
            pending = store.pending()
        queued = pending >= self.recalibrate_after
        if queued:
            self._wake.set()
        return {"run_id": record.run_id, "stored": bool(added), "pending": pending, "recalibration_queued": queued}

    def status(self) -> dict[str, Any]:
        with Store(self.db) as store:
            latest = store.latest_bundle()
            summary = {"records": store.count_runs(), "pending": store.pending(), "bundles": len(store.bundles())}
        return {
            **summary,
            "recalibrate_after": self.recalibrate_after,
            "recalibrating": self._busy.is_set(),
            "last_error": self.last_error,
            "quarantined": latest.quarantined if latest else [],
            "latest_bundle": None
            if latest is None
            else {
                "bundle_id": latest.bundle_id,
                "created_utc": latest.created_utc,
                "n_records": latest.n_records,
                "tags": latest.tags,
            },
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if not self._stop.is_set():
                self._refit_if_due()

    def _refit_if_due(self) -> None:
        with Store(self.db) as store:
            if store.pending() < self.recalibrate_after:
                return
        self._busy.set()
        try:
            self._refit(str(self.db))
        except Exception as error:  # kept for GET /v1/calibrate; the server goes on with the previous bundle
            message = error.message if isinstance(error, ServiceError) else f"{type(error).__name__}: {error}"
            self.last_error = without_server_paths(message)
            return
        finally:
            self._busy.clear()
        with self._bundle_lock:
            self._bundle = None  # the refit stored a new bundle: the next estimate reads it
        self.last_error = None
