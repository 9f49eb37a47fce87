"""Best K under geometric acceptance, against the plain loop oracle run once per K."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES, run_cli
from oracles import oracle_selfspec as oracle

from symcost.packs.selfspec.optimize_k import optimize_k

MODEL, HARDWARE = EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_soc_pipelined.yaml"
GEOMETRIC = EXAMPLES / "stats_geometric.yaml"


def _oracle_curve(tmp_path, model, hardware, alpha, length, k_max):
    rates, efficiencies = [], []
    for k in range(k_max + 1):
        probabilities = {a: alpha**a * (1 - alpha) if a < k else alpha**k for a in range(k + 1)}
        stats = tmp_path / f"stats_{k}.json"
        stats.write_text(json.dumps({"k": k, "histogram": {str(a): p for a, p in probabilities.items()}}))
        point = oracle.run(str(model), str(hardware), str(stats), [length])["points"][0]["speculative"]
        rates.append(point["throughput_tokens_per_s"])
        efficiencies.append(point["tokens_per_joule"])
    return np.array(rates), np.array(efficiencies)


@pytest.mark.parametrize("alpha", [0.5, 0.9])
def test_curve_and_best_k_equal_the_oracle_run_per_k(tmp_path, peer_examples, alpha):
    # The reference's layer-pipelined example (the oracle reads the reference's formats only).
    model, hardware = peer_examples / "model_qwen3_0p6b.yaml", peer_examples / "hardware_soc_area.yaml"
    (curve,) = optimize_k(model, hardware, GEOMETRIC, [700], alphas=[alpha], k_max=10)
    rates, efficiencies = _oracle_curve(tmp_path, model, hardware, alpha, 700, 10)
    np.testing.assert_allclose(curve.values["speculative.throughput"], rates, rtol=1e-9)
    np.testing.assert_allclose(curve.values["speculative.tokens_per_joule"], efficiencies, rtol=1e-9)
    assert curve.best == {"throughput": int(np.argmax(rates)), "tokens_per_joule": int(np.argmax(efficiencies))}


def test_higher_acceptance_never_lowers_the_best_throughput_k():
    curves = optimize_k(MODEL, HARDWARE, GEOMETRIC, [700], alphas=[0.3, 0.6, 0.9, 0.97], k_max=24)
    best = [curve.best["throughput"] for curve in curves]
    assert best == sorted(best) and best[-1] > best[0]


def test_cli_prints_the_curve(tmp_path):
    result = run_cli(
        "optimize-k",
        "--model",
        MODEL,
        "--hardware",
        HARDWARE,
        "--stats",
        GEOMETRIC,
        "--alpha",
        "0.8",
        "--k-max",
        "6",
        "--prompt-lengths",
        "700",
    )
    assert result.code == 0, result.stderr
    assert "alpha = 0.8, L_prompt = 700: best K =" in result.stdout and "<- throughput" in result.stdout


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--stats", EXAMPLES / "stats_k4.yaml"], "needs a geometric acceptance model"),
        (["--stats", GEOMETRIC, "--alpha", "1.5"], "alpha must lie in (0, 1)"),
        (["--stats", GEOMETRIC, "--alpha", "x"], "expected comma-separated acceptance rates"),
    ],
)
def test_bad_input_exits_2(extra, fragment):
    result = run_cli("optimize-k", "--model", MODEL, "--hardware", HARDWARE, *extra)
    assert result.code == 2 and fragment in result.stderr and "Traceback" not in result.stderr
