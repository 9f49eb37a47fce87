"""The LLM catalogs: models, hardware profiles, runtimes, quantizations.

The packaged catalogs live in ``catalogs/*.yaml`` (schema-checked against
``schemas/llm-<kind>.schema.json``). An entry is found by its id or by any of
its aliases, case-insensitively; an unknown name is an error with the closest
names. A user's own model or hardware file holds one entry in the same form and
is checked against the same schema, so new hardware needs no code change.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from ...cache_documents import checked_data_of
from ...documents import load_document
from ...errors import InputError, InputIssue, SymcostError
from ...schema_check import schema_issues
from ...units import normalize_quantities

KINDS = ("models", "hardware", "runtimes", "quantizations")
ID_FIELDS = {"models": "model_id", "hardware": "hardware_id", "runtimes": "runtime_id", "quantizations": "quant_id"}
SINGULAR = {"models": "model", "hardware": "hardware profile", "runtimes": "runtime", "quantizations": "quantization"}


class UnknownEntry(SymcostError):
    """A catalog id or alias that names nothing."""


@dataclass(frozen=True)
class CatalogEntry:
    kind: str
    id: str
    data: dict[str, Any]
    origin: str  # 'catalog' or the user's file path

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class Catalog:
    """Entries of one kind, found by id or alias.

    A fixture (``fixture: true``: an entry that calibration data or tests name, such as the calibration
    CSV's test-13b) is found by its exact id or alias, so those records still resolve, but it is not a
    user's choice: iterating, ``entries``, ``ids()`` and did-you-mean hints leave it out, and every
    listing (CLI, service, the solver's 'all' and default sets) iterates, so it is filtered here only.
    """

    def __init__(self, kind: str, entries: list[CatalogEntry]):
        self.kind = kind
        self.entries = [entry for entry in entries if not entry.get("fixture", False)]
        self._names: dict[str, CatalogEntry] = {}
        for entry in entries:
            for name in (entry.id, *entry.get("aliases", ())):
                self._names.setdefault(_key(name), entry)
        self._listed = [name for name, entry in self._names.items() if not entry.get("fixture", False)]

    def __iter__(self):
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, name: str) -> CatalogEntry:
        entry = self._names.get(_key(name))
        if entry is None:
            close = difflib.get_close_matches(_key(name), self._listed, n=3, cutoff=0.5)
            ids = [self._names[candidate].id for candidate in close]
            hint = f"; did you mean {', '.join(dict.fromkeys(ids))}?" if ids else ""
            raise UnknownEntry(
                f"unknown {SINGULAR[self.kind]} {name!r}{hint} "
                f"(symcost llm catalog {self.kind} lists all {len(self.entries)})"
            )
        return entry

    def ids(self) -> list[str]:
        return [entry.id for entry in self.entries]


def catalog(kind: str) -> Catalog:
    """The packaged catalog of ``kind`` (one of :data:`KINDS`)."""
    return _packaged(kind)


@cache
def _packaged(kind: str) -> Catalog:
    with resources.as_file(resources.files("symcost.catalogs").joinpath(f"{kind}.yaml")) as path:
        return read_catalog(kind, path)


def read_catalog(kind: str, path: str | Path) -> Catalog:
    data = checked_data_of(path, f"llm-{kind}")
    if kind not in data:
        raise InputError([InputIssue(Path(path).name, "<root>", f"expected a {kind} catalog ({kind}: [...])")])
    entries = [CatalogEntry(kind, raw[ID_FIELDS[kind]], raw, "catalog") for raw in data[kind]]
    duplicates = _duplicate_names(entries)
    if duplicates:
        raise InputError(
            [InputIssue(Path(path).name, kind, f"name {name!r} given to more than one entry") for name in duplicates]
        )
    return Catalog(kind, entries)


def read_entry(kind: str, path: str | Path) -> CatalogEntry:
    """A user's own entry file (one model or hardware profile in the catalog's form)."""
    return checked_entry(kind, load_document(path).data, Path(path).name, str(path))


def checked_entry(kind: str, data: Any, label: str, origin: str) -> CatalogEntry:
    """One entry in the catalog's form (a file's data, perhaps with ``--set`` changes), its quantities in
    numbers and checked against the catalog's schema; every problem is raised at once."""
    data, issues = normalize_quantities(data, label)
    issues += schema_issues(data, f"llm-{kind}", label)
    if issues:
        raise InputError(issues)
    if kind in data:
        raise InputError(
            [InputIssue(label, "<root>", f"expected one {SINGULAR[kind]}, got a whole catalog; pass one entry")]
        )
    return CatalogEntry(kind, data[ID_FIELDS[kind]], data, origin)


def resolve(kind: str, name: str | None = None, path: str | Path | None = None) -> CatalogEntry:
    """The entry a user means: their file when given, else the packaged entry named ``name``."""
    if path is not None:
        return read_entry(kind, path)
    if name is None:
        raise UnknownEntry(f"no {SINGULAR[kind]} given")
    return catalog(kind).get(name)


def _key(name: str) -> str:
    return " ".join(str(name).lower().split())


def _duplicate_names(entries: list[CatalogEntry]) -> list[str]:
    seen: dict[str, str] = {}
    duplicates = []
    for entry in entries:
        for name in dict.fromkeys(_key(n) for n in (entry.id, *entry.get("aliases", ()))):
            if seen.setdefault(name, entry.id) != entry.id:
                duplicates.append(name)
    return duplicates
