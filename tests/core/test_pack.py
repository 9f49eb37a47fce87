"""Formula packs: parsing, derived symbols, vocabularies and dimension checks."""

from __future__ import annotations

import pytest
import sympy as sp
import yaml
from conftest import ROOT

from symcost.errors import InputError
from symcost.pack import load_pack

DATA = ROOT / "tests" / "data"


def test_valid_pack_loads_with_metadata():
    pack = load_pack(DATA / "pack_kv_read.yaml")
    assert [term.name for term in pack.terms] == ["kv_read_energy", "kv_read_latency", "sram_staging_energy"]
    energy = pack.terms[0]
    assert (energy.phases, energy.stage, energy.component, energy.channel, energy.status) == (
        ("decode",),
        "kv_cache",
        "hbm",
        "movement",
        "modeled",
    )
    assert pack.terms[2].status == "out_of_scope" and pack.terms[2].reason
    symbols = {name: spec.symbol for name, spec in pack.symbols.items()}
    assert pack.expanded(energy) == symbols["n_layers"] * symbols["L"] * symbols["d_kv"] * symbols["E_hbm"]
    assert symbols["L"].is_integer and symbols["L"].is_positive


def _broken(tmp_path, edit) -> str:
    data = yaml.safe_load((DATA / "pack_kv_read.yaml").read_text())
    edit(data)
    path = tmp_path / "pack.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as caught:
        load_pack(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "edit, expected",
    [
        (
            lambda d: d["terms"][0].update(expression="kv_bytes / BW_hbm"),
            "terms[0].expression: expected energy (quantity energy), but the formula is time",
        ),
        (
            lambda d: d["terms"][1].update(expression="kv_bytes / BW_hbm + E_hbm"),
            "terms[1].expression: dimension error: mixes dimensions",
        ),
        (lambda d: d["terms"][0].update(expression="kv_byte * E_hbm"), "did you mean 'kv_bytes'"),
        (lambda d: d["terms"][0].update(stage="kv_cach"), "terms[0].stage: 'kv_cach' is not among the pack's stages"),
        (
            lambda d: d["terms"][0].update(phases=["prefill"]),
            "terms[0].phases: 'prefill' is not among the pack's phases",
        ),
        (lambda d: d["terms"][2].pop("reason"), "terms[2].reason: required field is missing"),
        (lambda d: d["symbols"][6].update(unit="pJ"), "symbols[6].expression: expected energy (unit pJ)"),
        (lambda d: d["symbols"][3].update(unit="bananas"), "symbols[3].unit: unknown unit"),
        (lambda d: d["symbols"].append(dict(d["symbols"][0])), "symbol 'L' is declared twice"),
        (lambda d: d["symbols"][0].update(name="ceiling"), "'ceiling' is reserved"),
        (
            lambda d: d["terms"][0].update(expression="ceiling(E_hbm) * kv_bytes"),
            "ceiling() needs a dimensionless argument",
        ),
        (lambda d: d["terms"][0].update(channel="network"), "terms[0].channel: expected one of compute, movement"),
    ],
)
def test_broken_packs_name_the_field(tmp_path, edit, expected):
    assert expected in _broken(tmp_path, edit)


def test_derived_symbols_may_only_use_earlier_symbols(tmp_path):
    def move_derived_first(data):
        data["symbols"].insert(0, data["symbols"].pop(6))

    assert "undeclared name 'n_layers'" in _broken(tmp_path, move_derived_first)


def test_zero_term_fits_any_quantity():
    pack = load_pack(DATA / "pack_kv_read.yaml")
    assert pack.terms[2].expression == sp.Integer(0)
