"""Library-level tests of symcost.packs.selfspec.compat: k-sweep input, the k-sweep on the evaluator, simulator files, batch tables.

Numbers of the reference calculator are in tests/data/compat/reference_outputs.json
(its ``_note`` says how they were produced).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT
from hypothesis import given
from hypothesis import strategies as st

from symcost import build_model
from symcost.checked import with_overrides
from symcost.errors import InputError
from symcost.packs.selfspec.compat.acceptance import Candidate, read_candidates
from symcost.packs.selfspec.compat.batch import SummaryRow, final_ppa, summary_markdown
from symcost.packs.selfspec.compat.k_sweep import (
    best_by_prompt_length,
    k_sweep_report,
    sweep_points,
    sweep_stats,
    two_point_histogram,
)
from symcost.packs.selfspec.compat.simulator import read_run

DATA = ROOT / "tests" / "data" / "compat"
REFERENCE = json.loads((DATA / "reference_outputs.json").read_text())


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _issues(error: pytest.ExceptionInfo) -> list[str]:
    return [str(issue) for issue in error.value.issues]


# ---- the k-sweep input -----------------------------------------------------------------


def test_both_spellings_of_the_candidates_read_alike(tmp_path):
    listed = _write(
        tmp_path,
        "listed.yaml",
        "candidates:\n  - {k: 5, expected_accepted_tokens: 4.85}\n  - {k: 1, expected_accepted_tokens: 0.8}\n",
    )
    mapped = _write(tmp_path, "mapped.json", '{"1": 0.8, "5": 4.85}')
    expected = [Candidate(1, 0.8), Candidate(5, 4.85)]
    assert read_candidates(listed) == read_candidates(mapped) == expected
    assert [candidate.committed for candidate in expected] == [1.8, 5.85]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "candidates:\n  - {k: 2, expected_accepted_tokens: 2.5}\n",
            "candidates[0]: mean accepted tokens 2.5 exceeds K = 2",
        ),
        (
            "candidates:\n  - {k: 2, expected_accepted_tokens: 1}\n  - {k: 2, expected_accepted_tokens: 1.5}\n",
            "candidates[1]: K = 2 is given twice",
        ),
        ("3: 3.5\n", "3: mean accepted tokens 3.5 exceeds K = 3"),
        ("three: 1.5\n", "three"),
        ("3: many\n", "3"),
        ("candidates: []\n", "candidates"),
        ("candidates:\n  - {k: 2}\n", "expected_accepted_tokens: required field is missing"),
        ("candidates:\n  - {k: 2, expected_accepted_tokens: -0.5}\n", "expected_accepted_tokens"),
    ],
)
def test_bad_candidates_name_the_field(tmp_path, text, expected):
    with pytest.raises(InputError) as error:
        read_candidates(_write(tmp_path, "sweep.yaml", text))
    assert any(expected in issue for issue in _issues(error)), _issues(error)


@given(k=st.integers(0, 64), fraction=st.floats(0, 1))
def test_two_point_histogram_has_the_measured_mean(k, fraction):
    candidate = Candidate(k, k * fraction)
    histogram = two_point_histogram(candidate)
    assert math.isclose(sum(histogram.values()), 1.0, abs_tol=1e-12)
    assert math.isclose(sum(a * p for a, p in histogram.items()), candidate.mean_accepted, rel_tol=1e-12, abs_tol=1e-12)
    assert all(0 <= a <= k and p >= 0 for a, p in histogram.items())
    assert len(histogram) <= 2 and max(histogram) - min(histogram) <= 1


# ---- the k-sweep on the compiled evaluator ---------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model():
    candidates = [Candidate(0, 0.0), Candidate(2, 1.5), Candidate(4, 2.2), Candidate(7, 6.0)]
    return build_model(
        EXAMPLES / "model_tiny.yaml", EXAMPLES / "hardware_knobs.yaml", sweep_stats(candidates, "test")
    ), candidates


def test_one_vectorised_evaluation_equals_a_loop_over_points(tiny_model):
    model, candidates = tiny_model
    lengths = [1, 300, 300, 2048]
    points = sweep_points(model, candidates, lengths)
    assert [(point["l_prompt"], point["k"]) for point in points] == [(L, c.k) for L in lengths for c in candidates]
    for point in points:  # oracle: one evaluation per point, as the reference does it
        one = model.evaluate(
            L_prompt=np.array([point["l_prompt"]]),
            K=np.array([float(point["k"])]),
            E_commit=np.array([point["expected_committed_tokens"]]),
        )
        assert math.isclose(
            point["speculative"]["latency_ns_per_token"], one["speculative.latency_per_token"][0] * 1e9, rel_tol=1e-12
        )
        assert math.isclose(
            point["speculative"]["tokens_per_joule"], one["speculative.tokens_per_joule"][0], rel_tol=1e-12
        )
        assert math.isclose(
            point["baseline"]["energy_pj_per_token"], one["baseline.energy_per_token"][0] * 1e12, rel_tol=1e-12
        )


def test_k_zero_is_the_baseline(tiny_model):
    model, candidates = tiny_model
    point = sweep_points(model, candidates, [512])[0]
    assert point["k"] == 0
    for metric, value in point["baseline"].items():
        assert math.isclose(point["speculative"][metric], value, rel_tol=1e-12)
    assert math.isclose(point["throughput_speedup_vs_baseline"], 1.0, rel_tol=1e-12)


def _point(length: int, k: int, throughput: float, tokens_per_joule: float) -> dict:
    return {
        "l_prompt": length,
        "k": k,
        "speculative": {"throughput_tokens_per_s": throughput, "tokens_per_joule": tokens_per_joule},
    }


def test_best_k_is_the_highest_metric_and_ties_go_to_the_smaller_k():
    points = [_point(64, 4, 10.0, 3.0), _point(64, 2, 10.0, 1.0), _point(64, 8, 9.0, 5.0), _point(8, 1, 1.0, 1.0)]
    best = best_by_prompt_length(points)
    assert [entry["l_prompt"] for entry in best] == [8, 64]
    assert best[1]["best_throughput"]["k"] == 2 and best[1]["best_tokens_per_joule"]["k"] == 8


@pytest.mark.parametrize("case", REFERENCE["k_sweep"], ids=lambda case: case["hardware"])
def test_k_sweep_matches_the_reference(peer_examples, case):
    candidates = read_candidates(DATA / case["candidates"])
    model = build_model(
        peer_examples / case["model"], peer_examples / case["hardware"], sweep_stats(candidates, "test")
    )
    report = k_sweep_report(model, candidates, case["prompt_lengths"])
    assert len(report["points"]) == len(case["points"])
    for ours, theirs in zip(report["points"], case["points"]):
        assert (ours["l_prompt"], ours["k"]) == (theirs["l_prompt"], theirs["k"])
        for scenario in ("speculative", "baseline"):
            for metric, value in theirs[scenario].items():
                assert math.isclose(ours[scenario][metric], value, rel_tol=1e-9), (scenario, metric, ours, theirs)
    assert [
        (best["l_prompt"], best["best_throughput"]["k"], best["best_tokens_per_joule"]["k"])
        for best in report["best_by_prompt_length"]
    ] == [(best["l_prompt"], best["throughput_k"], best["tokens_per_joule_k"]) for best in case["best"]]


# ---- simulator result files and hardware overrides ---------------------------------------------


def test_simulator_run_is_read_with_its_model_and_knobs():
    run = read_run(DATA / "simulator" / "run_llama1b_adc5_10_delta.json")
    assert (run.model_label, run.model_file, run.prompt_length) == ("Llama-3.2-1B", "model_llama3_2_1b.yaml", 512)
    assert [(c.k, c.mean_accepted) for c in run.candidates] == [(2, 1.9), (4, 3.6), (8, 6.1)]
    overrides = run.hardware_overrides(verify_adc_bits=11)
    assert overrides["analog.adc.residual_bits"] == 11 and overrides["analog.adc.draft_bits"] == 5
    assert (
        overrides["analog.delta_readout.verify.dac_bits"] == 6
        and overrides["analog.delta_readout.draft.enabled"] is True
    )
    plain = read_run(DATA / "simulator" / "run_qwen0p6b_adc4_12.json").hardware_overrides(12)
    assert plain["analog.delta_readout.draft.enabled"] is False and plain["analog.delta_readout.draft.dac_bits"] is None


def _simulator_file(tmp_path: Path, **changes) -> Path:
    data = json.loads((DATA / "simulator" / "run_qwen1p7b_adc3_12.json").read_text())
    for dotted, value in changes.items():
        data = with_overrides(data, {dotted.replace("__", "."): value})
    return _write(tmp_path, "run.json", json.dumps(data))


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"model__checkpoint_path": "ckpt/mistral-7b.pth"}, "model.checkpoint_path: cannot tell the model"),
        (
            {"results_by_k__3__mean_accepted": 3.2},
            "results_by_k.3.mean_accepted: mean accepted tokens 3.2 exceeds K = 3",
        ),
        ({"dataset__prompt_length": None}, "dataset.prompt_length: required field is missing"),
        ({"knobs__draft_adc_bits": "four"}, "knobs.draft_adc_bits"),
        ({"results_by_k": {}}, "results_by_k"),
    ],
)
def test_bad_simulator_files_name_the_field(tmp_path, changes, expected):
    with pytest.raises(InputError) as error:
        read_run(_simulator_file(tmp_path, **changes))
    assert any(expected in issue for issue in _issues(error)), _issues(error)


def test_overrides_set_remove_and_create_fields_on_a_copy():
    data = {"analog": {"adc": {"draft_bits": 4}, "delta_readout": {"draft": {"dac_bits": 8}}}}
    changed = with_overrides(
        data,
        {
            "analog.adc.draft_bits": 6,
            "analog.delta_readout.draft.dac_bits": None,
            "analog.delta_readout.verify.enabled": False,
        },
    )
    assert changed == {
        "analog": {"adc": {"draft_bits": 6}, "delta_readout": {"draft": {}, "verify": {"enabled": False}}}
    }
    assert data["analog"]["adc"]["draft_bits"] == 4 and data["analog"]["delta_readout"]["draft"] == {"dac_bits": 8}


# ---- summary tables ---------------------------------------------------------------------------


def test_summary_table_and_ppa_string():
    ppa = final_ppa(
        {"latency_ns_per_token": 248719.0149, "throughput_tokens_per_s": 4.0206, "tokens_per_joule": 1.4549}, 7299.864
    )
    assert ppa == "lat=248.72us/tok; thr=4.02 tok/s; tok/J=1.45; area=7299.86mm^2"
    table = summary_markdown([SummaryRow("a.json", "Qwen3-0.6B", "4/12", 3, 0.61666, ppa, "a.json")])
    assert table.splitlines() == [
        "| model | adc bits | K value | acceptance rate | final PPA |",
        "|---|---:|---:|---:|---|",
        f"| Qwen3-0.6B | 4/12 | 3 | 0.6167 | {ppa} |",
    ]
