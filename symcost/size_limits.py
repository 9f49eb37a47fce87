"""Bounds on every input that scales symcost's work or memory.

A bound is checked before anything is allocated, and breaking one is a user
error (exit 2, or a 4xx from the service) that names the limit and, where it
matters, the memory the request would have needed. Bounds that a file's
schema can state are schema maxima (``k`` in stats files, ``n_layers`` in
model files); tests/core/test_size_limits.py keeps those equal to the
constants here. The figures are far above any real design: the largest
published models have about 130 layers, speculative bursts rarely exceed 32
drafted tokens.
"""

from __future__ import annotations

from .errors import SymcostError

MAX_BURST_LENGTH = 256  # K (stats files, optimize-k and cascade --k-max)
MAX_LAYERS = 4096  # n_layers (model files)
MAX_PROMPT_LENGTH = 10**9  # a prompt length (tokens)
MAX_REPORT_POINTS = 100_000  # prompt lengths in one report, plot or curve (held in memory)
MAX_AXIS_VALUES = 10_000_000  # values of one sweep axis (held in memory)
MAX_GRID_POINTS = 100_000_000  # points of one sweep (streamed; bounds the time and the file)
MAX_VARIANTS = 10_000  # structural variants of a sweep or explore (each a compile of seconds)
MAX_MONTE_CARLO_DRAWS = 200_000_000  # trials x layers of a SpAtten Monte Carlo
MAX_TOKENS = 10_000_000  # an LLM request's prompt, output, depth or context window (tokens)
MAX_CONCURRENCY = 100_000  # an LLM request's concurrent sequences
MAX_PARALLEL = 64  # a tensor- or pipeline-parallel degree
MAX_TABLE_ENTRIES = 10_000  # outcomes of one table (a distribution an expectation sums over)
BYTES_PER_VALUE = 8  # float64


class SizeLimitError(SymcostError):
    """A request beyond one of the bounds above."""


def check_size(
    what: str, count: int, limit: int, *, values_per_item: int = 1, held_as: str | None = "memory", advice: str = ""
) -> None:
    """Refuse ``count`` items of ``what`` above ``limit``, naming the memory (or data) they would take
    (nothing with ``held_as=None``: a bound on work, not on bytes)."""
    if count <= limit:
        return
    from .units import format_si  # here: every command imports this module, few go over a limit

    volume = f" (about {format_si(count * values_per_item * BYTES_PER_VALUE, 'B', 3)} of {held_as})" if held_as else ""
    raise SizeLimitError(f"{what}: {count:,} is above the limit of {limit:,}{volume}{'; ' + advice if advice else ''}")
