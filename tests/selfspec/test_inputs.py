"""Reading the input files: models, stats, hardware (both forms) and component libraries."""

from __future__ import annotations

import json

import pytest
from conftest import EXAMPLES
from hypothesis import given
from hypothesis import strategies as st

from symcost.errors import InputError
from symcost.packs.selfspec.inputs import read_hardware, read_model, read_stats
from symcost.packs.selfspec.inputs.library import figures, packaged_libraries, read_library_file
from symcost.packs.selfspec.inputs.model import BlockPolicy, ModelSpec


def test_tiny_model_groups_layers_by_policy():
    model = read_model(EXAMPLES / "model_tiny.yaml")
    assert (model.n_layers, model.d_head, model.d_ff, model.n_kv_heads) == (2, 16, 256, 4)
    assert model.policy(0).qkv == "full" and model.policy(1).qkv == "draft"
    assert sorted(count for _policy, count in model.layer_groups()) == [1, 1]


def test_homogeneous_model_is_one_group():
    model = read_model(EXAMPLES / "model_llama2_7b.yaml")
    assert model.layer_groups() == [(model.default_policy, 32)]


def test_ffn_expansion_gives_d_ff(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("n_layers: 1\nd_model: 64\nn_heads: 8\nactivation_bits: 8\nffn_expansion: 2.5\n")
    assert read_model(path).d_ff == 160


def test_stats_keep_the_histogram_as_written_or_the_geometric_rate():
    # Normalising the histogram and E[a+1] are the pack's business (tests/selfspec/test_acceptance.py).
    histogram = read_stats(EXAMPLES / "stats_k4.yaml")
    assert (histogram.k, histogram.histogram, histogram.alpha) == (4, {0: 10, 1: 8, 2: 12, 3: 15, 4: 55}, None)
    geometric = read_stats(EXAMPLES / "stats_geometric.yaml")
    assert (geometric.k, geometric.histogram, geometric.alpha) == (4, None, 0.8)


def test_knob_hardware_resolves_converters_by_bits_with_provenance():
    hardware = read_hardware(EXAMPLES / "hardware_knobs.yaml")
    library = packaged_libraries()["puma_like_v1"].body
    adc_draft = hardware.coefficients["adc_draft.energy_pj_per_conversion"]
    assert adc_draft.value == library["adc"]["4"]["energy_pj_per_conversion"] == 0.09
    assert adc_draft.unit == "pJ" and "puma_like_v1" in adc_draft.provenance
    control = hardware.coefficients["soc.control.energy_pj_per_token"]
    assert control.value == 1.5 and control.provenance == "hardware_knobs.yaml: soc.control.energy_pj_per_token"
    assert hardware.feature_mapping["attention_qk"] == "mapped:library.digital.attention"


def test_legacy_hardware_maps_features_to_coarse_coefficients():
    hardware = read_hardware(EXAMPLES / "hardware_legacy.yaml")
    assert hardware.mode == "legacy"
    assert hardware.feature_mapping["attention_softmax"] == "explicit:costs.digital_features.attention_softmax"
    assert hardware.feature_mapping["ffn_gate_multiply"] == "mapped:costs.digital_elementwise"
    assert hardware.value("digital.features.attention_pv.energy_pj_per_mac") == 0.0004
    assert hardware.value("costs.digital_softmax.energy_pj_per_mac") == pytest.approx(5e-5)


def test_memory_defaults_apply_only_with_a_memory_section():
    pipelined = read_hardware(EXAMPLES / "hardware_soc_pipelined.yaml")
    assert pipelined.value("memory.hbm.read_bandwidth_GBps") == pytest.approx(460.8)
    assert pipelined.value("memory.sram.capacity_bytes") == 2097152
    assert pipelined.value("memory.kv_cache.sram.scale_bytes") == 2
    assert not any(path.startswith("memory.") for path in read_hardware(EXAMPLES / "hardware_knobs.yaml").coefficients)


def test_library_search_path_can_add_libraries(tmp_path, monkeypatch):
    extra = tmp_path / "lib.json"
    body = json.loads(
        json.dumps(
            {
                "adc": {"4": {"energy_pj_per_conversion": 1, "latency_ns_per_conversion": 1, "area_mm2_per_unit": 1}},
                "dac": {"4": {"energy_pj_per_conversion": 1, "latency_ns_per_conversion": 1, "area_mm2_per_unit": 1}},
                "array": {"energy_pj_per_activation": 1, "latency_ns_per_activation": 1, "area_mm2_per_weight": 1},
                "digital": {
                    k: {"energy_pj_per_mac": 1, "latency_ns_per_mac": 1}
                    for k in ("attention", "softmax", "elementwise", "kv_cache")
                },
            }
        )
    )
    extra.write_text(json.dumps({"my_lab_chip": body}))
    hardware_file = tmp_path / "hw.yaml"
    hardware_file.write_text(
        "library: my_lab_chip\nanalog: {xbar_size: 64, num_columns_per_adc: 8, dac_bits: 4, "
        "adc: {draft_bits: 4, residual_bits: 4}}\n"
    )
    with pytest.raises(InputError, match="unknown component library 'my_lab_chip'"):
        read_hardware(hardware_file)
    assert read_hardware(hardware_file, library_path=[str(extra)]).library == "my_lab_chip"
    monkeypatch.setenv("SYMCOST_LIBRARY_PATH", str(extra))
    assert read_hardware(hardware_file).library == "my_lab_chip"


def test_symcost_format_requires_provenance_for_every_figure(tmp_path):
    path = tmp_path / "lib.yaml"
    path.write_text("""
format: symcost-component-library/1
libraries:
  lab:
    adc: {'4': {energy_pj_per_conversion: 1 pJ, latency_ns_per_conversion: 1 ns, area_mm2_per_unit: 1 mm^2}}
    dac: {'4': {energy_pj_per_conversion: 1 pJ, latency_ns_per_conversion: 1 ns, area_mm2_per_unit: 1 mm^2}}
    array: {energy_pj_per_activation: 1 pJ, latency_ns_per_activation: 1 ns, area_mm2_per_weight: 1 mm^2}
    digital:
      attention: {energy_pj_per_mac: 1 pJ, latency_ns_per_mac: 1 ns}
      softmax: {energy_pj_per_mac: 1 pJ, latency_ns_per_mac: 1 ns}
      elementwise: {energy_pj_per_mac: 1 pJ, latency_ns_per_mac: 1 ns}
      kv_cache: {energy_pj_per_mac: 1 pJ, latency_ns_per_mac: 1 ns}
    provenance: {'adc.*': ADC measurement, 'dac.*': DAC data sheet, 'array.*': array paper}
""")
    with pytest.raises(InputError) as caught:
        read_library_file(path)
    assert "libraries.lab.digital.attention.energy_pj_per_mac: figure has no provenance" in str(caught.value)


def test_packaged_library_has_every_reference_library_name():
    assert {"puma_like_v1", "puma_like_v2", "science_soc_v1", "science_adi9405_v1_neurosim"} <= set(
        packaged_libraries()
    )


def test_packaged_library_matches_reference_library_figures(peer_examples):
    reference = json.loads((peer_examples.parent / "runtime_libraries.json").read_text())
    for name, library in packaged_libraries().items():
        ours = dict(figures(library.body))
        theirs = dict(figures(reference[name]))
        assert set(ours) == set(theirs), name
        for path, value in theirs.items():
            assert ours[path] == value, (name, path)


POLICIES = [BlockPolicy(), BlockPolicy(qkv="full"), BlockPolicy(ffn="full"), BlockPolicy(wo="full", ffn="full")]


@given(st.integers(1, 40), st.sampled_from(POLICIES), st.data())
def test_layer_groups_match_a_layer_by_layer_count(n_layers, default, data):
    chosen = data.draw(st.lists(st.integers(0, n_layers - 1), unique=True, max_size=n_layers))
    per_layer = {layer: data.draw(st.sampled_from(POLICIES)) for layer in chosen}
    model = ModelSpec("m", n_layers, 64, 4, 4, 8, "mlp", 256, default, per_layer)
    # the plain loop over every layer, in the order of first use
    counts: dict[BlockPolicy, int] = {}
    for layer in range(n_layers):
        policy = per_layer.get(layer, default)
        counts[policy] = counts.get(policy, 0) + 1
    assert model.layer_groups() == list(counts.items())


def test_layer_groups_do_not_walk_the_layers():
    model = ModelSpec("m", 10**12, 64, 4, 4, 8, "mlp", 256, BlockPolicy(), {0: BlockPolicy(qkv="full")})
    assert model.layer_groups() == [(BlockPolicy(qkv="full"), 1), (BlockPolicy(), 10**12 - 1)]


def test_histogram_weights_whose_sum_overflows_are_rescaled(tmp_path):
    path = tmp_path / "stats.yaml"
    path.write_text("k: 2\nhistogram: {0: 1e308, 2: 1e308}\n")
    assert read_stats(path).histogram == {0: 1.0, 2: 1.0}  # relative weights: scaled by the largest
