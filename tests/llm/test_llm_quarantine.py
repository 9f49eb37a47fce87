"""Non-finite numbers never reach the calibration store, and stored records a fit cannot use are quarantined.

Every door that creates records (files, CSV rows, POST /v1/calibrate) refuses NaN, infinities and integers a
float64 does not hold exactly, before anything is stored. A store written by an older version may still hold
such records: a refit sets them aside, reports them and fits the rest.
"""

from __future__ import annotations

import csv
import json
import os
import sqlite3
import stat
import time

import pytest
from conftest import ROOT, run_cli
from service.service_server import Server

from symcost.errors import InputError, SymcostError
from symcost.packs.llm.calibration import Bundle, fit
from symcost.packs.llm.ingest import refit
from symcost.packs.llm.observations import observations
from symcost.packs.llm.records import checked_records, records_from_csv
from symcost.packs.llm.requests import packaged_bundle
from symcost.packs.llm.store import Store
from symcost.packs.llm.text import quarantine_lines
from symcost.service.calibration import CalibrationService

CSV = ROOT / "data" / "llm_bench_calibration.csv"
RECORD = {
    "model_id": "llama-3-8b",
    "runtime_id": "llama.cpp",
    "hardware_id": "rtx-4090",
    "quant": "q4_k_m",
    "context_tokens": 512,
    "output_tokens": 128,
    "metrics": {"decode_toks_sec": 120.0},
}
# Three machines of the public data: enough for a fit and its held-out errors, quick to refit.
MACHINES = ("RTX 4090 24GB", "RTX 3090 24GB", "Apple M1 Max (32-core GPU)")
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
TOO_BIG = [2**53 + 1, -(2**53) - 1, 10**40]


def good_records():
    return [record for record in records_from_csv(CSV) if record.data["hardware_id"] in MACHINES]


def with_value(path: tuple, value) -> dict:
    """RECORD with ``value`` at ``path`` (keys into nested mappings)."""
    record = json.loads(json.dumps(RECORD))
    node = record
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return record


# ---------------------------------------------------------------- the one door: checked_records
@pytest.mark.parametrize(
    "path",
    [
        ("metrics", "decode_toks_sec"),
        ("metrics", "ttft_ms_p50"),
        ("metrics", "ram_peak_gb"),
        ("context_tokens",),
        ("depth_tokens",),
        ("parallelism", "tensor_parallel"),
    ],
)
@pytest.mark.parametrize("value", NON_FINITE + TOO_BIG)
def test_checked_records_refuses_non_finite_and_inexact_numbers_naming_record_and_field(path, value):
    with pytest.raises(InputError) as caught:
        checked_records([RECORD, with_value(path, value)], "request")
    field = ".".join(path)
    assert [issue.file for issue in caught.value.issues] == ["request[1]"]
    assert [issue.path for issue in caught.value.issues] == [field]  # one issue, not a schema echo of it
    expected = "expected a finite number" if isinstance(value, float) else "expected a number within +-9007199254740992"
    assert expected in caught.value.issues[0].message


def test_the_largest_exact_integer_passes_and_the_message_shows_the_value():
    (record,) = checked_records([with_value(("context_tokens",), 2**53)], "runs.json")
    assert record.data["context_tokens"] == 2**53
    with pytest.raises(InputError, match=r"request\[0\]: metrics.decode_toks_sec: expected a finite number, got nan"):
        checked_records([with_value(("metrics", "decode_toks_sec"), float("nan"))], "request")


@pytest.mark.parametrize("metric", ["decode_toks_sec", "ram_peak_gb", "weights_gb"])
@pytest.mark.parametrize("value", [0, -1.5])
def test_fitted_metrics_must_be_positive(metric, value):
    with pytest.raises(InputError, match=f"metrics.{metric}: expected number > 0"):
        checked_records([with_value(("metrics", metric), value)], "request")


# ---------------------------------------------------------------- the command line
@pytest.fixture
def store_with_one_record(tmp_path):
    """A store already holding one good record: a refused file must leave it with exactly that one."""
    db = tmp_path / "calibration.sqlite"
    with Store(db) as store:
        store.add_runs(checked_records([RECORD], "seed"))
    return db


