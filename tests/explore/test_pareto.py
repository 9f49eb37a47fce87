"""Non-dominated sets: the vectorised filter and the streaming front against a plain double loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from symcost.errors import SymcostError
from symcost.pareto import Objective, StreamingFront, non_dominated, parse_constraint, parse_objective


def brute_force(costs: np.ndarray) -> np.ndarray:
    """Row i is kept when no row j is <= in every objective and < in one (a plain double loop)."""
    keep = np.ones(len(costs), dtype=bool)
    for i in range(len(costs)):
        for j in range(len(costs)):
            if all(costs[j] <= costs[i]) and any(costs[j] < costs[i]):
                keep[i] = False
                break
    return keep


# Small integers make ties and duplicates common, where filters go wrong.
costs_strategy = st.integers(1, 3).flatmap(
    lambda m: arrays(np.float64, st.tuples(st.integers(0, 60), st.just(m)), elements=st.integers(0, 6).map(float))
)


@given(costs_strategy)
def test_non_dominated_equals_the_double_loop(costs):
    np.testing.assert_array_equal(non_dominated(costs), brute_force(costs))


@given(costs_strategy, st.integers(1, 17), st.data())
def test_a_streamed_front_equals_the_front_of_everything(costs, chunk, data):
    senses = data.draw(st.lists(st.sampled_from(["min", "max"]), min_size=costs.shape[1], max_size=costs.shape[1]))
    objectives = [Objective(f"o{index}", sense) for index, sense in enumerate(senses)]
    columns = {objective.name: costs[:, index] for index, objective in enumerate(objectives)}
    columns["design"] = np.arange(len(costs))
    front = StreamingFront(objectives)
    for start in range(0, len(costs), chunk):
        front.add({name: values[start : start + chunk] for name, values in columns.items()})
    minimised = (
        np.column_stack([objective.minimised(costs[:, index]) for index, objective in enumerate(objectives)])
        if len(costs)
        else costs
    )
    expected = set(np.flatnonzero(brute_force(minimised)))
    assert set(front.columns.get("design", np.array([], dtype=int)).tolist()) == expected
    assert front.evaluated == front.feasible == len(costs)


def test_constraints_filter_before_dominance():
    front = StreamingFront(
        [Objective("e", "min"), Objective("t", "min")], [parse_constraint("a<=2 mm^2", {"a": "m^2"})]
    )
    # design 0 dominates design 1 but breaks the area bound: design 1 is on the front
    front.add(
        {
            "e": np.array([1.0, 2.0]),
            "t": np.array([1.0, 2.0]),
            "a": np.array([3e-6, 1e-6]),
            "within_limits": np.array([True, True]),
        }
    )
    assert front.columns["e"].tolist() == [2.0] and front.feasible == 1


def test_designs_beyond_a_pack_limit_are_infeasible():
    front = StreamingFront([Objective("e", "min"), Objective("t", "max")])
    front.add({"e": np.array([1.0, 2.0]), "t": np.array([5.0, 4.0]), "within_limits": np.array([False, True])})
    assert front.columns["e"].tolist() == [2.0] and "within_limits" not in front.columns


@pytest.mark.parametrize("text, message", [("energy", "expected min:OUTPUT"), ("best:energy", "expected min:OUTPUT")])
def test_bad_objectives(text, message):
    with pytest.raises(SymcostError, match=message):
        parse_objective(text)


@pytest.mark.parametrize(
    "text, message",
    [("area<800", "expected OUTPUT<=VALUE"), ("nope<=1", "not an output"), ("area<=3 ns", "expected area")],
)
def test_bad_constraints(text, message):
    with pytest.raises(SymcostError, match=message):
        parse_constraint(text, {"area": "m^2"})


def test_a_constraint_reads_its_unit():
    assert parse_constraint("area>=800 mm^2", {"area": "m^2"}).value == pytest.approx(8e-4)
    assert parse_constraint("t<=40 ms", {"t": "s"}).value == pytest.approx(0.04)
