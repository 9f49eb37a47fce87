"""Invariants of the accounting that hold for any inputs."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
import yaml
from conftest import EXAMPLES

from symcost import build_model

PHASES = ("draft", "verify_drafted", "verify_bonus")
COMBINATIONS = [
    ("model_tiny", "hardware_knobs", "stats_k4"),
    ("model_tiny", "hardware_soc_pipelined", "stats_geometric"),
    ("model_tiny", "hardware_legacy", "stats_k4"),
    ("model_llama2_7b", "hardware_soc_pipelined", "stats_k4"),
]
LENGTHS = np.array([1, 7, 64, 500, 4096, 30000])  # within the 32768-token context limit of the example


@pytest.fixture(scope="module", params=COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
def built(request):
    model, hardware, stats = request.param
    return build_model(EXAMPLES / f"{model}.yaml", EXAMPLES / f"{hardware}.yaml", EXAMPLES / f"{stats}.yaml")


def _sum(results, prefix, quantity):
    keys = [key for key in results if key.startswith(prefix) and key.endswith(f".{quantity}")]
    return sum(results[key] for key in keys) if keys else np.zeros_like(LENGTHS, dtype=float)


@pytest.mark.parametrize("scenario", ["speculative", "baseline"])
def test_stage_and_channel_breakdowns_sum_to_phase_totals(built, scenario):
    results = built.evaluate(L_prompt=LENGTHS)
    for phase in PHASES:
        for quantity in ("energy", "latency"):
            total = results[f"{scenario}.total.{phase}.{quantity}"]
            for view in ("stage", "channel"):
                np.testing.assert_allclose(
                    _sum(results, f"{scenario}.{view}.{phase}.", quantity), total, rtol=1e-12, atol=1e-30
                )
        # every energy charge is also attributed to exactly one component
        np.testing.assert_allclose(
            _sum(results, f"{scenario}.component.{phase}.", "energy"),
            results[f"{scenario}.total.{phase}.energy"],
            rtol=1e-12,
            atol=1e-30,
        )


@pytest.mark.parametrize("scenario", ["speculative", "baseline"])
def test_feature_view_with_other_covers_phase_totals_and_leakage_splits_by_component(built, scenario):
    results = built.evaluate(L_prompt=LENGTHS)
    for phase in PHASES:
        for quantity in ("energy", "latency"):
            np.testing.assert_allclose(
                _sum(results, f"{scenario}.feature.{phase}.", quantity),
                results[f"{scenario}.total.{phase}.{quantity}"],
                rtol=1e-12,
                atol=1e-30,
            )
    by_component = _sum(results, f"{scenario}.leakage.", "energy")
    np.testing.assert_allclose(by_component, results[f"{scenario}.leakage_energy"], rtol=1e-12, atol=1e-30)
    np.testing.assert_allclose(
        results[f"{scenario}.dynamic_energy"] + by_component, results[f"{scenario}.burst_energy"], rtol=1e-12
    )
    phases = sum(results[f"{scenario}.total.{phase}.latency"] for phase in PHASES)
    np.testing.assert_allclose(phases, results[f"{scenario}.serial_latency"], rtol=1e-12)
    assert np.all(results[f"{scenario}.burst_latency"] <= results[f"{scenario}.serial_latency"] * (1 + 1e-12))


def test_per_token_metrics_follow_from_the_burst(built):
    results = built.evaluate(L_prompt=LENGTHS)
    committed = built.defaults.get("E_commit")
    spec = {
        name: results[f"speculative.{name}"]
        for name in (
            "burst_energy",
            "burst_latency",
            "energy_per_token",
            "latency_per_token",
            "tokens_per_joule",
            "throughput",
            "power",
        )
    }
    if committed is not None:
        np.testing.assert_allclose(spec["energy_per_token"], spec["burst_energy"] / committed, rtol=1e-12)
    np.testing.assert_allclose(spec["tokens_per_joule"], 1 / spec["energy_per_token"], rtol=1e-12)
    np.testing.assert_allclose(spec["throughput"], 1 / spec["latency_per_token"], rtol=1e-12)
    np.testing.assert_allclose(spec["power"], spec["burst_energy"] / spec["burst_latency"], rtol=1e-12)


@pytest.mark.parametrize("scenario", ["speculative", "baseline"])
def test_costs_never_decrease_with_prompt_length(built, scenario):
    results = built.evaluate(L_prompt=np.arange(1, 3000, 7))
    for metric in ("burst_energy", "burst_latency", "energy_per_token", "latency_per_token"):
        assert np.all(np.diff(results[f"{scenario}.{metric}"]) >= -1e-15 * results[f"{scenario}.{metric}"][1:]), metric


def test_k_zero_speculation_is_the_baseline(tmp_path):
    stats = tmp_path / "stats.yaml"
    stats.write_text(yaml.safe_dump({"k": 0, "histogram": {0: 3}}))
    for hardware in ("hardware_knobs", "hardware_soc_pipelined", "hardware_legacy"):
        results = build_model(EXAMPLES / "model_tiny.yaml", EXAMPLES / f"{hardware}.yaml", stats).evaluate(
            L_prompt=LENGTHS
        )
        for key in [key for key in results if key.startswith("speculative.")]:
            np.testing.assert_allclose(
                results[key],
                results[key.replace("speculative.", "baseline.", 1)],
                rtol=1e-12,
                atol=1e-30,
                err_msg=f"{hardware}: {key}",
            )


def test_expression_size_does_not_grow_with_layers(tmp_path):
    sizes = []
    for layers in (4, 80):
        model = yaml.safe_load((EXAMPLES / "model_llama2_7b.yaml").read_text())
        model["n_layers"] = layers
        path = tmp_path / f"model_{layers}.yaml"
        path.write_text(yaml.safe_dump(model))
        built_model = build_model(path, EXAMPLES / "hardware_soc_pipelined.yaml", EXAMPLES / "stats_k4.yaml")
        accounting = built_model.accounting
        sizes.append(
            sum(sp.count_ops(expression) for expression in accounting.quantities.values())
            + sum(sp.count_ops(accounting.total(quantity)) for quantity in ("energy", "latency"))
        )
    assert sizes[0] == sizes[1]


def test_proxy_and_out_of_scope_terms_carry_reasons(built):
    listed = built.accounting.terms_by_status()
    assert listed["proxy"], "the selfspec pack declares proxy terms"
    assert all(term.reason for status in ("proxy", "out_of_scope") for term in listed[status])


def test_hardware_coefficients_can_stay_symbolic():
    # The serialized closed forms keep any coefficient as a symbol; evaluated at the file's values they
    # give the folded model's numbers, and the symbol is an evaluator input (sweepable).
    files = [EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml"]
    energies = [
        name
        for name, spec in build_model(*files).pack.symbols.items()
        if spec.source == "hardware" and spec.unit == "pJ"
    ]
    symbolic = build_model(*files, keep=energies)
    assert {"e_AD", "e_AR", "e_arr", "e_dac", "e_tok"} <= set(
        symbolic.evaluator.input_names
    )  # the ones this hardware uses
    assert symbolic.accounting.total("energy", "draft").free_symbols & {symbolic.pack.symbol(name) for name in energies}
    folded = build_model(*files).evaluate(L_prompt=LENGTHS)
    kept = symbolic.evaluate(L_prompt=LENGTHS)
    for key in ("speculative.energy_per_token", "baseline.energy_per_token", "speculative.stage.draft.qkv.energy"):
        np.testing.assert_allclose(kept[key], folded[key], rtol=1e-12)
    doubled = symbolic.evaluate(L_prompt=LENGTHS, e_AD=2 * symbolic.defaults["e_AD"])
    np.testing.assert_allclose(
        doubled["speculative.component.draft.adc_draft.energy"],
        2 * kept["speculative.component.draft.adc_draft.energy"],
        rtol=1e-15,
    )
