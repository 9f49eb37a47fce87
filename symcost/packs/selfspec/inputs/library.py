"""Component libraries: ADC/DAC tables by bits, arrays, digital units, SoC, memory.

Two layouts are read (both validated by ``schemas/library.schema.json``):

* symcost's own: ``{format: symcost-component-library/1, libraries: {name: ...}}``;
  every figure must be covered by a ``provenance`` pattern;
* the reference implementation's runtime library JSON: ``{name: ...}``; its
  optional ``source_map`` is read as provenance.

symcost ships its own library file; more files can be put on the library search
path (``--library-path`` or the ``SYMCOST_LIBRARY_PATH`` environment variable).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ....checked import checked_document
from ....errors import InputError, InputIssue
from ..library_path import LIBRARY_PATH_VARIABLE, search_path_files  # noqa: F401 - this module's API too

SYMCOST_FORMAT = "symcost-component-library/1"
_NOTE_SECTIONS = ("provenance", "source_map", "source_notes", "description")


@dataclass(frozen=True)
class ComponentLibrary:
    """One named library: its figures (numbers in the fields' units) and their sources."""

    name: str
    body: dict[str, Any]
    origin: str
    provenance_patterns: dict[str, str] = field(default_factory=dict)

    def provenance_of(self, dotted_path: str) -> str:
        """Where the figure at ``dotted_path`` (e.g. ``adc.4.energy_pj_per_conversion``) comes from."""
        matches = [pattern for pattern in self.provenance_patterns if fnmatch.fnmatchcase(dotted_path, pattern)]
        where = f"library {self.name} ({self.origin}): {dotted_path}"
        if not matches:
            return where
        return f"{where}; source: {self.provenance_patterns[max(matches, key=len)]}"


def figures(body: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every numeric figure of a library body as (dotted path, value)."""
    for key, value in body.items():
        if not prefix and key in _NOTE_SECTIONS:
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from figures(value, path + ".")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield path, value


def read_library_file(path: str | Path, origin: str | None = None) -> dict[str, ComponentLibrary]:
    """All libraries in one file, keyed by name."""
    document = checked_document(path, "library")
    data, label = document.data, document.label
    origin = origin or str(path)
    if data.get("format") == SYMCOST_FORMAT:
        libraries = {
            name: ComponentLibrary(name, body, origin, dict(body.get("provenance", {})))
            for name, body in data["libraries"].items()
        }
        issues = [issue for library in libraries.values() for issue in _unsourced_figures(library, label)]
        if issues:
            raise InputError(issues)
        return libraries
    return {name: ComponentLibrary(name, body, origin, dict(body.get("source_map", {}))) for name, body in data.items()}


def _unsourced_figures(library: ComponentLibrary, label: str) -> Iterator[InputIssue]:
    for dotted, _value in figures(library.body):
        if not any(fnmatch.fnmatchcase(dotted, pattern) for pattern in library.provenance_patterns):
            yield InputIssue(
                label,
                f"libraries.{library.name}.{dotted}",
                "figure has no provenance (add a matching pattern under provenance)",
            )


@lru_cache(maxsize=1)
def packaged_libraries() -> dict[str, ComponentLibrary]:
    resource = resources.files("symcost.packs.selfspec.libraries").joinpath("components.yaml")
    with resources.as_file(resource) as path:
        return read_library_file(path, origin="packaged symcost library")


def available_libraries(library_file: Path | None, search_path: list[Path]) -> dict[str, ComponentLibrary]:
    """The libraries a hardware file can select.

    A hardware file's own ``library_file`` replaces all others (as in the
    reference implementation). Otherwise files on the search path come first,
    then the packaged library, so a user's file can shadow a packaged name.
    """
    if library_file is not None:
        return read_library_file(library_file)
    available = dict(packaged_libraries())
    for path in reversed(search_path):
        available.update(read_library_file(path))
    return available
