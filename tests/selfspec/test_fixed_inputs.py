"""Models built with K (and E[a+1] or alpha) folded in before accounting equal the general model."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES

from symcost import build_model
from symcost.packs.selfspec.model import _FIXINGS_KEPT

LENGTHS = np.array([1.0, 7.0, 100.0, 5000.0, 30000.0])


@pytest.mark.parametrize("hardware", ["hardware_soc_pipelined.yaml", "hardware_knobs.yaml", "hardware_legacy.yaml"])
@pytest.mark.parametrize("stats", ["stats_k4.yaml", "stats_geometric.yaml"])
def test_every_output_equals_the_model_with_symbolic_k(hardware, stats):
    paths = (EXAMPLES / "model_tiny.yaml", EXAMPLES / hardware, EXAMPLES / stats)
    general = build_model(*paths).evaluate(L_prompt=LENGTHS)
    fixed_model = build_model(*paths, vary=["L_prompt"])
    assert fixed_model.evaluator.input_names == ("L_prompt",)
    fixed = fixed_model.evaluate(L_prompt=LENGTHS)
    assert fixed.keys() == general.keys()
    for name, values in general.items():
        np.testing.assert_allclose(fixed[name], values, rtol=1e-12, atol=1e-300, err_msg=name)


def test_step_sums_are_unrolled_when_k_is_fixed():
    import sympy as sp

    model = build_model(
        EXAMPLES / "model_tiny.yaml",
        EXAMPLES / "hardware_soc_pipelined.yaml",
        EXAMPLES / "stats_k4.yaml",
        vary=["L_prompt"],
    )
    assert not model.closed_form("speculative.latency_per_token").has(sp.floor, sp.ceiling)


def test_closed_forms_with_many_sets_of_values_keep_a_bounded_memo():
    """A long-lived model (the service) asked for closed forms at many values keeps only the latest memos,
    and a form asked again after its memo was dropped is the same expression."""
    model = build_model(EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", EXAMPLES / "stats_k4.yaml")
    name = "speculative.energy_per_token"
    first = model.closed_form(name, {"K": 4.0, "E_commit": 2.5})
    for commit in range(1, 40):
        model.closed_form(name, {"K": 4.0, "E_commit": 1.0 + commit / 10})
    assert len(model._fixings) == _FIXINGS_KEPT
    assert model.closed_form(name, {"K": 4.0, "E_commit": 2.5}) == first
