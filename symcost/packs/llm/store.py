"""The calibration store: run records and calibration bundles in one SQLite file.

Records are inserted, never updated or deleted; each ingest is one
transaction in WAL mode with synchronous=FULL, so a record acknowledged
(committed) survives a killed process or a power cut, and a half-done ingest
leaves nothing behind. Bundles are immutable: their id hashes their content,
and a bundle is only ever added. Records hold no prompts (the record schema
has no field for one). A record's ``host_id`` (the measuring machine's
hostname or serial) is never stored: it is replaced by its SHA-256
(``host_sha256``), and the hardware profile's id is stored with its SHA-256
beside it for telemetry that must not reveal it.

Default location: ``$SYMCOST_DATA_DIR/calibration.sqlite``, else
``$XDG_DATA_HOME/symcost/`` (``~/.local/share/symcost/``). A store symcost
creates is readable by its owner only: the file 0600, its folder 0700.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from .calibration import Bundle
from .records import RunRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    received_utc TEXT NOT NULL,
    hardware_sha256 TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bundles (
    bundle_id TEXT PRIMARY KEY,
    created_utc TEXT NOT NULL,
    n_records INTEGER NOT NULL,
    bundle TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS runs_are_immutable BEFORE UPDATE ON runs
    BEGIN SELECT RAISE(ABORT, 'run records are immutable'); END;
CREATE TRIGGER IF NOT EXISTS runs_are_kept BEFORE DELETE ON runs
    BEGIN SELECT RAISE(ABORT, 'run records are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS bundles_are_immutable BEFORE UPDATE ON bundles
    BEGIN SELECT RAISE(ABORT, 'calibration bundles are immutable'); END;
"""


def default_path() -> Path:
    base = os.environ.get("SYMCOST_DATA_DIR")
    if base:
        return Path(base) / "calibration.sqlite"
    data_home = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data_home) / "symcost" / "calibration.sqlite"


class Store:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else default_path()
        _create_private(self.path)
        self.connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")
        self.connection.executescript(SCHEMA)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            yield self.connection
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def add_runs(self, records: Iterable[RunRecord]) -> tuple[int, int]:
        """Insert records in one transaction; (added, already present). Present ids are left as they are."""
        now = _now()
        added = present = 0
        with self._transaction() as connection:
            for record in records:
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO runs (run_id, received_utc, hardware_sha256, record) VALUES (?, ?, ?, ?)",
                    (
                        record.run_id,
                        now,
                        hardware_hash(record.data["hardware_id"]),
                        json.dumps(_anonymised(record.data), sort_keys=True),
                    ),
                )
                added += cursor.rowcount
                present += 1 - cursor.rowcount
        return added, present

    def runs(self) -> list[RunRecord]:
        rows = self.connection.execute("SELECT run_id, record FROM runs ORDER BY rowid").fetchall()
        return [RunRecord(run_id, json.loads(text)) for run_id, text in rows]

    def count_runs(self) -> int:
        return self.connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]

    def pending(self) -> int:
        """Stored records that the newest bundle was not fitted on (the recalibration queue)."""
        row = self.connection.execute(
            "SELECT n_records FROM bundles ORDER BY created_utc DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return self.count_runs() - (row[0] if row else 0)

    def add_bundle(self, bundle: Bundle) -> None:
        with self._transaction() as connection:
            connection.execute(
                "INSERT OR IGNORE INTO bundles (bundle_id, created_utc, n_records, bundle) VALUES (?, ?, ?, ?)",
                (bundle.bundle_id, bundle.created_utc, bundle.n_records, json.dumps(bundle.as_json())),
            )

    def latest_bundle(self) -> Bundle | None:
        row = self.connection.execute(
            "SELECT bundle FROM bundles ORDER BY created_utc DESC, rowid DESC LIMIT 1"
        ).fetchone()
        return Bundle.from_json(json.loads(row[0])) if row else None

    def bundles(self) -> list[tuple[str, str, int]]:
        return self.connection.execute(
            "SELECT bundle_id, created_utc, n_records FROM bundles ORDER BY rowid"
        ).fetchall()

    def integrity(self) -> str:
        return self.connection.execute("PRAGMA integrity_check").fetchone()[0]


def _create_private(path: Path) -> None:
    """The store's folder (0700) and file (0600) when they do not exist yet; existing ones are left as they are.

    The file is created here, not by sqlite3, which would create it with the umask's mode (often 0644); SQLite
    gives its -wal and -shm files the mode of the database file.
    """
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:  # an existing store (perhaps read-only) is opened as it is
        pass


def _anonymised(data: dict) -> dict:
    if "host_id" not in data:
        return data
    kept = {key: value for key, value in data.items() if key != "host_id"}
    return {**kept, "host_sha256": hardware_hash(data["host_id"])}


def hardware_hash(hardware_id: str) -> str:
    return hashlib.sha256(hardware_id.encode()).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
