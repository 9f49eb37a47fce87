"""The reference's ``ppa-batch-inputs``: a k-sweep per functional-simulator result file, with summary tables.

For every ``*.json`` in the inputs folder (in name order): the model file named
by the run's checkpoint, the hardware template with the run's ADC and
delta-readout knobs, the k-sweep at the run's prompt length written as
``<name>.json``; then ``summary.json`` / ``summary.md`` (a row per file and K)
and ``summary_best.json`` / ``summary_best.md`` (the highest-throughput K per file).
Runs that share a model and knobs share one compiled cost model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ....errors import InputError, InputIssue, SymcostError
from ....finite import json_text
from ..inputs.hardware import read_hardware
from ..model import CostModel, build_model
from ..prebuild import prebuild
from ..report import area_summary
from .k_sweep import k_sweep_report, sweep_stats
from .simulator import SimulatorRun, read_run

MARKDOWN_HEADER = ("| model | adc bits | K value | acceptance rate | final PPA |", "|---|---:|---:|---:|---|")


@dataclass(frozen=True)
class SummaryRow:
    input_file: str
    model: str
    adc_bits: str
    k: int
    acceptance_rate: float
    final_ppa: str
    output_file: str


@dataclass
class BatchSummary:
    rows: list[SummaryRow] = field(default_factory=list)
    best_rows: list[SummaryRow] = field(default_factory=list)
    files: int = 0


def final_ppa(speculative: dict[str, float], on_chip_mm2: float) -> str:
    """The reference's one-line PPA: latency per token, throughput, tokens per joule, on-chip area."""
    return (
        f"lat={speculative['latency_ns_per_token'] / 1000:.2f}us/tok; "
        f"thr={speculative['throughput_tokens_per_s']:.2f} tok/s; "
        f"tok/J={speculative['tokens_per_joule']:.2f}; area={on_chip_mm2:.2f}mm^2"
    )


def summary_markdown(rows: list[SummaryRow]) -> str:
    lines = [*MARKDOWN_HEADER]
    lines += [
        f"| {row.model} | {row.adc_bits} | {row.k} | {row.acceptance_rate:.4f} | {row.final_ppa} |" for row in rows
    ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise SymcostError(f"cannot write {path}: {error.strerror or error}") from None


def write_json(path: Path, payload: Any) -> None:
    _write(path, json_text(payload, sort_keys=True) + "\n")


class BatchRunner:
    def __init__(
        self,
        template: Path,
        models_dir: Path,
        force_verify_adc_bits: int | None = None,
        library_path: list[str] | None = None,
    ):
        self.template, self.models_dir = template, models_dir
        self.force_verify_adc_bits, self.library_path = force_verify_adc_bits, library_path
        self.models: dict[tuple, CostModel] = {}
        if read_hardware(template, library_path).mode != "knob-based":
            raise InputError(
                [
                    InputIssue(
                        template.name,
                        "analog",
                        "the batch runner sets ADC bits, so it needs a "
                        "knob-based hardware template (analog.*), not legacy costs.*",
                    )
                ]
            )

    def cost_model(self, run: SimulatorRun, overrides: dict[str, Any]) -> CostModel:
        request = self.build_request(run, overrides)
        key = (request["model_path"], tuple(sorted(overrides.items())))
        if key not in self.models:
            try:
                read_hardware(self.template, self.library_path, overrides)
            except InputError as error:  # a knob of the run that the template's library cannot serve
                raise InputError(
                    [InputIssue(run.path.name, "knobs", f"applied to {issue}") for issue in error.issues]
                ) from None
            self.models[key] = build_model(**request)
        return self.models[key]

    def build_request(self, run: SimulatorRun, overrides: dict[str, Any]) -> dict[str, Any]:
        """The arguments of :func:`build_model` for a run with these hardware overrides."""
        # The template's file and the overrides, not a spec read with them: they key the evaluator cache.
        return {
            "model_path": self.models_dir / run.model_file,
            "hardware_path": self.template,
            "stats_path": sweep_stats(run.candidates, str(run.path)),
            "library_path": self.library_path,
            "overrides": {"hardware": overrides},
        }

    def overrides(self, run: SimulatorRun) -> dict[str, Any]:
        return run.hardware_overrides(self.force_verify_adc_bits or run.verify_adc_bits)

    def run_file(self, path: Path, run: SimulatorRun, output_dir: Path) -> tuple[list[SummaryRow], SummaryRow]:
        verify_bits = self.force_verify_adc_bits or run.verify_adc_bits
        model = self.cost_model(run, self.overrides(run))
        paths = {"model": str(self.models_dir / run.model_file), "hardware": str(self.template), "stats": str(path)}
        report = k_sweep_report(model, run.candidates, [run.prompt_length], paths)
        output = output_dir / f"{path.stem}.json"
        write_json(output, report)
        on_chip = area_summary(model.evaluate(L_prompt=np.array([run.prompt_length])))["total_mm2"]

        def row(point: dict[str, Any]) -> SummaryRow:
            rate = point["expected_accepted_tokens"] / point["k"] if point["k"] > 0 else 0.0
            return SummaryRow(
                path.name,
                run.model_label,
                f"{run.draft_adc_bits}/{verify_bits}",
                point["k"],
                rate,
                final_ppa(point["speculative"], on_chip),
                output.name,
            )

        return [row(point) for point in report["points"]], row(report["best_by_prompt_length"][0]["best_throughput"])

    def prebuild(self, runs: list[SimulatorRun]) -> None:
        """The runs' different cost models compiled side by side into the cache (:mod:`..prebuild`)."""
        prebuild([self.build_request(run, self.overrides(run)) for run in runs])

    def run(self, inputs_dir: Path, output_dir: Path) -> BatchSummary:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SymcostError(f"cannot create {output_dir}: {error.strerror or error}") from None
        summary = BatchSummary()
        runs = [(path, _read_or_error(path)) for path in sorted(inputs_dir.glob("*.json"))]
        self.prebuild([run for _, run in runs if isinstance(run, SimulatorRun)])
        for path, run in runs:
            if isinstance(run, SymcostError):  # in name order: the files before it are written, as one by one
                raise run
            rows, best = self.run_file(path, run, output_dir)
            summary.rows += rows
            summary.best_rows.append(best)
            summary.files += 1
        for name, rows in (("summary", summary.rows), ("summary_best", summary.best_rows)):
            write_json(output_dir / f"{name}.json", {"rows": [asdict(row) for row in rows]})
            _write(output_dir / f"{name}.md", summary_markdown(rows))
        return summary


def _read_or_error(path: Path) -> SimulatorRun | SymcostError:
    """The run a simulator file holds, read once for the prebuild and the run, or the error naming its problem."""
    try:
        return read_run(path)
    except SymcostError as error:
        return error
