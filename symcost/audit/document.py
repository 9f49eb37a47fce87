"""The audit document as plain data, shared by the LaTeX and Markdown writers.

Builders produce a :class:`AuditDocument` (a flat list of blocks); each writer
only decides how a block looks. Text is plain (writers escape it); math is
LaTeX that both pdflatex and KaTeX accept (the builders keep to that subset).
"""

from __future__ import annotations

from dataclasses import dataclass


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