def stored_rows(db) -> int:
    return sqlite3.connect(db).execute("SELECT COUNT(*) FROM runs").fetchone()[0]


@pytest.mark.parametrize("text, shown", [("NaN", "nan"), ("Infinity", "inf"), ("-Infinity", "-inf"), ("1e999", "inf")])
def test_calibrate_refuses_a_json_file_with_a_non_finite_metric_and_stores_nothing(
    tmp_path, store_with_one_record, text, shown
):
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps([RECORD, with_value(("metrics", "ttft_ms_p50"), 5.5)]).replace("5.5", text))
    result = run_cli("llm", "calibrate", runs, "--db", store_with_one_record, "--min-records", "1")
    assert result.code == 2 and result.stdout == "", result.stderr
    assert "runs.json" in result.stderr and "ttft_ms_p50" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert stored_rows(store_with_one_record) == 1


def test_calibrate_refuses_an_integer_beyond_float64_precision(tmp_path, store_with_one_record):
    # refused when the file is read, before the record checks: the field is named in the file
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps(with_value(("output_tokens",), 2**53 + 1)))
    result = run_cli("llm", "calibrate", runs, "--db", store_with_one_record)
    assert (
        result.code == 2
        and result.stderr.strip()
        == "error: runs.json: output_tokens: expected a number within +-9007199254740992, got 9007199254740993"
    )
    assert stored_rows(store_with_one_record) == 1


def csv_with(tmp_path, column: str, text: str):
    """The public CSV's header and first three rows, the second row's ``column`` replaced by ``text``."""
    rows = list(csv.reader(CSV.read_text(encoding="utf-8").splitlines()[:4]))
    rows[2][rows[0].index(column)] = text
    path = tmp_path / "bench.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


@pytest.mark.parametrize("column", ["pp_tok_s", "tg_tok_s"])
@pytest.mark.parametrize("text", ["nan", "inf", "1e999", "-infinity", "NaN", "12 tok/s"])
def test_calibrate_refuses_a_csv_cell_that_is_not_a_finite_number_naming_row_and_column(
    tmp_path, store_with_one_record, column, text
):
    result = run_cli("llm", "calibrate", csv_with(tmp_path, column, text), "--db", store_with_one_record)
    assert result.code == 2 and result.stdout == "", result.stderr
    assert result.stderr.strip() == f"error: bench.csv[1]: {column}: expected a finite number, got {text!r}"
    assert stored_rows(store_with_one_record) == 1


def test_a_csv_without_the_needed_columns_or_with_a_bad_count_is_one_clear_error(tmp_path):
    headless = tmp_path / "other.csv"
    headless.write_text("a,b\n1,2\n")
    result = run_cli("llm", "validate", headless)
    assert result.code == 2 and "other.csv: <header>: missing columns: source, runtime, model" in result.stderr
    result = run_cli("llm", "validate", csv_with(tmp_path, "prompt_tokens", "512.5"))
    assert result.code == 2 and "bench.csv[1]: prompt_tokens: expected an integer, got '512.5'" in result.stderr


def test_a_flash_attention_cell_other_than_1_0_or_blank_is_refused_by_row_and_column(tmp_path):
    result = run_cli("llm", "validate", csv_with(tmp_path, "flash_attention", "yes"))
    assert result.code == 2 and result.stdout == ""
    assert "bench.csv[1]: flash_attention: expected 1 (on), 0 (off) or nothing (the runtime's default), got 'yes'" in (
        result.stderr
    )


# ---------------------------------------------------------------- the service
@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Server(tmp_path_factory.mktemp("service") / "db.sqlite", recalibrate_after=1000) as running:
        yield running


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", str(2**53 + 1)])
def test_the_service_refuses_non_finite_metrics_with_422_and_stores_nothing(server, text):
    body = json.dumps(RECORD).replace("120.0", text).encode()
    status, answer = server.request("POST", "/v1/calibrate", raw=body)
    assert status == 422, answer
    assert answer["error"] == "invalid input"
    # the body is refused before the record is read: by the strict JSON check every POST body gets
    assert [issue.split(": ")[:2] for issue in answer["issues"]] == [["request", "metrics.decode_toks_sec"]]
    assert server.get("/v1/calibrate")["records"] == 0
    assert stored_rows(server.db) == 0


