"""On-disk cache of compiled evaluators, as generated Python source (never pickle).

An entry is a directory named by the SHA-256 of everything the evaluator
depends on: the symcost, SymPy and numpy versions, the formula pack, the
model / hardware / stats files, every component-library file the hardware
could read, and the coefficients kept symbolic. It holds

* ``evaluator.py``: the source lambdify generated (numpy calls only);
* ``meta.json``: input and output names, default inputs, kept coefficients, limits;
* ``<name>.json``: results derived once and remembered (see :meth:`Entry.remember`).

A second run with the same inputs loads the source instead of running SymPy.
The directory is ``$SYMCOST_CACHE_DIR``, else ``$XDG_CACHE_HOME/symcost``,
else ``~/.cache/symcost``; ``SYMCOST_NO_CACHE=1`` turns the cache off. The
generated code is executed on load, so the directory must be as trusted as
the user's own files (it is created with mode 0700).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

FORMAT = 1
_FUNCTION_NAME = "_lambdifygenerated"


def cache_directory() -> Path | None:
    """Where entries live, or None when caching is off."""
    if os.environ.get("SYMCOST_NO_CACHE"):
        return None
    if os.environ.get("SYMCOST_CACHE_DIR"):
        return Path(os.environ["SYMCOST_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "symcost"


def input_key(parts: Iterable[str], files: Iterable[Path]) -> str:
    """SHA-256 over text parts and the contents of files (a missing file counts as absent)."""
    digest = hashlib.sha256(f"symcost-evaluator-cache/{FORMAT}".encode())
    for part in parts:
        digest.update(b"\0part\0" + part.encode())
    for path in files:
        digest.update(b"\0file\0" + str(path).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<absent>")
    return digest.hexdigest()


@dataclass(frozen=True)
class Entry:
    """One cache entry (it may not exist yet)."""

    directory: Path

    @classmethod
    def for_key(cls, key: str) -> "Entry | None":
        root = cache_directory()
        return None if root is None else cls(root / key[:2] / key)

    def exists(self) -> bool:
        """Whether the entry was stored (checked without loading it)."""
        return (self.directory / "meta.json").is_file()

    def load(self) -> tuple[Callable, dict] | None:
        """The cached function and metadata, or None when absent or unreadable."""
        try:
            meta = json.loads((self.directory / "meta.json").read_text(encoding="utf-8"))
            source = (self.directory / "evaluator.py").read_text(encoding="utf-8")
        except (OSError, ValueError):
            return None
        if meta.get("format") != FORMAT:
            return None
        namespace = _namespace(meta["globals"])
        exec(compile(source, str(self.directory / "evaluator.py"), "exec"), namespace)  # noqa: S102 - our own generated code
        return namespace[_FUNCTION_NAME], meta

    def store(self, function: Callable, source: str, meta: dict) -> bool:
        """Write the entry; False (and nothing written) when the function uses names we cannot rebuild."""
        names = sorted(_global_names(function.__code__))
        namespace = _namespace(names)
        if any(name not in namespace or namespace[name] is not function.__globals__.get(name) for name in names):
            return False
        self._write("evaluator.py", source)
        self._write("meta.json", json.dumps({**meta, "format": FORMAT, "globals": names}, indent=1))
        return True

    def remember(self, name: str, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per entry: a JSON-able result kept beside the evaluator."""
        path = self.directory / f"{name}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            value = compute()
            self._write(f"{name}.json", json.dumps(value))
            return value

    def _write(self, name: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Write then rename, so a reader never sees half a file (several processes may share the cache).
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.")
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, self.directory / name)


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            names |= _global_names(constant)
    return names


def _namespace(names: Iterable[str]) -> dict[str, Any]:
    """The globals generated evaluators use: numpy functions, ``reduce`` and ``float64``, nothing else."""
    allowed = {"reduce": functools.reduce, "float64": np.float64, "nan": np.nan, "inf": np.inf, "pi": np.pi}
    namespace: dict[str, Any] = {"__builtins__": {}}
    for name in names:
        if name in allowed:
            namespace[name] = allowed[name]
        elif not name.startswith("_") and callable(getattr(np, name, None)):
            namespace[name] = getattr(np, name)
    return namespace
