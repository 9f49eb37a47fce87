"""Pack reductions: per-element outputs summed or averaged over a series, and quantities of the whole series.

A small pack (one layer of a network: its time and its bytes) declares reductions over its layers and a
quantity over them; the loader's checks, the chain's split and the reduction arithmetic are tested against
plain loops.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.chain import build_chain
from symcost.chain_model import ChainModel
from symcost.errors import InputError
from symcost.input_tree import InputTree
from symcost.pack import load_pack
from symcost.reductions import reduce_elements, reduced_variances
from symcost.units import parse_unit

PACK = {
    "pack": "layers",
    "version": 1,
    "description": "One layer of a network, and the network.",
    "phases": ["run"],
    "stages": ["layer"],
    "symbols": [
        {"name": "n_layers", "description": "layers", "unit": "1", "source": "model", "binding": "net.layers"},
        {"name": "f", "description": "clock", "unit": "GHz", "source": "hardware", "binding": "net.clock_ghz"},
        {"name": "w", "description": "width of a layer", "unit": "1", "source": "axis", "default": 8},
    ],
    "terms": [
        {
            "name": "layer_bytes",
            "quantity": "bytes",
            "expression": "w * 2 * B_unit",
            "phases": ["run"],
            "stage": "layer",
            "channel": "movement",
            "status": "modeled",
        }
    ],
    "quantities": [
        {"name": "layer_cycles", "unit": "1", "expression": "w ** 2", "description": "cycles of one layer"},
        {"name": "network_time", "unit": "s", "expression": "total_cycles / f", "description": "time of every layer"},
        {
            "name": "bytes_per_cycle",
            "unit": "B",
            "expression": "total_bytes / total_cycles",
            "description": "traffic over time",
        },
    ],
    "reductions": [
        {
            "name": "total_cycles",
            "of": "layer_cycles",
            "over": "n_layers",
            "reduce": "sum",
            "description": "all layers",
        },
        {"name": "total_bytes", "of": "layer_bytes", "over": "n_layers", "reduce": "sum", "description": "all layers"},
        {"name": "mean_cycles", "of": "layer_cycles", "over": "n_layers", "reduce": "mean", "description": "per layer"},
    ],
}
PACK["symbols"].append({"name": "B_unit", "description": "one byte", "unit": "B", "source": "constant", "value": 1})


def write(tmp_path, data: dict):
    path = tmp_path / "layers.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def edited(change) -> dict:
    data = yaml.safe_load(yaml.safe_dump(PACK))
    change(data)
    return data


def test_reductions_load_with_the_unit_of_what_they_reduce(tmp_path):
    pack = load_pack(write(tmp_path, PACK))
    assert [(r.name, r.of, r.reduce, r.unit, r.over.name) for r in pack.reductions] == [
        ("total_cycles", "layer_cycles", "sum", "1", "n_layers"),
        ("total_bytes", "layer_bytes", "sum", "B", "n_layers"),
        ("mean_cycles", "layer_cycles", "mean", "1", "n_layers"),
    ]
    assert {q.name: q.series for q in pack.quantities} == {
        "layer_cycles": False,
        "network_time": True,
        "bytes_per_cycle": True,
    }


def test_the_chain_keeps_series_quantities_apart(tmp_path):
    chain = build_chain(load_pack(write(tmp_path, PACK)))
    assert chain.output_names == ("layer_bytes", "layer_cycles")
    assert [symbol.name for symbol, _ in chain.series] == ["network_time", "bytes_per_cycle"]
    assert chain.units["network_time"] == "s" and chain.units["total_bytes"] == "B"
    f = chain.pack.symbol("f")
    evaluator = chain.compile_series([f])
    found = evaluator(total_cycles=np.array([2e9, 4e9]), total_bytes=8e9, mean_cycles=0.0, f=2e9)
    np.testing.assert_allclose(found["network_time"], [1.0, 2.0], rtol=1e-15)
    np.testing.assert_allclose(found["bytes_per_cycle"], [4.0, 2.0], rtol=1e-15)


def test_a_chain_model_runs_the_per_element_outputs_of_a_pack_with_reductions(tmp_path):
    tree = InputTree({"net": {"layers": 3, "clock_ghz": 1}})
    model = ChainModel.build(load_pack(write(tmp_path, PACK)), tree)
    assert set(model.output_names) == {"layer_bytes", "layer_cycles"}
    assert float(model.evaluate(w=np.array(5.0))["layer_cycles"]) == 25.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["reductions"][0].update(of="layer_cycle"),
            "reductions[0].of: 'layer_cycle' is neither a term nor a "
            "quantity of the pack; did you mean 'layer_cycles'?",
        ),
        (
            lambda d: d["reductions"][0].update(over="f"),
            "reductions[0].over: 'f' is not a declared dimensionless symbol",
        ),
        (lambda d: d["reductions"][0].update(over="layers"), "reductions[0].over: 'layers' is not a declared"),
        (
            lambda d: d["reductions"][1].update(name="layer_cycles"),
            "reductions[1].name: 'layer_cycles' is reserved or already declared",
        ),
        (lambda d: d["reductions"][0].update(reduce="max"), "reductions[0].reduce"),
        (
            lambda d: d["quantities"][1].update(expression="total_cycles / f * w"),
            "quantities[1].expression: uses the reduction total_cycles (a figure of the whole series) and the per-element "
            "input w",
        ),
        (lambda d: d["quantities"][1].update(expression="total_bytes / f"), "quantities[1].expression: expected time"),
        (
            lambda d: d["reductions"].append(
                {"name": "twice", "of": "network_time", "over": "n_layers", "reduce": "sum", "description": "x"}
            ),
            "reductions[3].of: 'network_time' is a quantity of the whole series",
        ),
    ],
)
def test_mistakes_name_the_field(tmp_path, change, expected):
    with pytest.raises(InputError) as caught:
        load_pack(write(tmp_path, edited(change)))
    assert expected in str(caught.value)


def test_a_pack_with_an_index_takes_no_reductions(tmp_path):
    def indexed(data):
        data["symbols"].append({"name": "i", "description": "step", "unit": "1", "source": "axis"})
        data["index"] = {"step": "i", "layers": "n_layers", "phases": {"run": {"from": "0", "to": "1"}}}
        data["quantities"] = data["quantities"][:1]

    with pytest.raises(InputError) as caught:
        load_pack(write(tmp_path, edited(indexed)))
    assert "reductions[0]: reductions are for packs without an index" in str(caught.value)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.lists(st.floats(-1e6, 1e6), min_size=4, max_size=4), min_size=1, max_size=3))
def test_reductions_and_their_variances_equal_plain_loops(tmp_path_factory, rows):
    pack = load_pack(write(tmp_path_factory.mktemp("pack"), PACK))
    cycles = np.array(rows)  # (trials, layers)
    values = {"layer_cycles": cycles, "layer_bytes": cycles * 3}
    found = reduce_elements(pack, values)
    variances = reduced_variances(pack, values)  # any non-negative array stands for variances
    for index, row in enumerate(rows):
        assert found["total_cycles"][index] == pytest.approx(math.fsum(row), rel=1e-12, abs=1e-6)
        assert found["total_bytes"][index] == pytest.approx(math.fsum(3 * x for x in row), rel=1e-12, abs=1e-6)
        assert found["mean_cycles"][index] == pytest.approx(math.fsum(row) / 4, rel=1e-12, abs=1e-6)
        # Independent layers: variances add; a mean of four divides the sum's variance by 16.
        assert variances["mean_cycles"][index] == pytest.approx(math.fsum(row) / 16, rel=1e-12, abs=1e-6)


def test_the_spatten_pack_declares_the_seed_metrics_as_reductions():
    from symcost.registry import packaged_pack

    pack = load_pack(packaged_pack("spatten"))
    assert {r.name: (r.of, r.reduce) for r in pack.reductions} == {
        "baseline_total_cycles": ("baseline_layer_cycles", "sum"),
        "pipelined_total_cycles": ("pipelined_layer_cycles", "sum"),
        "baseline_total_dram_bytes": ("baseline_dram_bytes", "sum"),
        "pipelined_total_dram_bytes": ("pipelined_dram_bytes", "sum"),
        "total_wasted_bytes": ("wasted_bytes", "sum"),
        "total_corrective_bytes": ("corrective_bytes", "sum"),
        "mean_hidden_cycles": ("hidden_cycles", "mean"),
        "lookahead_finish_rate": ("lookahead_finished", "mean"),
    }
    assert [q.name for q in pack.quantities if q.series] == ["net_speedup_percent"]
    assert parse_unit(pack.reductions[2].unit).dimension == parse_unit("B").dimension
