"""Checked documents that never change between runs (packaged catalogs, formula packs), kept as JSON.

Parsing a YAML catalog with PyYAML, converting its quantities with pint and checking it with jsonschema
took most of a warm ``symcost llm estimate``. The checked data depends only on the file's bytes, the
schema's and symcost's own source, so it is remembered in the evaluator cache (:mod:`symcost.cache`),
keyed by those: a later process reads JSON, under the cache index's digest check, instead.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from .cache import CacheEntry, input_key

RECIPE = "checked document 1"


def checked_data_of(path: str | Path, schema_name: str) -> Any:
    """The data :func:`symcost.checked.checked_document` gives for ``path``, from the cache when it holds it."""
    path = Path(path)
    schema = resources.files("symcost.schemas").joinpath(f"{schema_name}.schema.json")
    with resources.as_file(schema) as schema_path:
        entry = CacheEntry.for_key(input_key([RECIPE, schema_name], [("document", path), ("schema", schema_path)]))
    return entry.remember("checked", lambda: _checked(path, schema_name)) if entry else _checked(path, schema_name)


def _checked(path: Path, schema_name: str) -> Any:
    from .checked import checked_document

    return checked_document(path, schema_name).data
