"""The service's calibration queue: records are persisted at once, refits run in one background thread.

The queue is the store itself (records the newest bundle was not fitted on),
so a restarted server finds it intact and refits if it is long enough. One
worker thread refits when woken by an ingest or at start-up; requests never
wait for a fit. A refit failure is kept for the status endpoint and retried
with the next ingest.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from ..llm.calibration import Bundle
from ..llm.ingest import refit
from ..llm.records import RunRecord
from ..llm.requests import packaged_bundle
from ..llm.store import Store


class CalibrationService:
    def __init__(self, db: Path, recalibrate_after: int):
        self.db, self.recalibrate_after = db, recalibrate_after
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
        return {**summary, "recalibrate_after": self.recalibrate_after, "recalibrating": self._busy.is_set(),
                "last_error": self.last_error, "quarantined": latest.quarantined if latest else [],
                "latest_bundle": None if latest is None else {"bundle_id": latest.bundle_id, "created_utc": latest.created_utc,
                                                              "n_records": latest.n_records, "tags": latest.tags}}

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
                bundle = refit(store)
            except Exception as error:  # kept for GET /v1/calibrate; the server goes on with the previous bundle
                self.last_error = f"{type(error).__name__}: {error}"
                return
            finally:
                self._busy.clear()
        with self._bundle_lock:
            self._bundle = bundle
        self.last_error = None
