"""Validation that tests generalisation: held-out fits by source and by year, provenance of every record,
and intervals calibrated on the leave-one-source-out errors."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import ROOT, run_cli

from symcost.errors import InputError
from symcost.packs.llm import calibration
from symcost.packs.llm.calibration import FOLDS, Bundle, held_out_errors, interval_fold
from symcost.packs.llm.observations import observations
from symcost.packs.llm.records import checked_records, records_from_csv

CSV = ROOT / "data" / "llm_bench_calibration.csv"
PACKAGED = ROOT / "catalogs" / "calibration.json"


def run(run_id: str, hardware: str, source: str | None, date: str | None, decode: float) -> dict:
    data = {
        "run_id": run_id,
        "model_id": "llama-3-8b",
        "runtime_id": "llama.cpp",
        "hardware_id": hardware,
        "quant": "q4_k_m",
        "context_tokens": 512,
        "output_tokens": 128,
        "metrics": {"decode_toks_sec": decode},
    }
    data.update({key: value for key, value in (("source", source), ("source_date", date)) if value})
    return data


RUNS = [
    run("a1", "rtx-4090", "paper A", "2024-05", 120.0),
    run("a2", "rtx-3090", "paper A", "2024-05", 100.0),
    run("b1", "rtx-4090", "blog B", "2025-11", 150.0),
    run("b2", "apple-m2-ultra-192gb", "blog B", "2025", 80.0),
    run("c1", "rtx-4080", None, None, 90.0),
]


def test_every_public_measurement_names_its_source_and_date():
    records = records_from_csv(CSV)
    assert len(records) >= 47
    for record in records:
        assert record.data["source"] and record.data["source_date"][:2] == "20", record.run_id
    spark = [r for r in records if "dgx-spark.md" in r.data["source"]]
    assert spark and all(r.data["env"] == {"runtime_version": "b6918", "backend": "cuda"} for r in spark)
    assert all(r.data["kernel_flags"] == {"flash_attention": True} for r in spark)  # the tables' "fa 1"
    xiongjie = [r for r in records if r.data["source"].startswith("XiongjieDai")]
    assert xiongjie and all(r.scenario().layout.flash_attention is False for r in xiongjie)  # llama-bench, no -fa
    unstated = [r for r in records if "kernel_flags" not in r.data]
    assert unstated and all(r.scenario().layout.flash_attention is None for r in unstated)
    apple = [r for r in records if r.data["hardware_id"].startswith("Apple")]
    assert apple and all(r.data["env"]["backend"] == "metal" for r in apple)


@pytest.mark.parametrize(
    "fold, expected",
    [
        ("source", {"paper A": {"a1", "a2"}, "blog B": {"b1", "b2"}, "hardware rtx-4080": {"c1"}}),
        ("period", {"2024": {"a1", "a2"}, "2025": {"b1", "b2"}, "undated": {"c1"}}),
        (
            "hardware",
            {"rtx-4090": {"a1", "b1"}, "rtx-3090": {"a2"}, "apple-m2-ultra-192gb": {"b2"}, "rtx-4080": {"c1"}},
        ),
    ],
)
def test_each_held_out_fit_leaves_out_exactly_one_group(monkeypatch, fold, expected):
    items = observations(checked_records(RUNS, "runs"))
    assert {FOLDS[fold](item) for item in items} == set(expected)
    trained_on = []

    def recording_fit(training, start=None):
        trained_on.append({item.run_id for item in training})
        return real_fit(training, start)

    real_fit = calibration.fit
    monkeypatch.setattr(calibration, "fit", recording_fit)
    held = held_out_errors(items, fold=fold)
    all_runs = {item.run_id for item in items}
    assert sorted(map(sorted, trained_on)) == sorted(sorted(all_runs - group) for group in expected.values())
    assert sorted(item.run_id for item, _ in held) == sorted(all_runs)


def test_intervals_come_from_source_folds_unless_there_is_one_source():
    items = observations(checked_records(RUNS, "runs"))
    assert interval_fold(items) == "source"
    one_source = [dict(data, source="paper A") for data in RUNS]
    assert interval_fold(observations(checked_records(one_source, "runs"))) == "hardware"


def test_the_packaged_bundle_intervals_are_leave_one_source_out():
    packaged = json.loads(PACKAGED.read_text())
    assert packaged["held_out_by"] == "source"
    items = observations(records_from_csv(CSV))
    errors = sorted(
        error for item, error in held_out_errors(items, fold="source") if calibration.FAMILIES[item.metric] == "decode"
    )
    assert packaged["residuals"]["decode"] == pytest.approx(errors, rel=1e-6, abs=1e-9)
    old = {key: value for key, value in packaged.items() if key != "held_out_by"}
    assert Bundle.from_json(old).held_out_by == "hardware"


@pytest.mark.parametrize("date", ["May 2024", "2024-5", "24-05-01", "2024-05-01T00:00"])
def test_a_record_with_a_malformed_date_is_refused(date):
    with pytest.raises(InputError, match="source_date"):
        checked_records([run("x", "rtx-4090", "paper A", date, 100.0)], "runs")


def test_a_csv_with_a_malformed_date_or_backend_exits_2(tmp_path):
    with CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    fields = list(rows[0])
    broken = tmp_path / "broken.csv"
    with broken.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fields)
        writer.writeheader()
        writer.writerow({**rows[0], "date": "last spring"})
        writer.writerow({**rows[1], "backend": "opencl-ish"})
    result = run_cli("llm", "calibrate", broken, "--db", tmp_path / "store.sqlite", "--no-fit")
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("error: ") and "source_date" in result.stderr and "backend" in result.stderr
