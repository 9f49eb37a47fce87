"""The packaged LLM catalogs hang together (the schemas, ids and aliases are checked when they load)."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

from symcost.packs.llm.analytic import analytic_model
from symcost.packs.llm.catalog import KINDS, catalog
from symcost.packs.llm.records import records_from_csv
from symcost.packs.llm.scenario import Scenario, Workload

CSV = ROOT / "data" / "llm_bench_calibration.csv"


@pytest.mark.parametrize("kind", KINDS)
def test_every_catalog_loads_with_its_schema_and_unique_names(kind):
    assert len(catalog(kind)) > 0


def test_runtimes_name_only_formats_of_the_catalog():
    formats = set(catalog("quantizations").ids())
    for runtime in catalog("runtimes"):
        assert set(runtime.get("supported_quant", [])) <= formats, runtime.id


def test_a_runtimes_default_format_is_one_it_runs_and_says_why():
    for runtime in catalog("runtimes"):
        if runtime.get("default_quant"):
            assert runtime["default_quant"] in runtime["supported_quant"], runtime.id
            assert f"default_quant {runtime['default_quant']}:" in runtime["source"], runtime.id


@pytest.mark.parametrize(
    "runtime, hardware, expected",
    [
        ("exllamav2", "rtx-4090", "exl2-4.0bpw"),  # EXL2, the runtime's own format, not 16-bit weights
        ("mlx", "apple-m3-max-64gb", "mlx-4bit"),  # mlx_lm.convert -q's 4-bit default
        ("llama.cpp", "rtx-4090", "q4_k_m"),  # no default_quant: the preference list, as before
    ],
)
def test_estimate_without_quant_runs_the_runtimes_usual_format(runtime, hardware, expected):
    import json

    from conftest import run_cli

    result = run_cli(
        "llm", "estimate", "--model", "llama-3-8b", "--hardware", hardware, "--runtime", runtime, "--format", "json"
    )
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["scenario"]["quant"] == expected


def test_every_compute_device_has_a_rated_power():
    """The pack's P_dev (the first GPU's rated power, or the CPU's on a CPU-only server) is known everywhere."""
    parts = [
        catalog(kind).get(name)
        for kind, name in (("models", "llama-3-8b"), ("runtimes", "llama.cpp"), ("quantizations", "q4_k_m"))
    ]
    model = analytic_model()
    powers = {
        hardware.id: model.bind(Scenario(parts[0], hardware, parts[1], parts[2], Workload(512, 128))).number("P_dev")
        for hardware in catalog("hardware")
    }
    assert [name for name, power in powers.items() if not math.isfinite(power)] == []
    assert powers["rtx-4090"] == 450 and powers["2x-epyc-9654"] == 720  # a GPU board; the CPU sockets of a CPU server


def test_every_name_in_the_calibration_data_resolves():
    records = records_from_csv(CSV)  # raises, naming the field, when a name resolves to nothing
    with open(CSV, encoding="utf-8") as handle:
        assert len(records) == sum(1 for _ in handle) - 1


# ---------------------------------------------------------------- fixtures: resolvable, never offered
FIXTURE = "test-13b"  # the calibration CSV's FasterTransformer model, marked fixture: true in models.yaml


def test_a_fixture_resolves_by_name_but_is_not_listed():
    models = catalog("models")
    assert models.get(FIXTURE).id == FIXTURE and models.get(FIXTURE).get("fixture") is True
    assert FIXTURE not in models.ids() and all(entry.id != FIXTURE for entry in models)
    assert all(not entry.get("fixture", False) for entry in models.entries)


def test_a_fixture_is_never_a_did_you_mean_hint():
    from symcost.packs.llm.catalog import UnknownEntry

    with pytest.raises(UnknownEntry) as raised:
        catalog("models").get("test-13")
    assert FIXTURE not in str(raised.value)


def test_the_solvers_all_models_leaves_fixtures_out():
    from symcost.packs.llm.recommend import solve_request

    request = solve_request(["all"], None, "llama.cpp", Workload(512, 128))
    assert [entry.id for entry in request.models] == catalog("models").ids()
    assert FIXTURE not in {entry.id for entry in request.models}


def test_cli_catalog_listing_leaves_fixtures_out():
    import json

    from conftest import run_cli

    text = run_cli("llm", "catalog", "models")
    listed = json.loads(run_cli("llm", "catalog", "models", "--format", "json").stdout)
    assert text.code == 0 and FIXTURE not in text.stdout
    assert [entry["model_id"] for entry in listed["models"]] == catalog("models").ids()
