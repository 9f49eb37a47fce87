"""The packaged JSON Schemas are valid draft 2020-12 schemas (symcost does not re-check them at run time)."""

from __future__ import annotations

from importlib import resources

import jsonschema
import pytest

from symcost.schema_check import load_schema

NAMES = sorted(
    entry.name.removesuffix(".schema.json")
    for entry in resources.files("symcost.schemas").iterdir()
    if entry.name.endswith(".schema.json")
)


def test_every_schema_is_found():
    assert {"model", "hardware", "stats", "library", "formula-pack", "report"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_schema_is_valid_against_the_meta_schema(name):
    jsonschema.Draft202012Validator.check_schema(load_schema(name))
