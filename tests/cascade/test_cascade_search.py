"""Design-space search: the stage-by-stage optimum against a brute-force grid of the plain-loop oracle."""

from __future__ import annotations

import itertools

import pytest
from cascade.cascade_helpers import oracle
from conftest import EXAMPLES

from symcost.packs.cascade.config import read_cascade
from symcost.packs.cascade.model import build_cascade
from symcost.packs.cascade.search import search_horizons

K_MAX = 24


@pytest.fixture(scope="module")
def seed():
    model = build_cascade(read_cascade(EXAMPLES / "cascade_seed003.yaml"))
    return model, search_horizons(model, k_max=K_MAX)


def _oracle_time(model, horizons):
    stages = model.config.stages
    W = [float(s.weights_bytes) for s in stages]
    BW = [model.config.level(s.placement.level).bandwidth_GBps * 1e9 for s in stages]
    T = [s.compute_time_ns * 1e-9 for s in stages]
    return oracle(W, BW, T, [s.acceptance for s in stages], list(horizons))["cascade.time_per_token"]


def test_optimum_is_the_best_point_of_the_whole_grid(seed):
    model, design = seed
    grid = itertools.product(range(1, K_MAX + 1), repeat=2)
    best = min(grid, key=lambda horizons: _oracle_time(model, horizons))
    assert design.optimum.horizons == best == (5, 10)
    assert design.optimum.time_per_token == pytest.approx(_oracle_time(model, best), rel=1e-12)


def test_rule_is_the_best_point_on_its_line(seed):
    model, design = seed
    best = min(((4 * k, k) for k in range(1, K_MAX + 1)), key=lambda horizons: _oracle_time(model, horizons))
    assert design.rule.horizons == best
    assert design.rule_holds is False
    assert design.rule.speedup < design.optimum.speedup


def test_continuous_optimum_brackets_the_integer_one(seed):
    _, design = seed
    for stage in design.stages:
        assert abs(stage.continuous - stage.horizon) < 1


def test_the_seed_equations_have_no_optimum(seed):
    model, design = seed
    assert design.seed.cost_horizons == ("K_0",) and design.seed.cost_proportional
    assert design.seed.speedup_horizons == ()
    assert design.seed.cost_slope == pytest.approx(model.figures()["cascade.C_total"] / 64, rel=1e-12)


def test_as_given_is_the_files_horizons(seed):
    model, design = seed
    assert design.as_given.horizons == (64, 16)
    assert design.as_given.speedup == pytest.approx(model.figures()["cascade.speedup_standard"], rel=1e-12)
