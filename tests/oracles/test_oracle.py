"""symcost's closed forms against the plain step-by-step oracle, on random inputs.

Hypothesis draws models (layers, heads, FFN type, per-layer draft policies),
component libraries, knob-based and legacy hardware (reuse / reread,
serialized / layer-pipelined, with and without a KV memory model, delta
readout, split ADC columns, activation-bit overrides, parallel tile reads), speculation statistics
(K up to 64, histograms and geometric acceptance) and prompt lengths up to
10^6. Every metric and every breakdown entry (with the feature view's ``other`` and the
static energy, in total and summed over components) must agree to a relative 1e-12.
"""

from __future__ import annotations

import json
import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracles import oracle_selfspec as oracle

from symcost import build_model

RELATIVE = 1e-12

PHASES = ("draft", "verify_drafted", "verify_bonus")
BITS = list(range(1, 17))
PERIPHERY = [
    "input_registers",
    "output_registers",
    "tia",
    "snh",
    "mux",
    "io_buffers",
    "subarray_switches",
    "write_drivers",
]
FEATURES = [
    "attention_qk",
    "attention_softmax",
    "attention_pv",
    "ffn_activation",
    "ffn_gate_multiply",
    "kv_cache_update",
]

figure = st.floats(min_value=0.0, max_value=10.0, allow_nan=False).map(lambda value: round(value, 6))
positive = st.floats(min_value=1e-3, max_value=10.0, allow_nan=False).map(lambda value: round(value, 6))


def per_mac():
    return st.fixed_dictionaries({"energy_pj_per_mac": figure, "latency_ns_per_mac": figure})


def per_op():
    return st.fixed_dictionaries({"energy_pj_per_op": figure, "latency_ns_per_op": figure, "area_mm2_per_unit": figure})


def memory_tech():
    return st.fixed_dictionaries(
        {
            "read_energy_pj_per_byte": figure,
            "write_energy_pj_per_byte": figure,
            "read_bandwidth_GBps": st.one_of(st.just(0.0), positive),
            "write_bandwidth_GBps": st.one_of(st.just(0.0), positive),
            "read_latency_ns": figure,
            "write_latency_ns": figure,
            "area_mm2": figure,
        }
    )


@st.composite
def libraries(draw):
    def converter():
        return st.fixed_dictionaries(
            {  # noqa: E731
                "energy_pj_per_conversion": figure,
                "latency_ns_per_conversion": figure,
                "area_mm2_per_unit": figure,
            }
        )

    library = {
        "adc": {str(bits): draw(converter()) for bits in BITS},
        "dac": {str(bits): draw(converter()) for bits in BITS},
        "array": draw(
            st.fixed_dictionaries(
                {
                    "energy_pj_per_activation": figure,
                    "latency_ns_per_activation": positive,
                    "area_mm2_per_weight": figure,
                },
                optional={"area_mm2_per_array": figure, "arrays_per_weight": st.integers(1, 4)},
            )
        ),
        "digital": {
            "attention": draw(per_mac()),
            "softmax": draw(per_mac()),
            "elementwise": draw(per_mac()),
            "kv_cache": draw(per_mac()),
            "digital_overhead_area_mm2_per_layer": draw(figure),
        },
        "soc": {
            "buffers_add": {
                **draw(per_op()),
                **draw(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "draft": st.fixed_dictionaries(
                                {}, optional={"latency_ns_per_op": figure, "energy_pj_per_op": figure}
                            ),
                            "verify": st.fixed_dictionaries({}, optional={"latency_ns_per_op": figure}),
                        },
                    )
                ),
            },
            "control": draw(
                st.fixed_dictionaries(
                    {
                        "energy_pj_per_token": figure,
                        "latency_ns_per_token": figure,
                        "energy_pj_per_burst": figure,
                        "latency_ns_per_burst": figure,
                    }
                )
            ),
            "verify_setup": draw(
                st.fixed_dictionaries({"energy_pj_per_burst": figure, "latency_ns_per_burst": figure})
            ),
            "attention_cim_mac_area_mm2_per_unit": draw(figure),
        },
        "analog_periphery": {
            block: draw(per_op()) for block in draw(st.lists(st.sampled_from(PERIPHERY), unique=True))
        },
        "memory": {
            "sram": {**draw(memory_tech()), "capacity_bytes": draw(st.integers(1, 1 << 22))},
            "hbm": draw(memory_tech()),
            "fabric": draw(memory_tech()),
        },
        "leakage_power": {"arrays_nw": draw(figure), "sram_nw": draw(figure), "control_nw": draw(figure)},
    }
    features = draw(st.lists(st.sampled_from(FEATURES), unique=True))
    if features:
        library["digital"]["features"] = {feature: draw(per_mac()) for feature in features}
    return library