def test_the_service_reports_what_a_refit_quarantined(tmp_path):
    db = tmp_path / "db.sqlite"
    poisoned_store(db)
    with Server(db, recalibrate_after=1) as running:  # the queue left in the store is refitted at start-up
        deadline = time.monotonic() + 120  # a hang guard: the refit takes a few seconds
        status = running.get("/v1/calibrate")
        while not (status["bundles"] or status["last_error"]) and time.monotonic() < deadline:
            time.sleep(0.2)
            status = running.get("/v1/calibrate")
    assert status["last_error"] is None and status["bundles"] == 1 and status["pending"] == 0
    assert {entry["run_id"] for entry in status["quarantined"]} == set(POISON)
    assert status["latest_bundle"]["n_records"] == status["records"]


# ---------------------------------------------------------------- stores written by older versions
POISON = {
    "old-nan": ("metrics", "decode_toks_sec", float("nan"), "expected a finite number, got nan"),
    "old-zero": ("metrics", "decode_toks_sec", 0.0, "expected number > 0"),
    "old-gone": ("hardware_id", None, "rtx-9090", "unknown hardware profile 'rtx-9090'"),
    "old-layout": ("parallelism", "tensor_parallel", 3, "TP=3 does not divide"),
    "old-ram": ("metrics", "ram_peak_gb", 2.0, "the model predicts 0"),
}


def poisoned_store(db) -> list:
    """A store with good records and, inserted as an older version could have (bypassing today's checks), bad ones."""
    good = good_records()
    with Store(db) as store:
        store.add_runs(good[:4])
    connection = sqlite3.connect(db)
    for run_id, (field, key, value, _) in POISON.items():
        data = dict(good[0].data, run_id=run_id)
        data[field] = {**data.get(field, {}), key: value} if key else value
        connection.execute("INSERT INTO runs VALUES (?, '2024-01-01T00:00:00Z', 'x', ?)", (run_id, json.dumps(data)))
    connection.commit()
    connection.close()
    with Store(db) as store:
        store.add_runs(good[4:])
    return good


def test_a_poisoned_store_refits_quarantining_the_bad_records_and_fitting_the_others(tmp_path):
    db = tmp_path / "db.sqlite"
    good = poisoned_store(db)
    with Store(db) as store:
        bundle = refit(store)
        assert store.pending() == 0
        assert store.latest_bundle().quarantined == bundle.quarantined
    reasons = {entry["run_id"]: entry["reason"] for entry in bundle.quarantined}
    assert list(reasons) == list(POISON)  # in store order
    for run_id, (_field, _key, _, words) in POISON.items():
        assert words in reasons[run_id] and "\n" not in reasons[run_id], reasons[run_id]
    assert bundle.n_records == len(good) + len(POISON)
    # abs: coefficients near zero land 1e-8 apart when the records reach the fit in another order
    assert flat(bundle.coefficients) == pytest.approx(flat(fit(observations(good))), rel=1e-6, abs=1e-7)
    assert all(value == value for values in bundle.residuals.values() for value in values)  # no NaN errors kept


def flat(tree: dict, prefix: str = "") -> dict[str, float]:
    found = {}
    for key, value in tree.items():
        found.update(flat(value, f"{prefix}/{key}") if isinstance(value, dict) else {f"{prefix}/{key}": value})
    return found


def test_calibrate_on_a_poisoned_store_prints_the_quarantined_records(tmp_path):
    db = tmp_path / "db.sqlite"
    poisoned_store(db)
    runs = tmp_path / "runs.json"
    runs.write_text(json.dumps(RECORD))
    result = run_cli("llm", "calibrate", runs, "--db", db, "--min-records", "1")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert f"quarantined {len(POISON)} records (kept in the store, not fitted):" in lines
    for run_id in POISON:
        assert sum(line.startswith(f"  {run_id}: ") for line in lines) == 1, result.stdout
    assert any(f"of {len(good_records()) + len(POISON) + 1} records" in line for line in lines), result.stdout


