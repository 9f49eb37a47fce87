"""The first steps every input file goes through: parse, convert units, schema-check."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .documents import LoadedDocument, load_document
from .errors import InputError
from .schema_check import schema_issues
from .units import normalize_quantities


def checked_document(path: str | Path, schema_name: str, overrides: Mapping[str, Any] | None = None) -> LoadedDocument:
    """Load ``path`` and return it with quantities converted, or raise every issue found.

    ``overrides`` (dotted field path -> value, ``None`` removes the field) replace
    fields of the file before it is checked, as if the file had said so.
    """
    document = load_document(path)
    data = with_overrides(document.data, overrides) if overrides else document.data
    return LoadedDocument(path=document.path, data=checked_data(data, schema_name, document.label))


def checked_data(data: Any, schema_name: str, label: str) -> Any:
    """A document's data (or inputs merged from files and ``--set``) with quantities converted, or raise
    every issue found, each named by ``label``."""
    data, issues = normalize_quantities(data, label)
    issues += schema_issues(data, schema_name, label)
    if issues:
        raise InputError(issues)
    return data


def with_overrides(data: Any, overrides: Mapping[str, Any]) -> Any:
    """A copy of ``data`` with each dotted field set (or removed, for ``None``)."""
    if not isinstance(data, dict):
        return data  # the schema check reports a document that is not a mapping
    result = copy.deepcopy(data)
    for dotted, value in overrides.items():
        *parents, leaf = dotted.split(".")
        node = result
        for part in parents:
            child = node.get(part)
            node[part] = child = child if isinstance(child, dict) else {}
            node = child
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return result
