"""The component-library search path: files named with ``--library-path``, then in ``SYMCOST_LIBRARY_PATH``.

Apart from :mod:`.inputs.library` because an evaluator cache key needs the path, and a warm run reads no
library (nor imports the input readers).
"""

from __future__ import annotations

import os
from pathlib import Path

LIBRARY_PATH_VARIABLE = "SYMCOST_LIBRARY_PATH"


def search_path_files(extra: list[str] | None = None) -> list[Path]:
    """Library files named on the command line, then in SYMCOST_LIBRARY_PATH."""
    named = list(extra or [])
    named += [entry for entry in os.environ.get(LIBRARY_PATH_VARIABLE, "").split(os.pathsep) if entry]
    return [Path(entry) for entry in named]