@st.composite
def models(draw):
    heads = draw(st.sampled_from([1, 2, 4, 8]))
    layers = draw(st.integers(1, 6))
    model = {
        "name": "random",
        "n_layers": layers,
        "n_heads": heads,
        "d_model": heads * draw(st.sampled_from([4, 8, 16, 24])),
        "activation_bits": draw(st.integers(1, 16)),
        "ffn_type": draw(st.sampled_from(["mlp", "swiglu"])),
        "d_ff": draw(st.integers(8, 300)),
    }
    block = st.sampled_from(["draft", "full"])
    policy = {"default": draw(st.fixed_dictionaries({}, optional={"qkv": block, "wo": block, "ffn": block}))}
    overrides = draw(
        st.dictionaries(
            st.integers(0, layers - 1),
            st.fixed_dictionaries({}, optional={"qkv": block, "wo": block, "ffn": block}),
            max_size=2,
        )
    )
    if overrides:
        policy["per_layer"] = overrides
    model["draft_policy"] = policy
    return model


@st.composite
def hardware_files(draw):
    hardware = {
        "reuse_policy": draw(st.sampled_from(["reuse", "reread"])),
        "soc": {
            "schedule": draw(st.sampled_from(["serialized", "layer-pipelined"])),
            "attention_cim_units": draw(st.integers(1, 64)),
        },
    }
    if draw(st.booleans()):
        hardware["soc"]["parallel_tile_reads"] = draw(st.integers(1, 300))
    if draw(st.booleans()):
        hardware["memory"] = {
            "kv_cache": {
                "hbm": draw(
                    st.fixed_dictionaries(
                        {
                            "value_bytes_per_elem": st.integers(0, 4),
                            "scale_bytes": st.integers(0, 4),
                            "scales_per_token_per_head": st.integers(0, 4),
                        }
                    )
                )
            }
        }
        if draw(st.booleans()):
            hardware["memory"]["kv_cache"]["sram"] = {
                "value_bytes_per_elem": draw(st.integers(0, 4)),
                "scale_bytes": 1,
                "scales_per_token_per_head": 1,
            }
    if draw(st.booleans()):
        costs = {
            name: draw(per_mac())
            for name in [
                "analog_draft",
                "analog_full",
                "analog_verify_reuse",
                "digital_attention",
                "digital_softmax",
                "digital_elementwise",
                "kv_cache",
            ]
        }
        costs["analog_weight_area"] = {"area_mm2_per_weight": draw(figure)}
        features = draw(st.lists(st.sampled_from(FEATURES), unique=True))
        if features:
            costs["digital_features"] = {feature: draw(per_mac()) for feature in features}
        hardware["costs"] = costs
        hardware["soc"]["buffers_add"] = draw(per_op())
        hardware["soc"]["control"] = {"energy_pj_per_token": draw(figure), "latency_ns_per_token": draw(figure)}
        if "memory" in hardware:
            hardware["memory"]["hbm"] = draw(memory_tech())
            hardware["memory"]["sram"] = draw(memory_tech())
        return hardware, None
    xbar = draw(st.sampled_from([16, 32, 64, 128]))
    divisors = [value for value in (1, 2, 4, 8, 16) if xbar % value == 0]
    analog = {
        "xbar_size": xbar,
        "num_columns_per_adc": draw(st.sampled_from(divisors)),
        "dac_bits": draw(st.sampled_from([1, 2, 4, 8])),
        "adc": {"draft_bits": draw(st.integers(1, 8)), "residual_bits": draw(st.integers(4, 16))},
    }
    if draw(st.booleans()):
        analog["adc"]["num_columns_per_adc"] = {
            "draft": draw(st.sampled_from(divisors)),
            "residual": draw(st.sampled_from(divisors)),
        }
    delta = {}
    for mode in ("draft", "verify"):
        if draw(st.booleans()):
            delta[mode] = {"enabled": True, "dac_bits": draw(st.sampled_from([None, 2, 4, 8]))}
    if delta:
        analog["delta_readout"] = delta
    hardware["analog"] = analog
    for key in ("draft_activation_bits", "verify_activation_bits"):
        if draw(st.booleans()):
            hardware["soc"][key] = draw(st.integers(1, 16))
    hardware["library"] = "random_lib"
    hardware["library_file"] = "library.json"
    return hardware, draw(libraries())


@st.composite
def statistics(draw):
    k = draw(st.integers(0, 64))
    if draw(st.booleans()):
        alpha = draw(st.floats(min_value=0.0, max_value=0.98, allow_nan=False))
        return {"k": k, "geometric": {"alpha": alpha}}, {
            a: (alpha**a) * (1 - alpha) if a < k else alpha**k for a in range(k + 1)
        }
    counts = draw(st.dictionaries(st.integers(0, k), st.integers(0, 50), min_size=1))
    if sum(counts.values()) == 0:
        counts[draw(st.integers(0, k))] = 1
    return {"k": k, "histogram": counts}, counts


