"""On-disk cache of compiled evaluators, as generated Python source (never pickle).

An entry is a folder named by the SHA-256 of everything the evaluator
depends on: the symcost, SymPy and numpy versions, symcost's own source files' sizes and
modification times (an edited checkout never reuses what older code compiled), the build options, and
the contents of the formula pack, the model / hardware / stats files and every
component-library file the hardware could read, each under its role, never
its path (the same documents in two folders share one entry). It holds

* ``evaluator.py``: the source lambdify generated (numpy calls only);
* ``meta.json``: input and output names, default inputs, kept coefficients, limits;
* ``<name>.json``: results derived once and remembered (see :meth:`CacheEntry.remember`);
* ``figure.<png|svg|pdf>``: a figure's bytes (see :mod:`symcost.figure_files`).

A second run with the same inputs loads the source instead of running SymPy.
The folder is ``$SYMCOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/symcost``,
else ``~/.cache/symcost``; ``SYMCOST_NO_CACHE=1`` turns the cache off.

The cache trusts only what it wrote:

* the tree must be the user's own and writable by nobody else, else the cache
  is off for the process with one warning (:mod:`symcost.cache_trust`); symcost
  creates folders 0700 and files 0600;
* ``index.sqlite`` at the root records the SHA-256 of every file symcost wrote
  (:mod:`symcost.cache_index`); a file whose bytes do not match, or that has no
  row, is a miss: the evaluator is built again and the entry overwritten;
* the evaluator source must also pass an ``ast`` whitelist before it is
  executed (:mod:`symcost.evaluator_source`).

The cache holds at most ``$SYMCOST_CACHE_MAX_MB`` megabytes (default 256):
after each write, the least recently used entries are deleted.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from . import cache_trust
from .cache_index import INDEX_NAME, Index
from .errors import SymcostError
from .evaluator_points import CachedFunction
from .evaluator_source import global_names, namespace

FORMAT = 2
DEFAULT_MAX_MB = 256.0
_KEY = re.compile(r"[0-9a-f]{64}")
_RESULT_NAME = re.compile(r"[a-z][a-z0-9_]*")
_KEPT_FILE = re.compile(r"[a-z][a-z0-9_]*\.(png|svg|pdf)")


def cache_directory() -> Path | None:
    """Where entries live, or None when caching is off."""
    if os.environ.get("SYMCOST_NO_CACHE"):
        return None
    if os.environ.get("SYMCOST_CACHE_DIR"):
        return Path(os.environ["SYMCOST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symcost"


def max_bytes() -> float:
    """The cache's size limit, from ``SYMCOST_CACHE_MAX_MB`` (megabytes, fractions allowed)."""
    text = os.environ.get("SYMCOST_CACHE_MAX_MB", "").strip()
    try:
        megabytes = float(text) if text else DEFAULT_MAX_MB
    except ValueError:
        megabytes = -1.0
    if not 0 <= megabytes < float("inf"):
        raise SymcostError(f"SYMCOST_CACHE_MAX_MB must be a number of megabytes, 0 or more, not {text!r}")
    return megabytes * 1024 * 1024


