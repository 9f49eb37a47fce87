"""Parsed units remembered in the evaluator cache, so a warm run need not import pint.

pint's import and unit registry took about a second of a warm ``symcost llm estimate``, for a dozen unit
texts whose meaning never changes. Each text's factor to SI and dimension vector is kept as JSON in one
cache entry keyed by symcost's source (through :func:`symcost.cache.input_key`) and pint's version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from importlib import metadata

from .cache import CacheEntry, input_key

RECIPE = "parsed units 1"


def remembered_unit(text: str, parse: Callable[[], tuple[float, tuple[int, ...]]]) -> tuple[float, tuple[int, ...]]:
    """``parse()`` (a unit's SI factor and dimension) once per unit text; errors are raised, never kept."""
    entry = CacheEntry.for_key(input_key([RECIPE, _pint_version()], []))
    if entry is None:
        return parse()
    name = "unit_" + hashlib.sha256(text.encode()).hexdigest()[:32]
    factor, dimension = entry.remember(name, lambda: list(parse()))
    return float(factor), tuple(int(power) for power in dimension)


def _pint_version() -> str:
    try:
        return metadata.version("pint")
    except metadata.PackageNotFoundError:
        return "<no pint>"
