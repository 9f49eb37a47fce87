"""What a selfspec cost model is built from, and its evaluator cache entry (keyed by content)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...cache import CacheEntry, input_key, version_file
from .library_path import search_path_files

if TYPE_CHECKING:  # a warm run keys its cache entry by files and reads none of them
    from .inputs import HardwareSpec, ModelSpec, StatsSpec


@dataclass(frozen=True)
class Recipe:
    """What a cost model is built from: the pack, the three inputs (paths or specs read in code), options."""

    pack_path: Path
    model: str | Path | ModelSpec
    hardware: str | Path | HardwareSpec
    stats: str | Path | StatsSpec
    library_path: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()
    only: tuple[str, ...] = ()  # output names or fnmatch patterns to compile (empty: all)
    vary: tuple[str, ...] | None = None  # evaluator inputs left variable (None: all); the rest are folded
    # Fields of the files changed before they are checked (--set, a design's structural knobs), as
    # canonical JSON {role: {dotted field: value}}: part of the cache key, so each variant is cached.
    overrides: str = ""

    def read_model(self) -> ModelSpec:
        from . import inputs

        if isinstance(self.model, inputs.ModelSpec):
            return self.model
        return inputs.read_model(self.model, self._overrides("model"))

    def read_hardware(self) -> HardwareSpec:
        from . import inputs

        if isinstance(self.hardware, inputs.HardwareSpec):
            return self.hardware
        return inputs.read_hardware(self.hardware, list(self.library_path), self._overrides("hardware"))

    def read_stats(self) -> StatsSpec:
        from . import inputs

        if isinstance(self.stats, inputs.StatsSpec):
            return self.stats
        return inputs.read_stats(self.stats, self._overrides("stats"))

    def source(self, role: str) -> str:
        """Where the ``role`` document (model, hardware, stats) was read from, without reading it."""
        item = getattr(self, role)
        return str(item) if isinstance(item, (str, Path)) else item.source

    def _overrides(self, role: str) -> dict | None:
        return json.loads(self.overrides).get(role) if self.overrides else None

    def cache_entry(self) -> CacheEntry | None:
        """The evaluator cache entry for these inputs (None for a model or hardware spec made in code, or
        with caching off). Stats made in code (k-sweep's candidates) are keyed by their values."""
        files = [
            (role, Path(item))
            for role, item in (("model", self.model), ("hardware", self.hardware), ("stats", self.stats))
            if isinstance(item, (str, Path))
        ]
        made_stats = [] if isinstance(self.stats, (str, Path)) else [_stats_text(self.stats)]
        if len(files) + len(made_stats) < 3 or not all(path.is_file() for _, path in files):
            return None
        versions = [_symcost_version()]
        # By role and contents, never by path: the same documents in another folder hit the same entry.
        roles = [
            ("pack", self.pack_path),
            ("sympy release", version_file("sympy", "release.py")),
            ("numpy version", version_file("numpy", "version.py")),  # read, not imported: a warm report needs no numpy
            *files,
            ("packaged library", _packaged_library()),
            *(("library path", path) for path in search_path_files(list(self.library_path))),
            *(("library file", path) for path in _named_library(Path(self.hardware))),
        ]
        key = input_key(
            [
                *versions,
                "keep",
                *self.keep,
                "only",
                *self.only,
                "vary",
                *(self.vary or ["<all>"]),
                "overrides",
                self.overrides,
                "stats made in code",
                *made_stats,
            ],
            roles,
        )
        return CacheEntry.for_key(key)


def _stats_text(stats: StatsSpec) -> str:
    """Stats made in code as canonical JSON: their values, and the file name their provenance cites."""
    histogram = sorted(stats.histogram.items()) if stats.histogram is not None else None
    return json.dumps({"k": stats.k, "histogram": histogram, "alpha": stats.alpha, "source": Path(stats.source).name})


def _symcost_version() -> str:
    from ... import __version__

    return __version__


def _packaged_library() -> Path:
    return Path(__file__).with_name("libraries") / "components.yaml"  # as importlib.resources finds it


def _named_library(hardware_path: Path) -> list[Path]:
    """The component-library file a hardware file names itself (it replaces every other library).

    What a file names is remembered by the file's contents, so a warm run's key needs no YAML parser.
    """
    entry = CacheEntry.for_key(input_key(["library a hardware file names 1"], [("hardware", hardware_path)]))
    named = (
        entry.remember("library_file", lambda: _library_file(hardware_path)) if entry else _library_file(hardware_path)
    )
    if not isinstance(named, str):
        return []
    path = Path(named)
    return [path if path.is_absolute() else hardware_path.parent / path]


def _library_file(hardware_path: Path) -> str | None:
    from ...documents import load_document

    data = load_document(hardware_path).data
    named = data.get("library_file") if isinstance(data, dict) else None
    return named if isinstance(named, str) else None
