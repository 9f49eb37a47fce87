"""Benchmark run records (seed 004 section 3.4) and what a record says about the model.

A record names a model, runtime, hardware profile and quantization (catalog
ids or aliases), the workload and layout, and measured metrics. Records are
checked against ``schemas/llm-run.schema.json``, which has no field for a
prompt or an output: a record carrying one is refused.

:func:`records_from_csv` reads the public measurements in
``llm_bench_calibration.csv`` (see its README) into records, reading each
row's notes the way its source ran the benchmark (llama-bench runs pp and tg
as separate tests from an empty cache; "@ d32768" is a depth; serving rows are
max-load output throughput). Optional columns date, runtime_version and
backend go to the record's source_date and env; flash_attention (1, 0 or
blank for the runtime's default) to its kernel_flags.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...documents import load_document, number_issues, read_input_text
from ...errors import InputError, InputIssue
from ...schema_check import schema_issues
from ...units import normalize_quantities
from .backends import choose_backend
from .catalog import UnknownEntry, catalog
from .runtime_eras import era_of_record
from .scenario import ParallelLayout, Scenario, Workload

GIB = 2**30
# measured metric -> (pack quantity, factor from the record's unit to SI)
METRICS = {
    "prefill_toks_sec": ("prefill_tps", 1.0),
    "decode_toks_sec": ("decode_tps", 1.0),
    "output_toks_sec": ("output_tps", 1.0),
    "ttft_ms_p50": ("ttft", 1e-3),
    "latency_ms_p50": ("latency", 1e-3),
    "vram_peak_gb": ("M_vram_total", 1e9),
    "ram_peak_gb": ("M_ram_peak", 1e9),
    "weights_gb": ("W", 1e9),
}
# The columns every calibration CSV row needs (the others are optional).
CSV_COLUMNS = ("source", "runtime", "model", "quant", "hardware", "prompt_tokens", "gen_tokens", "batch")


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    data: dict[str, Any]

    @property
    def metrics(self) -> dict[str, float]:
        return self.data["metrics"]

    def scenario(self) -> Scenario:
        """The scenario the record ran (catalog entries resolved; coefficients left to the caller)."""
        data = self.data
        concurrency = data.get("concurrency", 1)
        workload = Workload(
            prompt_tokens=data["context_tokens"],
            gen_tokens=data["output_tokens"],
            concurrency=1 if concurrency == "max" else concurrency,
            depth_tokens=data.get("depth_tokens", 0),
            decode_start_tokens=data.get("decode_start_tokens"),
            saturate=concurrency == "max",
        )
        parallel = data.get("parallelism", {})
        layout = ParallelLayout(
            parallel.get("tensor_parallel", 1),
            parallel.get("pipeline_parallel", 1),
            "auto",
            data.get("kernel_flags", {}).get("flash_attention"),
        )
        runtime = catalog("runtimes").get(data["runtime_id"])
        era = era_of_record(
            runtime.get("backend", runtime.id),
            data.get("env", {}).get("runtime_version", ""),
            data.get("source_date") or data.get("timestamp_utc", "")[:10],
        )
        hardware = catalog("hardware").get(data["hardware_id"])
        backend = choose_backend(runtime, hardware, data.get("env", {}).get("backend"))
        return Scenario(
            catalog("models").get(data["model_id"]),
            hardware,
            runtime,
            catalog("quantizations").get(data["quant"]),
            workload,
            layout,
            runtime_era=era,
            backend=backend,
        )


def run_id_of(data: dict[str, Any]) -> str:
    """The record's run_id, or a stable id from its content."""
    if data.get("run_id"):
        return data["run_id"]
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
    return f"run-{digest[:24]}"


def read_records(path: str | Path) -> list[RunRecord]:
    """Records of a JSON/YAML file (one, a list, or {runs: [...]}) or of a calibration CSV."""
    if str(path).endswith(".csv"):
        return records_from_csv(path)
    document = load_document(path)
    data, label = document.data, document.label
    raws = (
        data["runs"] if isinstance(data, dict) and set(data) == {"runs"} else data if isinstance(data, list) else [data]
    )
    if not isinstance(raws, list) or not raws:
        raise InputError([InputIssue(label, "runs", "expected a non-empty list of run records")])
    return checked_records(raws, label)


def checked_records(raws: Iterable[Any], label: str) -> list[RunRecord]:
    """Records whose numbers are finite and whose names resolve in the catalogs; every problem reported at once."""
    issues, records = [], []
    for index, raw in enumerate(raws):
        raw, problems = record_problems(raw, f"{label}[{index}]")
        issues += problems
        if not problems:
            records.append(RunRecord(run_id_of(raw), raw))
    if issues:
        raise InputError(issues)
    return records


def record_problems(raw: Any, label: str) -> tuple[Any, list[InputIssue]]:
    """The record with its quantities in numbers, and what is wrong with it (the checks every stored record passed)."""
    raw, problems = normalize_quantities(raw, label)
    problems += number_issues(raw, label)
    flagged = {issue.path for issue in problems}
    problems += [issue for issue in schema_issues(raw, "llm-run", label) if issue.path not in flagged]
    if not problems:
        problems += [InputIssue(label, field, str(error)) for field, error in _unresolved(raw)]
    return raw, problems


def _unresolved(raw: dict[str, Any]):
    for field, kind in (
        ("model_id", "models"),
        ("hardware_id", "hardware"),
        ("runtime_id", "runtimes"),
        ("quant", "quantizations"),
    ):
        try:
            catalog(kind).get(raw[field])
        except UnknownEntry as error:  # its message has the closest names
            yield field, error


