"""The size limits a schema states equal the constants the code checks (symcost/size_limits.py)."""

from __future__ import annotations

import json

from conftest import ROOT

from symcost.size_limits import MAX_BURST_LENGTH, MAX_LAYERS


def _schema(name: str) -> dict:
    return json.loads((ROOT / "schemas" / name).read_text())


def test_stats_schema_bounds_k_and_the_histogram_by_the_burst_limit():
    properties = _schema("stats.schema.json")["properties"]
    assert properties["k"]["maximum"] == MAX_BURST_LENGTH
    assert properties["histogram"]["maxProperties"] == MAX_BURST_LENGTH + 1  # a = 0..K


def test_model_schema_bounds_the_layers():
    assert _schema("model.schema.json")["properties"]["n_layers"]["maximum"] == MAX_LAYERS
