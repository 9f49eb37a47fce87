"""The packaged LLM catalogs hang together (the schemas, ids and aliases are checked when they load)."""
from __future__ import annotations

import math

import pytest

from symcost.packs.llm.catalog import KINDS, catalog
from symcost.packs.llm.records import records_from_csv
from symcost.packs.llm.analytic import analytic_model
from symcost.packs.llm.scenario import Scenario, Workload
from conftest import ROOT

CSV = ROOT / "data" / "llm_bench_calibration.csv"


@pytest.mark.parametrize("kind", KINDS)
def test_every_catalog_loads_with_its_schema_and_unique_names(kind):
    assert len(catalog(kind)) > 0


def test_runtimes_name_only_formats_of_the_catalog():
    formats = set(catalog("quantizations").ids())
    for runtime in catalog("runtimes"):
        assert set(runtime.get("supported_quant", [])) <= formats, runtime.id


def test_every_compute_device_has_a_rated_power():
    """The pack's P_dev (the first GPU's rated power, or the CPU's on a CPU-only server) is known everywhere."""
    parts = [catalog(kind).get(name) for kind, name in (("models", "llama-3-8b"), ("runtimes", "llama.cpp"),
                                                          ("quantizations", "q4_k_m"))]
    model = analytic_model()
    powers = {hardware.id: model.bind(Scenario(parts[0], hardware, parts[1], parts[2], Workload(512, 128))).number("P_dev")
              for hardware in catalog("hardware")}
    assert [name for name, power in powers.items() if not math.isfinite(power)] == []
    assert powers["rtx-4090"] == 450 and powers["2x-epyc-9654"] == 720  # a GPU board; the CPU sockets of a CPU server


def test_every_name_in_the_calibration_data_resolves():
    records = records_from_csv(CSV)  # raises, naming the field, when a name resolves to nothing
    with open(CSV, encoding="utf-8") as handle:
        assert len(records) == sum(1 for _ in handle) - 1