def input_key(parts: Iterable[str], files: Iterable[tuple[str, Path]]) -> str:
    """SHA-256 over text parts and the contents of (role, file) pairs (a missing file counts as absent).

    The file's suffix counts (it decides how the file is parsed), its folder
    and name do not: the same documents anywhere give the same key.
    """
    digest = hashlib.sha256(f"symcost-evaluator-cache/{FORMAT}/{source_digest()}".encode())
    for part in parts:
        digest.update(b"\0part\0" + part.encode())
    for role, path in files:
        digest.update(b"\0file\0" + f"{role}{path.suffix.lower()}".encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    return digest.hexdigest()


def version_file(package: str, name: str) -> Path:
    """A library's version file (SymPy's ``release.py``, matplotlib's ``_version.py``), found without
    importing the library: it keys what that library made, and a warm run need not import it."""
    spec = importlib.util.find_spec(package)
    path = Path(spec.origin).with_name(name) if spec and spec.origin else None
    return path if path and path.is_file() else Path(f"<{package} not found>")


@functools.cache
def source_digest() -> str:
    """SHA-256 over the name, size and modification time of each of symcost's Python files.

    Python trusts its bytecode caches on the same two facts; reading every file's bytes instead took
    a fifth of a warm report.
    """
    package = os.path.dirname(os.path.realpath(__file__))
    found = []
    for folder, _, names in os.walk(package):  # as Path.rglob, not into linked folders; in a third of its time
        relative = os.path.relpath(folder, package).split(os.sep) if folder != package else []
        found += [[*relative, name] for name in names if name.endswith(".py")]
    digest = hashlib.sha256()
    for parts in sorted(found):  # in the order of their Paths
        status = os.stat(os.path.join(package, *parts))
        digest.update(f"{'/'.join(parts)}\0{status.st_size}\0{status.st_mtime_ns}\0".encode())
    return digest.hexdigest()


class CacheEntry:
    """One cache entry (it may not exist yet), in the cache at ``root``."""

    def __init__(self, root: Path, key: str):
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a cache key: {key!r}")
        self.root, self.key = root, key
        self.directory = root / key[:2] / key
        self.index = Index(root)
        self._digests: dict[str, str] | None = None  # the index's rows for this entry, read once
        self._newest = False  # whether this entry was the most recently used one when they were read

    @classmethod
    def for_key(cls, key: str) -> CacheEntry | None:
        """The entry for ``key``, or None when caching is off or its folder cannot be trusted."""
        root = cache_directory()
        if root is None:
            return None
        max_bytes()  # a bad limit is an error before any work, not after a build
        if not cache_trust.open_root(root) or not cache_trust.trusted_file(root, root / INDEX_NAME):
            return None
        return cls(root, key)

    def exists(self) -> bool:
        """Whether the entry was stored (checked without loading it)."""
        return (self.directory / "meta.json").is_file()

    def load(self) -> tuple[CachedFunction, dict] | None:
        """The cached function and metadata, or None when absent, not as written, or not trusted."""
        self._digests = None  # read afresh: whether this entry is the newest decides the touch below
        meta_bytes, source = self._verified("meta.json"), self._verified("evaluator.py")
        if meta_bytes is None or source is None:
            return None
        try:
            meta = json.loads(meta_bytes)
            if meta.get("format") != FORMAT:
                return None
            function = CachedFunction(source.decode("utf-8"), str(self.directory / "evaluator.py"), meta["globals"])
        except (ValueError, SyntaxError, KeyError, TypeError, AttributeError):  # UnsafeSource is a ValueError
            return None
        if not self._newest:  # touching writes the index (a tenth of a warm report); the order would not change
            self._quietly(lambda: self.index.touch(self.key))
        return function, meta

    def store(self, function: Callable, source: str, meta: dict) -> bool:
        """Write the entry; False (and nothing written) when the function uses names we cannot rebuild."""
        names = sorted(global_names(function.__code__))
        provided = namespace(names)
        if any(name not in provided or provided[name] is not function.__globals__.get(name) for name in names):
            return False
        return self._write(
            {"evaluator.py": source, "meta.json": json.dumps({**meta, "format": FORMAT, "globals": names}, indent=1)}
        )

    def remember(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per entry: a JSON-able result kept beside the evaluator."""
        if not _RESULT_NAME.fullmatch(name):
            raise ValueError(f"not a result name: {name!r}")
        return self._kept(f"{name}.json", compute, lambda value: json.dumps(value).encode(), json.loads)

    def remember_bytes(self, name: str, compute: Callable[[], bytes]) -> bytes:
        """``compute()`` once per entry: bytes kept as the file ``name`` (a figure, ``figure.png``)."""
        if not _KEPT_FILE.fullmatch(name):
            raise ValueError(f"not a kept file name: {name!r}")
        return self._kept(name, compute, bytes, bytes)

    def _kept(
        self, name: str, compute: Callable[[], Any], encode: Callable[[Any], bytes], decode: Callable[[bytes], Any]
    ):
        """The value the file ``name`` holds when symcost wrote it and it decodes; else ``compute()``, then kept."""
        kept = self._verified(name)
        if kept is not None:
            try:
                return decode(kept)
            except ValueError:
                pass  # recorded but not readable as the value: compute it again
        value = compute()
        self._write({name: encode(value)})
        return value

    def _verified(self, name: str) -> bytes | None:
        """The file's bytes when they are what symcost wrote (the index's digest), else None."""
        if not cache_trust.trusted_folders(self.root, (self.directory.parent, self.directory), create=False):
            return None
        if self._digests is None:  # one query for every file a run reads (a warm report reads nine)
            self._digests, self._newest = self._quietly(lambda: self.index.digests(self.key)) or (None, False)
        recorded = (self._digests or {}).get(name)
        try:
            data = (self.directory / name).read_bytes() if recorded else None
        except OSError:
            return None
        return data if data is not None and hashlib.sha256(data).hexdigest() == recorded else None

    def _write(self, files: dict[str, str | bytes]) -> bool:
        """Write the files (each replaced whole), record their digests, then evict down to the size limit."""
        import shutil  # here, as tempfile in _replace: a warm run writes nothing

        if not cache_trust.trusted_folders(self.root, (self.directory.parent, self.directory), create=True):
            return False
        for name, text in files.items():
            data = text if isinstance(text, bytes) else text.encode("utf-8")
            try:
                _replace(self.directory / name, data)
            except OSError:
                return False  # a full disk or a folder evicted meanwhile: the result simply is not kept
            digest = hashlib.sha256(data).hexdigest()
            self._quietly(functools.partial(self.index.record, self.key, name, digest, len(data)))
            if self._digests is not None:
                self._digests[name] = digest
        if cache_trust.refused(self.root):
            return False
        for key in self._quietly(lambda: self.index.evict(max_bytes(), keep=self.key)) or ():
            if _KEY.fullmatch(key):
                shutil.rmtree(self.root / key[:2] / key, ignore_errors=True)
        return True

    def _quietly(self, operation: Callable[[], Any]) -> Any:
        """``operation()`` on the index; an index SQLite cannot use turns the cache off (one warning)."""
        if cache_trust.refused(self.root):
            return None
        try:
            return operation()
        except sqlite3.Error as error:
            cache_trust.refuse(self.root, self.index.path, f"cannot be used ({error}); delete it")
            return None
        except OSError as error:
            cache_trust.refuse(self.root, self.index.path, f"cannot be created ({error.strerror or error})")
            return None


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` whole (0600), by renaming a finished temporary file over it: readers never see half a file."""
    import tempfile

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
