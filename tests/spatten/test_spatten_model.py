"""The SpAtten lookahead model against a plain-loop oracle, exact enumeration, and its Monte Carlo."""

from __future__ import annotations

import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from oracles import oracle_spatten as oracle
from spatten.spatten_configs import EXAMPLE, configs, edited, write_config

from symcost.packs.spatten.config import load_config
from symcost.packs.spatten.expectation import exact_metrics
from symcost.packs.spatten.model import build_layer_model
from symcost.packs.spatten.montecarlo import run_monte_carlo
from symcost.reductions import reduce_elements


def examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def model_of(data: dict):
    with tempfile.TemporaryDirectory() as directory:
        return build_layer_model(load_config(write_config(directory, data)))


def close(actual: float, expected: float, relative: float = 1e-10) -> bool:
    return abs(actual - expected) <= relative * max(1.0, abs(expected))


@examples(40)
@given(configs(), st.data())
def test_trial_metrics_match_the_plain_loop_oracle(data, draw):
    model = model_of(data)
    assert [(int(n), int(k)) for n, k in zip(model.tokens, model.kept)] == oracle.token_counts(data)
    true_positives = [draw.draw(st.integers(0, int(kept))) for kept in model.kept]
    assume(oracle.tie_margin(data, true_positives) > 1e-9)
    metrics = reduce_elements(model.pack, model.evaluate(np.array([true_positives], dtype=float)))
    expected = oracle.trial(data, true_positives)
    for key, value in expected.items():
        assert close(float(metrics[key][0]), value), key
    # The pack's network figure over these reductions: the seed's net performance improvement.
    baseline, pipelined = expected["baseline_total_cycles"], expected["pipelined_total_cycles"]
    if baseline > 0:  # every factor and the minimum stage may be 0: no cycles, no speedup
        assert close(float(model.series(metrics)["net_speedup_percent"][0]), 100 * (baseline - pipelined) / baseline)


@examples(15)
@given(configs(max_layers=3, max_tokens=9))
def test_exact_mean_and_std_match_enumeration_of_every_outcome(data):
    model = model_of(data)
    moments = exact_metrics(model)
    means, stds = oracle.exact_moments(data)
    for key in oracle.METRICS:
        assert close(float(moments.mean[key]), means[key], 1e-9), key
        assert abs(float(moments.std[key]) - stds[key]) <= 1e-6 * max(1.0, abs(means[key])), key


@examples(20)
@given(configs())
def test_a_linear_metric_reduces_to_its_textbook_form(data):
    # Corrective bytes are linear in tp, so E = b_corr * sum_l K_l (1 - R) exactly.
    model = model_of(data)
    vector = data["model"]["embedding_dim"] * data["model"]["bytes_per_element"]
    textbook = vector * data["speculation"]["corrective_fetch_vectors"] * model.kept.sum() * (1 - model.recall)
    assert close(float(exact_metrics(model).mean["total_corrective_bytes"]), textbook, 1e-9)


def test_monte_carlo_means_lie_within_their_confidence_interval():
    model = build_layer_model(load_config(EXAMPLE))
    result = run_monte_carlo(model, trials=4000, seed=7)
    exact = exact_metrics(model)
    for key, expected in exact.mean.items():
        standard_error = float(exact.std[key]) / np.sqrt(result.trials)
        assert abs(result.mean(key) - float(expected)) <= 4 * standard_error + 1e-9 * abs(float(expected)), key
    for key in ("pipelined_total_cycles", "pipelined_total_dram_bytes", "mean_hidden_cycles"):
        assert result.std(key) == pytest.approx(float(exact.std[key]), rel=0.1), key


def test_the_seed_draws_its_own_trials():
    # numpy's legacy generator, one binomial per layer per trial: the seed's simulator for seed 42.
    model = build_layer_model(load_config(EXAMPLE))
    result = run_monte_carlo(model, trials=50, seed=42)
    assert result.mean("pipelined_total_cycles") == pytest.approx(1905201.2952, abs=1e-6)
    assert result.std("pipelined_total_cycles") == pytest.approx(84.643886962, abs=1e-6)
    assert result.mean("mean_hidden_cycles") == pytest.approx(3835.3285, abs=1e-6)


def test_monte_carlo_is_reproducible_and_chunking_does_not_change_the_draws(monkeypatch):
    model = build_layer_model(load_config(EXAMPLE))
    whole = run_monte_carlo(model, trials=30, seed=3)
    monkeypatch.setattr("symcost.packs.spatten.montecarlo.CHUNK_TRIALS", 7)
    chunked = run_monte_carlo(model, trials=30, seed=3)
    for key, values in whole.metrics.items():
        np.testing.assert_array_equal(values, chunked.metrics[key])
    assert not np.array_equal(
        whole.metrics["pipelined_total_cycles"],
        run_monte_carlo(model, trials=30, seed=4).metrics["pipelined_total_cycles"],
    )


@examples(20)
@given(configs(), st.lists(st.decimals("0.001", "1", places=3).map(float), min_size=2, max_size=6, unique=True))
def test_higher_recall_never_increases_corrective_traffic(data, recalls):
    model = model_of(data)
    recalls = np.sort(np.array(recalls))
    corrective = exact_metrics(model, model.precision, recalls).mean["total_corrective_bytes"]
    assert np.all(np.diff(corrective) <= 1e-9 * max(1.0, float(corrective.max())))


@examples(15)
@given(configs())
@example(edited({"model.layers": 1, "model.initial_tokens": 52, "model.token_pruning_rate": 0.0}))
def test_a_perfect_predictor_wastes_and_misses_nothing(data):
    model = model_of(edited({"speculation.precision": 1.0, "speculation.recall": 1.0}, data))
    exact = exact_metrics(model)
    result = run_monte_carlo(model, trials=5, seed=0)
    for key in ("total_wasted_bytes", "total_corrective_bytes"):
        assert float(exact.mean[key]) == 0.0
        assert np.all(result.metrics[key] == 0.0)


def test_token_counts_are_exact_where_floats_would_round_down():
    # 90 * (1 - 0.3) is 63, but in floats 62.99999999999999, which truncates to 62.
    assert int(90 * (1 - 0.3)) == 62
    model = model_of(edited({"model.initial_tokens": 90, "model.token_pruning_rate": 0.3, "model.layers": 2}))
    assert list(model.tokens) == [90, 63] and list(model.kept) == [63, 44]
