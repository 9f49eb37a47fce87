"""The audit document as Markdown with ``$...$`` and ``$$...$$`` math that KaTeX renders.

Display math uses ``aligned`` (KaTeX has no ``align*``); table cells print
``Piecewise`` on one line, so no ``&`` or ``\\\\`` meets the table syntax.
"""

from __future__ import annotations

from .document import AuditDocument, Bullets, Code, Equation, Heading, Inline, Math, Paragraph, Table

_ESCAPED = set("\\`*_[]<>$#|")


def escape(text: str) -> str:
    return "".join("\\" + char if char in _ESCAPED else char for char in text)


def render_markdown(document: AuditDocument) -> str:
    parts = [f"# {escape(document.title)}", "", escape(document.version_line), ""]
    for block in document.blocks:
        parts.append(_block(block))
        parts.append("")
    return "\n".join(parts)


def _block(block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * (block.level + 1)} {escape(block.text)}"
    if isinstance(block, Paragraph):
        return _inline(block.parts)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_inline(item)}" for item in block.items)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Equation):
        return _equation(block)
    raise TypeError(f"unknown block {block!r}")


def _inline(parts: tuple[Inline, ...], in_table: bool = False) -> str:
    out = []
    for part in parts:
        if isinstance(part, Math):
            # A bar inside math would end a table cell; KaTeX reads \vert as the same bar.
            out.append(f"${part.latex.replace('|', chr(92) + 'vert ') if in_table else part.latex}$")
        elif isinstance(part, Code):
            out.append(f"`{part.text}`")
        else:
            out.append(escape(part))
    return "".join(out)


def _table(table: Table) -> str:
    lines = ["| " + " | ".join(escape(title) for title in table.header) + " |", "|" + "---|" * len(table.header)]
    lines += ["| " + " | ".join(_inline(cell, in_table=True) for cell in row) + " |" for row in table.rows]
    return "\n".join(lines)


def _equation(equation: Equation) -> str:
    if not equation.sides:
        return f"$$\n{equation.lhs}\n$$"
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(equation.aligned_lines()) + "\n\\end{aligned}\n$$"
