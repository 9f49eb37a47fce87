"""The audit document as plain data, shared by the LaTeX and Markdown writers.

Builders produce a :class:`AuditDocument` (a flat list of blocks); each writer
only decides how a block looks. Text is plain (writers escape it); math is
LaTeX that both pdflatex and KaTeX accept (the builders keep to that subset).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any


@dataclass(frozen=True)
class Math:
    """Inline math (LaTeX)."""

    latex: str


@dataclass(frozen=True)
class Code:
    """A name from a file (term, symbol, field path), set in monospace."""

    text: str


Inline = str | Math | Code
Cell = tuple[Inline, ...]


@dataclass(frozen=True)
class Heading:
    level: int  # 1 = section, 2 = subsection, 3 = subsubsection
    text: str


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    widths: tuple[float, ...]  # share of the line width per column (LaTeX p-columns)


@dataclass(frozen=True)
class Equation:
    """A displayed chain ``lhs = side_1 = side_2 ...``; each side is a list of rows
    (continuation rows start with their operator), so no row is too long to print."""

    lhs: str
    sides: tuple[tuple[str, ...], ...]

    def aligned_lines(self) -> list[str]:
        """Rows for an ``align*`` / ``aligned`` environment (aligned at the equals signs)."""
        lines: list[str] = []
        for side in self.sides:
            lines.append(f"{self.lhs if not lines else ''} &= {side[0]}")
            lines += [rf"&\quad {row}" for row in side[1:]]
        return lines


Block = Heading | Paragraph | Bullets | Table | Equation


@dataclass(frozen=True)
class AuditDocument:
    title: str
    version_line: str  # the only line that changes with the symcost version
    blocks: tuple[Block, ...]


def code_list(names) -> list[Inline]:
    """Names as code, separated by commas (for a paragraph)."""
    parts: list[Inline] = []
    for index, name in enumerate(names):
        parts += ([", "] if index else []) + [Code(name)]
    return parts


_PARTS = {kind.__name__: kind for kind in (Math, Code, Heading, Paragraph, Bullets, Table, Equation)}


def blocks_as_data(blocks: Sequence[Block]) -> list:
    """``blocks`` as JSON-able data (each block and inline part a dict naming its class), for
    :func:`blocks_from_data` in another process."""
    return [_as_data(block) for block in blocks]


def blocks_from_data(data: list) -> list[Block]:
    """The blocks :func:`blocks_as_data` wrote (every sequence in a block is a tuple)."""
    return [_from_data(item) for item in data]


def _as_data(value: Any) -> Any:
    if is_dataclass(value):
        return {
            "part": type(value).__name__,
            **{field.name: _as_data(getattr(value, field.name)) for field in fields(value)},
        }
    if isinstance(value, (tuple, list)):
        return [_as_data(item) for item in value]
    return value


def _from_data(value: Any) -> Any:
    if isinstance(value, dict):
        return _PARTS[value["part"]](**{name: _from_data(item) for name, item in value.items() if name != "part"})
    if isinstance(value, list):
        return tuple(_from_data(item) for item in value)
    return value