def _write_inputs(directory, model, hardware, library, stats):
    paths = {name: directory / f"{name}.yaml" for name in ("model", "hardware", "stats")}
    paths["model"].write_text(yaml.safe_dump(model))
    paths["hardware"].write_text(yaml.safe_dump(hardware))
    paths["stats"].write_text(yaml.safe_dump(stats[0]))
    if library is not None:
        (directory / "library.json").write_text(json.dumps({"random_lib": library}))
    oracle_stats = directory / "oracle_stats.json"
    oracle_stats.write_text(json.dumps({"k": stats[0]["k"], "histogram": {str(a): p for a, p in stats[1].items()}}))
    return paths, oracle_stats


def _compare(ours, theirs, scale, where, failures):
    if not math.isclose(ours, theirs, rel_tol=RELATIVE, abs_tol=RELATIVE * scale):
        failures.append(f"{where}: symcost {ours!r} oracle {theirs!r}")


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(models(), hardware_files(), statistics(), st.lists(st.integers(1, 10**6), min_size=1, max_size=3))
def test_closed_forms_equal_the_step_by_step_oracle(
    tmp_path_factory, model, hardware_and_library, stats, prompt_lengths
):
    directory = tmp_path_factory.mktemp("case")
    hardware, library = hardware_and_library
    paths, oracle_stats = _write_inputs(directory, model, hardware, library, stats)
    reference = oracle.run(str(paths["model"]), str(paths["hardware"]), str(oracle_stats), prompt_lengths)
    results = build_model(paths["model"], paths["hardware"], paths["stats"]).evaluate(L_prompt=prompt_lengths)
    failures: list[str] = []
    units = {"energy": 1e-12, "latency": 1e-9}
    for index, point in enumerate(reference["points"]):
        for scenario, breakdown_key in (("speculative", "breakdown"), ("baseline", "baseline_breakdown")):
            for key, name, unit in (
                ("energy_pj_per_token", "energy_per_token", 1e-12),
                ("latency_ns_per_token", "latency_per_token", 1e-9),
            ):
                theirs = point[scenario][key]
                _compare(
                    results[f"{scenario}.{name}"][index] / unit, theirs, abs(theirs), f"{scenario}.{key}", failures
                )
            for phase in PHASES:
                golden = point[breakdown_key][phase]
                scale = {"energy": abs(golden["energy_pj"]) + 1e-30, "latency": abs(golden["latency_ns"]) + 1e-30}
                for quantity, key in (("energy", "energy_pj"), ("latency", "latency_ns")):
                    _compare(
                        results[f"{scenario}.total.{phase}.{quantity}"][index] / units[quantity],
                        golden[key],
                        scale[quantity],
                        f"{scenario}.{phase}.{key}",
                        failures,
                    )
                for group, view in (("stages", "stage"), ("components", "component"), ("channels", "channel")):
                    for key, theirs in golden[group].items():
                        if key.endswith("_mm2"):
                            continue
                        quantity = "energy" if key.endswith("_energy_pj") else "latency"
                        name = key.rsplit("_", 2)[0]
                        ours = results.get(f"{scenario}.{view}.{phase}.{name}.{quantity}")
                        ours = 0.0 if ours is None else ours[index] / units[quantity]
                        _compare(ours, theirs, scale[quantity], f"{scenario}.{phase}.{group}.{key}", failures)
                for key, theirs in golden["dpu_features"].items():
                    name, kind = key.rsplit("_", 1) if key.endswith("_ops") else key.rsplit("_", 2)[0:2]
                    quantity, unit, feature_scale = (
                        ("count", 1.0, abs(theirs) + 1.0) if key.endswith("_ops") else (kind, units[kind], scale[kind])
                    )
                    ours = results.get(f"{scenario}.feature.{phase}.{name}.{quantity}")
                    ours = 0.0 if ours is None else ours[index] / unit
                    _compare(ours, theirs, feature_scale, f"{scenario}.{phase}.dpu_features.{key}", failures)
                for quantity, key in (("energy", "energy_pj"), ("latency", "latency_ns")):  # the feature view's 'other'
                    theirs = golden[key] - sum(
                        value for name, value in golden["dpu_features"].items() if name.endswith(f"_{key}")
                    )
                    _compare(
                        results[f"{scenario}.feature.{phase}.other.{quantity}"][index] / units[quantity],
                        theirs,
                        scale[quantity],
                        f"{scenario}.{phase}.feature other {quantity}",
                        failures,
                    )
        leakage = point["leakage"]["energy_pj"]
        by_component = sum(values[index] for name, values in results.items() if name.startswith("speculative.leakage."))
        for name, ours in (
            ("leakage energy", results["speculative.leakage_energy"][index]),
            ("leakage by component", by_component),
        ):
            _compare(ours / 1e-12, leakage, abs(leakage), name, failures)
    assert not failures, "\n".join(failures[:15])
