"""The audit document as a LaTeX file that pdflatex compiles with texlive-latex-base and -recommended.

Long tables are ``longtable``; equations are ``align*`` with
``\\allowdisplaybreaks`` so a long derivation may run across pages (rows are
already short: see :mod:`symcost.audit.mathtex`).
"""

from __future__ import annotations

import re

from .document import AuditDocument, Bullets, Code, Equation, Heading, Inline, Math, Paragraph, Table

PREAMBLE = r"""\documentclass[10pt,a4paper]{article}
\usepackage[utf8]{inputenc}
\usepackage[margin=2cm]{geometry}
\usepackage{amsmath,amssymb}
\usepackage{array,longtable}
\allowdisplaybreaks
\setlength{\parindent}{0pt}
\setlength{\parskip}{0.5ex}
\begin{document}
\raggedright
"""
_BREAKABLE = re.compile(r"\\_|[.,](?=[A-Za-z\[])")
_HEADINGS = {1: "section", 2: "subsection", 3: "subsubsection"}
_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    "\u00d7": r"$\times$",
    "\u2013": "--",
    "\u2014": "---",
    "\u2264": r"$\leq$",
    "\u2265": r"$\geq$",
    "\u00b5": r"$\mu$",
    "\u03bc": r"$\mu$",
    "\u2026": r"\ldots{}",
    "\u2019": "'",
    "\u201c": "``",
    "\u201d": "''",
    "\u00b7": r"$\cdot$",
    "\u2248": r"$\approx$",
}


def escape(text: str) -> str:
    """Plain text for LaTeX; characters pdflatex cannot typeset without extra fonts show as [U+XXXX].
    Field paths and names may break after '_', '.' and ',' (narrow table columns)."""
    escaped = "".join(_SPECIAL.get(char, char if ord(char) < 128 else f"[U+{ord(char):04X}]") for char in text)
    return _BREAKABLE.sub(lambda match: match.group(0) + r"\allowbreak{}", escaped)


def render_latex(document: AuditDocument) -> str:
    parts = [PREAMBLE, rf"{{\Large\bfseries {escape(document.title)}\par}}", "", escape(document.version_line), ""]
    for block in document.blocks:
        parts.append(_block(block))
        parts.append("")
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"


def _block(block) -> str:
    if isinstance(block, Heading):
        return rf"\{_HEADINGS[block.level]}{{{escape(block.text)}}}"
    if isinstance(block, Paragraph):
        return _inline(block.parts)
    if isinstance(block, Bullets):
        items = "\n".join(rf"\item {_inline(item)}" for item in block.items)
        return f"\\begin{{itemize}}\n{items}\n\\end{{itemize}}"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Equation):
        return _equation(block)
    raise TypeError(f"unknown block {block!r}")


def _inline(parts: tuple[Inline, ...]) -> str:
    out = []
    for part in parts:
        if isinstance(part, Math):
            out.append(f"${part.latex}$")
        elif isinstance(part, Code):
            out.append(r"\texttt{" + escape(part.text) + "}")
        else:
            out.append(escape(part))
    return "".join(out)


def _table(table: Table) -> str:
    # Shares of the line width, less each column's padding and rules, so the table fits the line.
    total = sum(table.widths)
    columns = "|".join(
        rf">{{\raggedright\arraybackslash}}p{{\dimexpr {width / total:.3f}\linewidth-2\tabcolsep-0.8pt\relax}}"
        for width in table.widths
    )
    header = " & ".join(rf"\textbf{{{escape(title)}}}" for title in table.header) + r" \\ \hline"
    rows = "\n".join(" & ".join(_inline(cell) for cell in row) + r" \\ \hline" for row in table.rows)
    return (
        f"\\begingroup\\footnotesize\n\\begin{{longtable}}{{|{columns}|}}\n\\hline\n{header}\n\\endhead\n"
        f"{rows}\n\\end{{longtable}}\n\\endgroup"
    )


def _equation(equation: Equation) -> str:
    if not equation.sides:
        return rf"\[ {equation.lhs} \]"
    return "\\begin{align*}\n" + " \\\\\n".join(equation.aligned_lines()) + "\n\\end{align*}"
