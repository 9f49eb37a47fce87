"""Writing figures to files (PNG, SVG, PDF), and keeping the bytes of what was drawn before.

Importing matplotlib and laying out a figure were most of a warm ``symcost plot``, although the figure
is a function of what it shows. So a figure that names its *content* (the report it draws, the figure's
name and options: JSON data) is kept by its bytes in the evaluator cache (:mod:`symcost.cache`), keyed
by that content, the format and resolution, matplotlib's version and symcost's own source; a later plot
of the same content writes those bytes, under the cache index's digest check, without importing
matplotlib. Files are plain image bytes: nothing in them is executed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .cache import CacheEntry, input_key, version_file
from .errors import SymcostError

FORMATS = ("png", "svg", "pdf")
DPI = 100
RECIPE = "figure bytes 1"


def figure_format(path: str | Path) -> str:
    """The format a figure file's suffix names (png, svg or pdf)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise SymcostError(
            f"cannot tell the figure format of {path}: expected a name ending in "
            f"{', '.join('.' + name for name in FORMATS)}"
        )
    return suffix


def write_figure(path: str | Path, draw: Callable[[], Any], *, dpi: int = DPI, content: Any = None) -> None:
    """Write the matplotlib figure ``draw()`` makes to ``path``, in the format its suffix names.

    ``content``: JSON data that decides the figure (None: draw every time). When the cache holds
    the bytes drawn for the same content, format and resolution, they are written instead.
    """
    suffix = figure_format(path)
    entry = _entry(content, suffix, dpi) if content is not None else None
    data = entry.remember_bytes(f"figure.{suffix}", lambda: _rendered(draw, suffix, dpi)) if entry else None
    try:
        Path(path).write_bytes(data if data is not None else _rendered(draw, suffix, dpi))
    except OSError as error:
        raise SymcostError(f"cannot write {path}: {error.strerror or error}") from None


def _rendered(draw: Callable[[], Any], suffix: str, dpi: int) -> bytes:
    from .plot import render

    return render(draw(), suffix, dpi)


def _entry(content: Any, suffix: str, dpi: int) -> CacheEntry | None:
    shown = hashlib.sha256(json.dumps(content, sort_keys=True, allow_nan=True).encode()).hexdigest()
    return CacheEntry.for_key(
        input_key([RECIPE, suffix, str(dpi), shown], [("matplotlib", version_file("matplotlib", "_version.py"))])
    )
