"""Placement feasibility: utilisation per level, and infeasibility named by level, need and capacity."""

from __future__ import annotations

import pytest
from cascade.cascade_helpers import cascade_file, stage
from conftest import EXAMPLES
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symcost.packs.cascade.config import read_cascade
from symcost.packs.cascade.model import build_cascade
from symcost.packs.cascade.placement import check_placement

LEVELS = [
    {"name": "SRAM", "capacity_bytes": "16 MB", "per": "core", "bandwidth_GBps": 2000},
    {"name": "HBM", "capacity_bytes": "16 GB", "per": "chip", "bandwidth_GBps": 819},
]


def _fits(tmp_path, stages):
    return {
        fit.name: fit for fit in check_placement(build_cascade(read_cascade(cascade_file(tmp_path, stages, LEVELS))))
    }


def test_seed_placement():
    fits = {fit.name: fit for fit in check_placement(build_cascade(read_cascade(EXAMPLES / "cascade_seed003.yaml")))}
    assert fits["HBM"].fits and fits["HBM"].utilisation == pytest.approx(0.95) and fits["HBM"].units == 16
    assert not fits["VMEM"].fits and fits["VMEM"].units == 16 * 256
    assert fits["VMEM"].problems == (
        "VMEM: needs 40 MB per core (tiny 40 MB), capacity 16 MB per core: over by 24 MB (250% of capacity)",
    )


def test_infeasible_example_names_level_need_and_capacity():
    (fit,) = check_placement(build_cascade(read_cascade(EXAMPLES / "cascade_gemma_infeasible.yaml")))
    assert fit.problems == (
        "HBM: needs 19.58 GB per chip (draft 2.506 GB + target 17.08 GB), capacity 16 GB per chip: "
        "over by 3.583 GB (122% of capacity)",
    )


def test_sharding_divides_the_need_per_unit(tmp_path):
    stages = [
        stage("tiny", "SRAM", weights="40 MB", placement={"level": "SRAM", "shards": 3}),
        stage("big", "HBM", weights="10 GB", speculation=None),
    ]
    fits = _fits(tmp_path, stages)
    assert fits["SRAM"].fits and fits["SRAM"].usage == pytest.approx(40e6 / 3)
    assert fits["HBM"].utilisation == pytest.approx(10 / 16)


def test_more_shards_than_units_is_infeasible(tmp_path):
    stages = [
        stage("tiny", "SRAM", weights="1 MB", placement={"level": "SRAM", "shards": 9}),
        stage("big", "HBM", weights="10 GB", speculation=None),
    ]
    assert _fits(tmp_path, stages)["SRAM"].problems == ("SRAM: tiny is split over 9 cores, but the level has 8",)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.1, 12.0), min_size=2, max_size=2))
def test_fits_exactly_when_the_sum_is_within_capacity(tmp_path_factory, sizes):
    assume(abs(sum(sizes) - 16) > 1e-6)  # away from the rounding of the file's decimal figures
    stages = [
        stage("a", "HBM", weights=f"{sizes[0]} GB"),
        stage("b", "HBM", weights=f"{sizes[1]} GB", speculation=None),
    ]
    fit = _fits(tmp_path_factory.mktemp("fit"), stages)["HBM"]
    assert fit.fits == (sum(sizes) < 16)
    assert fit.utilisation == pytest.approx(sum(sizes) / 16)
