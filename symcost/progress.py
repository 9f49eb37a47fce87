"""A progress line for long evaluations: points done / total, rate and time left, on a stream.

On a terminal the line is redrawn in place; elsewhere (a log file, a CI
console) each update is its own line, so the log stays readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class Progress:
    """``update(done)`` after each block of work; ``finish()`` once at the end."""

    def __init__(self, label: str, total: int, stream: TextIO, clock: Callable[[], float] = time.monotonic):
        self.label, self.total, self.stream, self.clock = label, total, stream, clock
        self.started = clock()
        self.in_place = stream.isatty()

    def line(self, done: int) -> str:
        elapsed = self.clock() - self.started
        text = (
            f"{self.label}: {done:,} / {self.total:,} points ({done / self.total:.0%})"
            if self.total
            else f"{self.label}: 0 points"
        )
        if elapsed <= 0 or done == 0:
            return text
        rate = done / elapsed
        left = "done" if done >= self.total else f"ETA {format_duration((self.total - done) / rate)}"
        return f"{text}, {rate:,.0f} points/s, {left}"

    def update(self, done: int) -> None:
        # The trailing spaces wipe what a longer previous line left on a terminal.
        self.stream.write(f"\r{self.line(done)}   " if self.in_place else f"{self.line(done)}\n")
        self.stream.flush()

    def finish(self) -> None:
        if self.in_place:
            self.stream.write("\n")
            self.stream.flush()
