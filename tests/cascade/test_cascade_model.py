"""The cascade engine: both formulations against a plain-loop oracle for n = 2..5 stages,
the two-stage case against speculative decoding's closed forms, and the seed's figures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from cascade.cascade_helpers import cascade_file, chain_model, oracle, stage
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost.packs.cascade.config import read_cascade
from symcost.packs.cascade.model import CascadeError, build_cascade

SIZES = (2, 3, 4, 5)


@pytest.fixture(scope="module")
def chains(tmp_path_factory):
    directory = tmp_path_factory.mktemp("chains")
    return {n: chain_model(directory, n) for n in SIZES}


@pytest.fixture(scope="module")
def seed_figures():
    return build_cascade(read_cascade(EXAMPLES / "cascade_seed003.yaml")).figures()


stage_values = st.fixed_dictionaries(
    {
        "W": st.floats(1e6, 2e10),
        "BW": st.floats(1e10, 4e12),
        "T": st.floats(1e-5, 1e-2),
        "gamma": st.floats(0.05, 0.99),
        "K": st.integers(1, 40),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SIZES), st.lists(stage_values, min_size=5, max_size=5))
def test_both_formulations_match_the_oracle(chains, n, values):
    model, values = chains[n], values[:n]
    inputs = {}
    for i, v in enumerate(values):
        inputs.update({f"W_stated_{i}": v["W"], f"BW_L{i}": v["BW"], f"T_{i}": v["T"], f"gamma_{i}": v["gamma"]})
        if i < n - 1:
            inputs[f"K_{i}"] = v["K"]
    results = model.evaluate(**inputs)
    expected = oracle(*([v[key] for v in values] for key in ("W", "BW", "T", "gamma", "K")))
    for name, value in expected.items():
        assert results[name] == pytest.approx(value, rel=1e-12), name


def test_two_stages_are_speculative_decoding_symbolically(chains):
    """E[tokens] = (1 - alpha^(gamma+1)) / (1 - alpha) and improvement = that / (gamma c + 1), derived by symcost."""
    model = chains[2]
    alpha, gamma, c = model.symbol("gamma_1"), model.symbol("K_0"), sp.Symbol("c", positive=True)
    expected_tokens = (1 - alpha ** (gamma + 1)) / (1 - alpha)
    expected_improvement = expected_tokens / (gamma * c + 1)
    target_pass = model.symbol("W_stated_1") / model.symbol("BW_L1") + model.symbol("T_1")
    draft_is_c_targets = {model.symbol("T_0"): c * target_pass - model.symbol("W_stated_0") / model.symbol("BW_L0")}
    for name, expected in (
        ("cascade.tokens_per_iteration", expected_tokens),
        ("cascade.speedup_standard", expected_improvement),
    ):
        derived = sp.piecewise_fold(model.outputs[name].xreplace(draft_is_c_targets))
        (at_one, one), (general, otherwise) = derived.args
        assert one == sp.Eq(alpha, 1) and otherwise == sp.true
        assert sp.simplify(general - expected) == 0
        assert sp.simplify(at_one - sp.limit(expected, alpha, 1)) == 0


@settings(max_examples=40, deadline=None)
@given(st.floats(0.01, 0.999), st.integers(1, 30), st.floats(0.001, 2.0), st.floats(1e-4, 1e-1))
def test_two_stages_are_speculative_decoding_numerically(chains, alpha, gamma, c, target_time):
    results = chains[2].evaluate(
        W_stated_0=0.0, W_stated_1=0.0, T_1=target_time, T_0=c * target_time, gamma_1=alpha, K_0=gamma
    )
    tokens = (1 - alpha ** (gamma + 1)) / (1 - alpha)
    assert results["cascade.tokens_per_iteration"] == pytest.approx(tokens, rel=1e-12)
    assert results["cascade.speedup_standard"] == pytest.approx(tokens / (gamma * c + 1), rel=1e-12)


def test_perfect_acceptance_takes_the_ratio_one_branch(chains):
    results = chains[2].evaluate(gamma_1=1.0, K_0=7)
    assert results["cascade.tokens_per_iteration"] == 8


def test_seed_equations_as_written(chains):
    """E[N_i] = E[N_{i-1}] gamma_{i-1} (the seed's subscripts), C_total = sum (W/BW + T) E[N]."""
    outputs = chains[3].outputs
    K0, g0, g1 = (chains[3].symbol(name) for name in ("K_0", "gamma_0", "gamma_1"))
    assert outputs["stage.s2.N"] == K0 * g0 * g1
    passes = [
        chains[3].symbol(f"W_stated_{i}") / chains[3].symbol(f"BW_L{i}") + chains[3].symbol(f"T_{i}") for i in range(3)
    ]
    assert (
        sp.simplify(outputs["cascade.C_total"] - (passes[0] * K0 + passes[1] * K0 * g0 + passes[2] * K0 * g0 * g1)) == 0
    )


def test_seed_figures(seed_figures):
    assert seed_figures["cascade.gamma_total"] == pytest.approx(0.95 * 0.85 * 0.90, rel=1e-15)
    assert seed_figures["cascade.T_total"] == pytest.approx(6.8e-3, rel=1e-12)
    for name, time in (("tiny", 0.8), ("draft", 2.1), ("target", 3.9)):
        assert seed_figures[f"stage.{name}.time_share"] == pytest.approx(time / 6.8, rel=1e-12)
    assert seed_figures["level.HBM.usage"] == pytest.approx(1.8e9 + 13.4e9, rel=1e-15)
    assert seed_figures["level.HBM.utilisation"] == pytest.approx(15.2 / 16, rel=1e-15)
    assert seed_figures["level.VMEM.utilisation"] == pytest.approx(40 / 16, rel=1e-15)
    assert seed_figures["stage.tiny.W_params"] == 10e6 * 2
    assert seed_figures["stage.draft.W_params"] == 2e9 and seed_figures["stage.target.W_params"] == 14e9
    assert seed_figures["stage.target.N"] == pytest.approx(64 * 0.95 * 0.85, rel=1e-15)
    assert seed_figures["stage.target.stream_time"] == pytest.approx(13.4 / 819, rel=1e-12)


def test_footprint_follows_parameters_when_none_is_given(tmp_path):
    stages = [
        stage("a", "HBM", weights=None, parameters=3e9, precision="int4"),
        stage("b", "HBM", weights=None, parameters=1e9, bits_per_param=6, speculation=None),
    ]
    for entry in stages:
        entry.pop("weights_bytes")
    figures = build_cascade(read_cascade(cascade_file(tmp_path, stages))).figures()
    assert figures["stage.a.W"] == 1.5e9 and figures["stage.b.W"] == 0.75e9
    assert figures["level.HBM.usage"] == 2.25e9


def test_pack_errors_name_the_problem(tmp_path):
    pack = tmp_path / "pack.yaml"
    text = (EXAMPLES.parent / "formulas" / "cascade.yaml").read_text()
    pack.write_text(text.replace("binding: previous.N,", "binding: previous.nothing,"))
    config = read_cascade(cascade_file(tmp_path, [stage("a", "HBM"), stage("b", "HBM", speculation=None)]))
    with pytest.raises(CascadeError, match="nothing is neither a computed quantity nor an input"):
        build_cascade(config, str(pack))


def test_evaluator_is_vectorised(chains):
    grid = np.arange(1, 11)
    results = chains[3].evaluate(K_0=grid)
    assert results["cascade.C_total"].shape == (10,)
    assert np.all(np.diff(results["cascade.C_total"]) > 0) and math.isclose(
        results["cascade.C_total"][9] / results["cascade.C_total"][0], 10
    )
