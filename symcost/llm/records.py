"""Benchmark run records (seed 004 section 3.4) and what a record says about the model.

A record names a model, runtime, hardware profile and quantization (catalog
ids or aliases), the workload and layout, and measured metrics. Records are
checked against ``schemas/llm-run.schema.json``, which has no field for a
prompt or an output: a record carrying one is refused.

:func:`records_from_csv` reads the public measurements in
``llm_bench_calibration.csv`` (see its README) into records, reading each
row's notes the way its source ran the benchmark (llama-bench runs pp and tg
as separate tests from an empty cache; "@ d32768" is a depth; serving rows are
max-load output throughput).
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError, InputIssue
from ..documents import load_document
from ..schema_check import schema_issues
from ..units import normalize_quantities
from .catalog import UnknownEntry, catalog
from .scenario import Layout, Scenario, Workload

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
        workload = Workload(prompt_tokens=data["context_tokens"], gen_tokens=data["output_tokens"],
                            concurrency=1 if concurrency == "max" else concurrency,
                            depth_tokens=data.get("depth_tokens", 0),
                            decode_start_tokens=data.get("decode_start_tokens"), saturate=concurrency == "max")
        parallel = data.get("parallelism", {})
        layout = Layout(parallel.get("tensor_parallel", 1), parallel.get("pipeline_parallel", 1), "auto")
        return Scenario(catalog("models").get(data["model_id"]), catalog("hardware").get(data["hardware_id"]),
                        catalog("runtimes").get(data["runtime_id"]), catalog("quantizations").get(data["quant"]),
                        workload, layout)


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
    raws = data["runs"] if isinstance(data, dict) and set(data) == {"runs"} else data if isinstance(data, list) else [data]
    if not isinstance(raws, list) or not raws:
        raise InputError([InputIssue(label, "runs", "expected a non-empty list of run records")])
    return checked_records(raws, label)


def checked_records(raws: Iterable[Any], label: str) -> list[RunRecord]:
    """Records whose names resolve in the catalogs; every problem reported at once."""
    issues, records = [], []
    for index, raw in enumerate(raws):
        raw, problems = normalize_quantities(raw, f"{label}[{index}]")
        problems += schema_issues(raw, "llm-run", f"{label}[{index}]")
        if not problems:
            problems += [InputIssue(f"{label}[{index}]", field, str(error)) for field, error in _unresolved(raw)]
        issues += problems
        if not problems:
            records.append(RunRecord(run_id_of(raw), raw))
    if issues:
        raise InputError(issues)
    return records


def _unresolved(raw: dict[str, Any]):
    for field, kind in (("model_id", "models"), ("hardware_id", "hardware"), ("runtime_id", "runtimes"),
                        ("quant", "quantizations")):
        try:
            catalog(kind).get(raw[field])
        except UnknownEntry as error:  # its message has the closest names
            yield field, error


def records_from_csv(path: str | Path) -> list[RunRecord]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    label = Path(path).name
    return checked_records((_csv_record(row, index, label) for index, row in enumerate(rows)), label)


def _csv_record(row: dict[str, str], index: int, label: str) -> dict[str, Any]:
    notes = row.get("notes", "")
    prompt, gen = int(row["prompt_tokens"]), int(row["gen_tokens"])
    record: dict[str, Any] = {
        "run_id": f"{Path(label).stem}-row-{index}", "model_id": row["model"], "runtime_id": row["runtime"],
        "hardware_id": row["hardware"], "quant": row["quant"], "context_tokens": prompt, "output_tokens": gen,
        "source": row["source"][:500], "metrics": {},
    }
    depth = re.search(r"@ ?d(\d+)", notes)
    if depth:  # llama-bench pp N @ dD: N new prompt tokens on D already cached; the CSV gives N + D
        record["depth_tokens"] = int(depth.group(1))
        record["context_tokens"] = prompt - record["depth_tokens"]
    if "llama-bench" in notes or depth:  # tg is its own test, from the depth (an empty cache by default)
        record["decode_start_tokens"] = record.get("depth_tokens", 0)
    batch = row["batch"].strip()
    record["concurrency"] = "max" if batch.startswith("max") else int(batch)
    devices = int(re.match(r"(\d+)x ", row["hardware"]).group(1)) if re.match(r"\d+x ", row["hardware"]) else 1
    if devices > 1:  # llama.cpp splits layers; FasterTransformer's TP2 splits tensors
        record["parallelism"] = ({"tensor_parallel": devices} if "TP" in row["runtime"] or "FasterTransformer" in row["runtime"]
                                 else {"pipeline_parallel": devices})
    serving = record["concurrency"] == "max"
    for column, metric in (("pp_tok_s", "prefill_toks_sec"), ("tg_tok_s", "output_toks_sec" if serving else "decode_toks_sec")):
        if row.get(column, "").strip():
            record["metrics"][metric] = float(row[column])
    weights = _weights_size_gb(notes, row["quant"])
    if weights:
        record["metrics"]["weights_gb"] = weights
    return record


def _weights_size_gb(notes: str, quant: str) -> float | None:
    """The weight file size a row's notes state, in GB; None when the notes speak of another format.

    The sources write GiB (sometimes labelled "GB": the 70B F16 file of 70.6e9
    x 2 bytes = 141.2 GB is "131.42 GB", i.e. GiB), so every figure is read as GiB.
    """
    formats = set(re.findall(r"\b(Q\d_[A-Z0-9_]+|F16|BF16|MXFP4|FP8)\b", notes))
    if formats - {quant.split()[0]}:
        return None
    match = re.search(r"(\d+(?:\.\d+)?) Gi?B(?: file| incl|;|,|$)", notes) or re.search(r"file (\d+(?:\.\d+)?) Gi?B", notes)
    return float(match.group(1)) * GIB / 1e9 if match else None
