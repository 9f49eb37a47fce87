"""The evaluator cache's index: what symcost wrote, so that it trusts nothing else.

One SQLite file, ``index.sqlite`` (mode 0600) at the cache root, has a row per
file symcost wrote into an entry: its SHA-256, its size, and when the entry
was last used. A file is used only when its bytes match its row, and the sizes
and times drive the least-recently-used eviction. Several processes share a
cache: SQLite's locking (write-ahead log, waiting on a busy database) keeps
their reads and writes whole.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from .cache_trust import PRIVATE_FILE

INDEX_NAME = "index.sqlite"
_BUSY_SECONDS = 10.0  # how long to wait for another process's write before giving up on the cache
_SCHEMA = """CREATE TABLE IF NOT EXISTS files (
    entry TEXT NOT NULL, name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL, used REAL NOT NULL,
    PRIMARY KEY (entry, name))"""


class Index:
    """The index of the cache at ``root`` (a connection per call: the service calls it from several threads)."""

    def __init__(self, root: Path):
        self.path = root / INDEX_NAME

    def digests(self, entry: str) -> tuple[dict[str, str], bool]:
        """The SHA-256 symcost recorded for each file it wrote in ``entry``, by file name, and whether
        ``entry`` is the most recently used entry of the cache."""
        with self._connection() as connection:
            rows = connection.execute(
                "SELECT name, sha256, used, (SELECT MAX(used) FROM files) FROM files WHERE entry = ?", (entry,)
            ).fetchall()
        newest = bool(rows) and max(used for _, _, used, _ in rows) >= rows[0][3]
        return {name: sha256 for name, sha256, _, _ in rows}, newest

    def record(self, entry: str, name: str, sha256: str, size: int) -> None:
        with self._connection() as connection:
            connection.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)", (entry, name, sha256, size, time.time())
            )

    def touch(self, entry: str) -> None:
        """Mark ``entry`` as just used (the eviction keeps recently used entries)."""
        with self._connection() as connection:
            connection.execute("UPDATE files SET used = ? WHERE entry = ?", (time.time(), entry))

    def evict(self, limit_bytes: float, keep: str) -> list[str]:
        """Forget the least recently used entries (never ``keep``) until the rest fit in ``limit_bytes``.

        Returns the forgotten entries, whose files the caller deletes: a reader
        that finds them gone just rebuilds.
        """
        with self._connection() as connection:
            connection.execute("BEGIN IMMEDIATE")  # one evicting process at a time
            by_age = connection.execute(
                "SELECT entry, SUM(size) FROM files GROUP BY entry ORDER BY MAX(used)"
            ).fetchall()
            total = sum(size for _, size in by_age)
            evicted = []
            for entry, size in by_age:
                if total <= limit_bytes:
                    break
                if entry != keep:
                    evicted.append(entry)
                    total -= size
            connection.executemany("DELETE FROM files WHERE entry = ?", [(entry,) for entry in evicted])
            connection.execute("COMMIT")
        return evicted

    def _connection(self) -> closing[sqlite3.Connection]:
        if not self.path.exists():
            self._create()
        # Autocommit: each statement is its own transaction unless one is begun explicitly.
        connection = sqlite3.connect(self.path, timeout=_BUSY_SECONDS, isolation_level=None)
        connection.execute("PRAGMA synchronous = NORMAL")  # with the WAL: whole transactions, no fsync per use
        connection.execute(_SCHEMA)
        return closing(connection)

    def _create(self) -> None:
        try:  # 0600 before SQLite sees it: SQLite would create it 0644 minus the umask
            os.close(os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW, PRIVATE_FILE))
        except FileExistsError:
            return  # another process made it
        os.chmod(self.path, PRIVATE_FILE)
        with closing(sqlite3.connect(self.path, timeout=_BUSY_SECONDS)) as connection:
            connection.execute("PRAGMA journal_mode = WAL")  # readers do not wait for a writer