def test_a_store_with_nothing_fittable_is_a_clear_error(tmp_path):
    db = tmp_path / "db.sqlite"
    Store(db).close()
    connection = sqlite3.connect(db)
    connection.execute(
        "INSERT INTO runs VALUES ('only-nan', 'x', 'x', ?)",
        (json.dumps(with_value(("metrics", "decode_toks_sec"), float("nan"))),),
    )
    connection.commit()
    connection.close()
    with Store(db) as store, pytest.raises(SymcostError, match="nothing to fit: 1 of 1 stored records are quarantined"):
        refit(store)
    runs = tmp_path / "more.json"  # passes the door (names resolve) but the model cannot evaluate it either
    runs.write_text(json.dumps(dict(RECORD, run_id="tp-3", parallelism={"tensor_parallel": 3})))
    result = run_cli("llm", "calibrate", runs, "--db", db, "--min-records", "1")
    assert result.code == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "error: nothing to fit: 2 of 2 stored records are quarantined; "
        "the first: only-nan: metrics.decode_toks_sec: expected a finite "
        "number, got nan"
    ]


def test_validate_reports_records_the_model_cannot_evaluate_instead_of_failing(tmp_path):
    runs = tmp_path / "runs.json"
    runs.write_text(
        json.dumps([dict(RECORD, run_id="fine"), dict(RECORD, run_id="tp-3", parallelism={"tensor_parallel": 3})])
    )
    text = run_cli("llm", "validate", runs, "--calibration", "packaged")
    assert text.code in (0, 1), text.stderr
    assert "quarantined 1 record (left out of the tables):" in text.stdout and "  tp-3: " in text.stdout
    report = json.loads(run_cli("llm", "validate", runs, "--calibration", "packaged", "--format", "json").stdout)
    assert [entry["run_id"] for entry in report["quarantined"]] == ["tp-3"]
    assert {row["run_id"] for row in report["runs"]} == {"fine"}


def test_many_quarantined_records_are_capped_with_a_count():
    entries = [{"run_id": f"run-{i}", "reason": "bad\x1b[2J"} for i in range(25)]
    lines = quarantine_lines(entries, "not fitted", limit=10)
    assert lines[0] == "quarantined 25 records (not fitted):" and len(lines) == 12
    assert lines[-1] == "  ... and 15 more" and lines[1] == "  run-0: bad\\x1b[2J"
    assert quarantine_lines([], "not fitted") == []


# ---------------------------------------------------------------- bundles written before quarantine existed
def test_bundles_without_a_quarantined_field_still_load(tmp_path):
    # The packaged bundle as written before the quarantined and held_out_by fields existed.
    packaged = {
        key: value
        for key, value in json.loads((ROOT / "catalogs" / "calibration.json").read_text()).items()
        if key not in ("quarantined", "held_out_by")
    }
    assert packaged_bundle().quarantined == []
    packaged.pop("quarantined", None)  # as a bundle stored before quarantine existed
    db = tmp_path / "db.sqlite"
    with Store(db) as store:
        store.add_runs(checked_records([RECORD], "seed"))
    connection = sqlite3.connect(db)
    connection.execute("INSERT INTO bundles VALUES ('old', '2024-01-01T00:00:00Z', 1, ?)", (json.dumps(packaged),))
    connection.commit()
    connection.close()
    with Store(db) as store:
        assert store.latest_bundle().bundle_id == packaged["bundle_id"]
    status = CalibrationService(db, 10).status()
    assert status["quarantined"] == [] and status["pending"] == 0
    assert (
        Bundle.from_json({**packaged, "quarantined": [{"run_id": "r", "reason": "x"}]}).quarantined[0]["run_id"] == "r"
    )


# ---------------------------------------------------------------- the store's permissions
def test_a_new_store_is_private_to_its_owner_under_umask_022(tmp_path):
    previous = os.umask(0o022)
    try:
        db = tmp_path / "fresh" / "calibration.sqlite"
        with Store(db) as store:
            store.add_runs(checked_records([RECORD], "seed"))
            modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in db.parent.iterdir()}
    finally:
        os.umask(previous)
    assert modes == {"calibration.sqlite": 0o600, "calibration.sqlite-wal": 0o600, "calibration.sqlite-shm": 0o600}
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