def records_from_csv(path: str | Path) -> list[RunRecord]:
    """Records of a calibration CSV; a cell that should hold a number and does not is refused by row and column."""
    label = Path(path).name
    reader = csv.DictReader(io.StringIO(read_input_text(path), newline=""))
    raws, issues = [], []
    try:
        missing = [column for column in CSV_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise InputError([InputIssue(label, "<header>", f"missing columns: {', '.join(missing)}")])
        for index, row in enumerate(reader):
            try:
                raws.append(_csv_record(_Row(row), index, label))
            except _CellError as bad:
                issues.append(InputIssue(f"{label}[{index}]", bad.column, bad.message))
    except csv.Error as error:
        raise InputError([InputIssue(label, f"line {reader.line_num}", f"invalid CSV: {error}")]) from None
    if issues:
        raise InputError(issues)
    return checked_records(raws, label)


class _CellError(Exception):
    def __init__(self, column: str, message: str):
        super().__init__(message)
        self.column, self.message = column, message


class _Row:
    """A CSV row's cells: text as written ("" when the row is short), numbers parsed strictly."""

    def __init__(self, cells: dict[str | None, Any]):
        self.cells = cells

    def __getitem__(self, column: str) -> str:
        return self.cells.get(column) or ""

    def number(self, column: str, kind: type = float) -> float | int:
        """The cell as ``kind``; text that is not a finite number of that kind (nan, inf, 1e999) raises _CellError."""
        text = self[column].strip()
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or (kind is float and not math.isfinite(value)):
            shown = text if len(text) <= 40 else text[:37] + "..."
            raise _CellError(column, f"expected {'an integer' if kind is int else 'a finite number'}, got {shown!r}")
        return value


def _csv_record(row: _Row, index: int, label: str) -> dict[str, Any]:
    notes = row["notes"]
    prompt, gen = row.number("prompt_tokens", int), row.number("gen_tokens", int)
    record: dict[str, Any] = {
        "run_id": f"{Path(label).stem}-row-{index}",
        "model_id": row["model"],
        "runtime_id": row["runtime"],
        "hardware_id": row["hardware"],
        "quant": row["quant"],
        "context_tokens": prompt,
        "output_tokens": gen,
        "source": row["source"][:500],
        "metrics": {},
    }
    _provenance(row, record)
    depth = re.search(r"@ ?d(\d+)", notes)
    if depth:  # llama-bench pp N @ dD: N new prompt tokens on D already cached; the CSV gives N + D
        record["depth_tokens"] = int(depth.group(1))
        record["context_tokens"] = prompt - record["depth_tokens"]
    if "llama-bench" in notes or depth:  # tg is its own test, from the depth (an empty cache by default)
        record["decode_start_tokens"] = record.get("depth_tokens", 0)
    record["concurrency"] = "max" if row["batch"].strip().startswith("max") else row.number("batch", int)
    devices = re.match(r"(\d+)x ", row["hardware"])
    if devices and int(devices.group(1)) > 1:  # llama.cpp splits layers; FasterTransformer's TP2 splits tensors
        record["parallelism"] = (
            {"tensor_parallel": int(devices.group(1))}
            if "TP" in row["runtime"] or "FasterTransformer" in row["runtime"]
            else {"pipeline_parallel": int(devices.group(1))}
        )
    _kernel_flags(row, record)
    serving = record["concurrency"] == "max"
    for column, metric in (
        ("pp_tok_s", "prefill_toks_sec"),
        ("tg_tok_s", "output_toks_sec" if serving else "decode_toks_sec"),
    ):
        if row[column].strip():
            record["metrics"][metric] = row.number(column)
    weights = _weights_size_gb(notes, row["quant"])
    if weights:
        record["metrics"]["weights_gb"] = weights
    return record


def _kernel_flags(row: _Row, record: dict[str, Any]) -> None:
    """The optional flash_attention column: 1 (on), 0 (off), blank (the runtime's default)."""
    flash = row["flash_attention"].strip()
    if flash:
        if flash not in ("0", "1"):
            raise _CellError(
                "flash_attention", f"expected 1 (on), 0 (off) or nothing (the runtime's default), got {flash[:40]!r}"
            )
        record["kernel_flags"] = {"flash_attention": flash == "1"}


def _provenance(row: _Row, record: dict[str, Any]) -> None:
    """The optional date, runtime version and compute backend columns, where the row fills them."""
    if row["date"].strip():
        record["source_date"] = row["date"].strip()
    env = {key: row[key].strip() for key in ("runtime_version", "backend") if row[key].strip()}
    if env:
        record["env"] = env


def _weights_size_gb(notes: str, quant: str) -> float | None:
    """The weight file size a row's notes state, in GB; None when the notes speak of another format.

    The sources write GiB (sometimes labelled "GB": the 70B F16 file of 70.6e9
    x 2 bytes = 141.2 GB is "131.42 GB", i.e. GiB), so every figure is read as GiB.
    """
    formats = set(re.findall(r"\b(Q\d_[A-Z0-9_]+|F16|BF16|MXFP4|FP8)\b", notes))
    if formats - {quant.split()[0]}:
        return None
    match = re.search(r"(\d+(?:\.\d+)?) Gi?B(?: file| incl|;|,|$)", notes) or re.search(
        r"file (\d+(?:\.\d+)?) Gi?B", notes
    )
    return float(match.group(1)) * GIB / 1e9 if match else None
