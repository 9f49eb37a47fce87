"""The selfspec pack's acceptance statistics, defined in formulas/selfspec.yaml: P(a), E[a+1] and E[K-a],
against plain loops over the stats file (exact fractions for histograms)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from conftest import EXAMPLES
from hypothesis import given, settings
from hypothesis import strategies as st

from symcost import build_model
from symcost.pack import load_pack
from symcost.packs.selfspec.binding import acceptance, bind
from symcost.packs.selfspec.inputs import StatsSpec, read_hardware, read_model
from symcost.packs.selfspec.report import build_report
from symcost.registry import resolve_pack

PACK = load_pack(resolve_pack("selfspec"))
MODEL, HARDWARE = read_model(EXAMPLES / "model_tiny.yaml"), read_hardware(EXAMPLES / "hardware_knobs.yaml")


def plain_histogram(k: int, counts: dict[int, float]) -> dict[int, Fraction]:
    weights = {a: Fraction(repr(count)) if isinstance(count, float) else Fraction(count) for a, count in counts.items()}
    total = sum(weights.values())
    return {a: weights.get(a, Fraction(0)) / total for a in range(k + 1)}


def plain_geometric(k: int, alpha: float) -> dict[int, float]:
    return {a: alpha**a * (1 - alpha) if a < k else alpha**k for a in range(k + 1)}


def moments(k: int, probabilities: dict) -> tuple:
    committed = sum((a + 1) * p for a, p in probabilities.items())
    wasted = sum((k - a) * p for a, p in probabilities.items())
    return committed, wasted


@st.composite
def histograms(draw):
    k = draw(st.integers(0, 40))
    count = st.one_of(st.integers(0, 1000), st.floats(0, 1).map(lambda x: round(x, 6)))
    counts = draw(st.dictionaries(st.integers(0, k), count, min_size=1).filter(lambda c: sum(c.values()) > 0))
    return k, counts


@settings(max_examples=40)
@given(histograms())
def test_histogram_p_and_e_commit_are_exact(histogram):
    k, counts = histogram
    stats = StatsSpec(k=k, histogram=counts, source="stats.yaml")
    bindings = bind(PACK, MODEL, HARDWARE, stats)
    probabilities = plain_histogram(k, counts)
    committed, _ = moments(k, probabilities)
    bound = bindings.values[PACK.symbol("E_commit")]
    assert bound.value == committed and "stats.histogram given" in bound.provenance
    assert acceptance(PACK, bindings, stats) == probabilities


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.8, 0.97])
def test_geometric_p_and_e_commit_equal_plain_loops(alpha):
    for k in range(0, 13):
        stats = StatsSpec(k=k, alpha=alpha, source="stats.yaml")
        bindings = bind(PACK, MODEL, HARDWARE, stats)
        formula = bindings.values[PACK.symbol("E_commit")].value  # K and alpha stay inputs of the evaluator
        assert formula.free_symbols <= {PACK.symbol("K"), PACK.symbol("alpha")}
        probabilities = plain_geometric(k, alpha)
        committed, _ = moments(k, probabilities)
        value = float(formula.subs({PACK.symbol("K"): k, PACK.symbol("alpha"): alpha}))
        assert math.isclose(value, committed, rel_tol=1e-12), (k, value, committed)
        found = acceptance(PACK, bindings, stats)
        assert list(found) == list(range(k + 1))
        for a, p in probabilities.items():
            assert math.isclose(float(found[a]), p, rel_tol=1e-12, abs_tol=1e-300), (k, a)


def test_the_evaluator_gives_e_commit_and_e_waste_over_k_and_alpha():
    # optimize-k's model: K and alpha vary, E[a+1] is the pack's closed form in them.
    model = build_model(
        EXAMPLES / "model_tiny.yaml",
        EXAMPLES / "hardware_knobs.yaml",
        EXAMPLES / "stats_geometric.yaml",
        vary=["L_prompt", "K", "alpha"],
    )
    ks = np.arange(0, 17, dtype=float)
    for alpha in (0.25, 0.8, 0.95):
        results = model.evaluate(L_prompt=100, K=ks, alpha=alpha)
        for index, k in enumerate(ks.astype(int)):
            committed, wasted = moments(k, plain_geometric(k, alpha))
            assert math.isclose(results["speculative.committed_tokens"][index], committed, rel_tol=1e-12)
            assert math.isclose(results["speculative.wasted_steps"][index], wasted, rel_tol=1e-12, abs_tol=1e-12)
        np.testing.assert_array_equal(results["baseline.wasted_steps"], 0.0)


@pytest.mark.parametrize("stats", ["stats_k4", "stats_geometric"])
def test_the_report_states_the_stats_files_distribution(stats):
    model = build_model(EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / f"{stats}.yaml")
    speculation = build_report(model, [16])["speculation"]
    probabilities = (
        plain_histogram(4, {0: 10, 1: 8, 2: 12, 3: 15, 4: 55}) if stats == "stats_k4" else plain_geometric(4, 0.8)
    )
    committed, wasted = moments(4, probabilities)
    assert speculation["K"] == 4
    assert math.isclose(speculation["expected_committed_tokens"], committed, rel_tol=1e-12)
    assert math.isclose(speculation["expected_wasted_steps"], wasted, rel_tol=1e-12)
    assert speculation["acceptance"].keys() == {"0", "1", "2", "3", "4"}
    for a, p in probabilities.items():
        assert math.isclose(speculation["acceptance"][str(a)], p, rel_tol=1e-12)


def test_a_k_sweep_sets_e_commit_and_e_waste_follows():
    model = build_model(EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml")
    results = model.evaluate(L_prompt=64, K=np.array([1.0, 5.0, 8.0]), E_commit=np.array([1.5, 3.25, 9.0]))
    np.testing.assert_array_equal(results["speculative.committed_tokens"], [1.5, 3.25, 9.0])
    np.testing.assert_allclose(results["speculative.wasted_steps"], [0.5, 2.75, 0.0], rtol=1e-15)
