"""The first steps every input file goes through: parse, convert units, schema-check."""
from __future__ import annotations

from pathlib import Path

from ..documents import Document, load_document
from ..errors import InputError
from ..schema_check import schema_issues
from ..units import normalize_quantities


def checked_document(path: str | Path, schema_name: str) -> Document:
    """Load ``path`` and return it with quantities converted, or raise every issue found."""
    document = load_document(path)
    data, issues = normalize_quantities(document.data, document.label)
    issues += schema_issues(data, schema_name, document.label)
    if issues:
        raise InputError(issues)
    return Document(path=document.path, data=data)
