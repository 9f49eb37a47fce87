"""Audit documents: every formula, closed form and coefficient behind a report, in LaTeX or Markdown.

    >>> from symcost import build_model
    >>> from symcost.audit import render
    >>> from symcost.packs.selfspec.audit import model_audit
    >>> document = model_audit(build_model("model.yaml", "hardware.yaml", "stats.yaml"))
    >>> render(document, "latex")       # or "markdown"

:func:`pack_audit` builds the document from a formula pack alone, adding
values, closed forms and break-even points as far as they are given, so any
pack (and any pack-specific front end) can produce one.
"""

from __future__ import annotations

from pathlib import Path

from .build import chain_model_audit, pack_audit
from .document import AuditDocument
from .latex import render_latex
from .markdown import render_markdown

RENDERERS = {"latex": render_latex, "markdown": render_markdown}
SUFFIXES = {".tex": "latex", ".md": "markdown"}


def render(document: AuditDocument, format: str) -> str:  # noqa: A002 - the CLI option's name
    return RENDERERS[format](document)


def write_audit(document: AuditDocument, path: str | Path, format: str | None = None) -> str:
    """Write ``document`` to ``path`` (format from the suffix, .tex or .md, unless given); returns the format."""
    chosen = format or SUFFIXES.get(Path(path).suffix.lower())
    if chosen not in RENDERERS:
        raise ValueError(f"cannot tell the audit format of {path}: give latex or markdown")
    Path(path).write_text(render(document, chosen), encoding="utf-8")
    return chosen


__all__ = ["AuditDocument", "RENDERERS", "chain_model_audit", "pack_audit", "render", "write_audit"]
