"""The packaged LLM catalogs hang together (the schemas, ids and aliases are checked when they load)."""
from __future__ import annotations

from pathlib import Path

import pytest

from symcost.packs.llm.catalog import KINDS, catalog
from symcost.packs.llm.records import records_from_csv
from symcost.packs.llm.scenario import compute_device

CSV = Path(__file__).resolve().parent.parent / "data" / "llm_bench_calibration.csv"


@pytest.mark.parametrize("kind", KINDS)
def test_every_catalog_loads_with_its_schema_and_unique_names(kind):
    assert len(catalog(kind)) > 0


def test_runtimes_name_only_formats_of_the_catalog():
    formats = set(catalog("quantizations").ids())
    for runtime in catalog("runtimes"):
        assert set(runtime.get("supported_quant", [])) <= formats, runtime.id


def test_every_compute_device_has_a_rated_power():
    missing = [hardware.id for hardware in catalog("hardware") if not compute_device(hardware).get("tdp_w")]
    assert not missing


def test_every_name_in_the_calibration_data_resolves():
    records = records_from_csv(CSV)  # raises, naming the field, when a name resolves to nothing
    with open(CSV, encoding="utf-8") as handle:
        assert len(records) == sum(1 for _ in handle) - 1
