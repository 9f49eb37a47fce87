"""Claims of seed 003 recomputed: which hold, which do not, with both numbers; claim parsing rules."""

from __future__ import annotations

import pytest
from cascade.cascade_helpers import cascade_file, stage
from conftest import EXAMPLES

from symcost.errors import InputError
from symcost.packs.cascade.claims import check_claims
from symcost.packs.cascade.config import read_cascade

# Every claim of the seed example and its verdict (True: consistent).
SEED_VERDICTS = {
    "gamma_total": True,
    "breakdown_total": True,
    "share_tiny": True,
    "share_draft": True,
    "share_target": False,
    "footprint_tiny": False,
    "footprint_draft": False,
    "footprint_target": True,
    "tiny_fits_vmem": False,
    "vmem_usage": True,
    "vmem_utilisation": False,
    "vmem_utilisation_chip": False,
    "vmem_utilisation_pod": False,
    "hbm_usage": True,
    "hbm_utilisation": True,
    "hbm_fits": True,
    "hbm_usage_from_parameters": False,
    "hbm_utilisation_from_parameters": False,
    "cores_total": True,
    "int8_reduction": False,
    "tiny_time_vs_stream": True,
    "draft_time_vs_stream": False,
    "target_time_vs_stream": False,
    "tiny_time_vs_cost_equation": False,
    "draft_time_vs_cost_equation": False,
    "target_time_vs_cost_equation": False,
}


@pytest.fixture(scope="module")
def seed_results():
    return {result.claim.id: result for result in check_claims(read_cascade(EXAMPLES / "cascade_seed003.yaml"))}


def test_every_seed_claim_has_its_verdict(seed_results):
    assert {claim: result.consistent for claim, result in seed_results.items()} == SEED_VERDICTS


@pytest.mark.parametrize(
    "claim, stated, recomputed",
    [
        ("gamma_total", 0.73, 0.72675),
        ("share_target", 0.573, 3.9 / 6.8),  # 57.35 % rounds to 57.4 %, not 57.3 %
        ("footprint_tiny", 40e6, 20e6),  # 10M parameters x BF16
        ("footprint_draft", 1.8e9, 2e9),  # 2B x INT8
        ("vmem_utilisation", 0.025, 2.5),  # 40 MB in a 16 MB core
        ("vmem_utilisation_chip", 0.025, 40 / 16 / 256),
        ("vmem_utilisation_pod", 0.025, 40 / 16 / 4096),
        ("hbm_usage", 15.2e9, 15.2e9),
        ("hbm_usage_from_parameters", 15.2e9, 16e9),
        ("hbm_utilisation_from_parameters", 0.95, 1.0),
        ("int8_reduction", 4, 2),
        ("draft_time_vs_stream", 2.1e-3, 1.8 / 819),
        ("target_time_vs_stream", 3.9e-3, 13.4 / 819),
    ],
)
def test_both_numbers_of_a_claim(seed_results, claim, stated, recomputed):
    assert seed_results[claim].stated.value == pytest.approx(stated, rel=1e-12)
    assert seed_results[claim].recomputed == pytest.approx(recomputed, rel=1e-12)


def test_tolerance_comes_from_the_printed_digits(seed_results):
    assert seed_results["gamma_total"].stated.tolerance == pytest.approx(0.005)
    assert seed_results["share_target"].stated.tolerance == pytest.approx(0.0005)
    assert seed_results["hbm_usage"].stated.tolerance == pytest.approx(0.05e9)
    assert seed_results["footprint_target"].stated.tolerance == pytest.approx(0.05 * 13.4e9)  # tolerance: 5%


def test_shown_in_the_printed_unit(seed_results):
    assert seed_results["share_target"].recomputed_text == "57.35%"
    assert seed_results["footprint_tiny"].recomputed_text == "20 MB"
    assert seed_results["tiny_fits_vmem"].recomputed_text == "false"


def _check(tmp_path, **claim):
    claim = {"id": "c", "where": "test", **claim}
    path = cascade_file(
        tmp_path,
        [stage("a", "HBM", weights="1 GB"), stage("b", "HBM", weights="3 GB", speculation=None)],
        claims=[claim],
    )
    return check_claims(read_cascade(path))


def test_bound_claims_and_explicit_tolerances(tmp_path):
    assert _check(tmp_path, figure="level.HBM.usage", stated="4.0 GB")[0].consistent
    assert not _check(tmp_path, figure="level.HBM.usage", stated="4.1 GB")[0].consistent
    assert _check(tmp_path, figure="level.HBM.usage", stated="~4.1 GB", tolerance="0.2 GB")[0].consistent
    assert _check(tmp_path, figure="level.HBM.usage", stated="5 GB", relation=">=")[0].consistent
    assert not _check(tmp_path, figure="level.HBM.usage", stated="5 GB", relation="<=")[0].consistent


@pytest.mark.parametrize(
    "claim, message",
    [
        ({"figure": "level.HBM.usage", "stated": "~4 GB"}, "claims[0].tolerance: '~4 GB' is approximate"),
        (
            {"figure": "level.HBM.usage", "stated": "4 ms"},
            "claims[0].stated: level.HBM.usage is information (bytes), but ms is time",
        ),
        (
            {"figure": "level.HBM.usag", "stated": "4 GB"},
            "unknown figure 'level.HBM.usag'; did you mean 'level.HBM.usage'?",
        ),
        ({"figure": "level.HBM.fits", "stated": "4 GB"}, "level.HBM.fits is a yes/no verdict"),
        ({"figure": "level.HBM.usage", "stated": "lots"}, "expected a number as printed"),
        ({"figure": "level.HBM.usage", "stated": "4 GB", "tolerance": "~1 GB"}, "claims[0].tolerance: expected '5%'"),
    ],
)
def test_bad_claims_name_the_field(tmp_path, claim, message):
    with pytest.raises(InputError) as caught:
        _check(tmp_path, **claim)
    assert message in str(caught.value)
