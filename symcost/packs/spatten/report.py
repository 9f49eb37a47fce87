"""The console text of a SpAtten study, laid out as the seed prints it.

The seed's sanity-check block and results table keep its layout character
for character (so its figures can be compared line by line); symcost adds a
column with the exact mean and standard deviation, the corrective traffic the
seed leaves out of its total, and how far the Monte Carlo means lie from the exact ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .study import Study

_VECTOR_NAMES = {1: "V", 2: "KV", 3: "QKV"}  # the last vectors of Q, K, V: a one-vector fetch is V


@dataclass(frozen=True)
class _Row:
    """One line of the table: the pack's reductions shown for the pipelined design (and the baseline)."""

    label: str
    pipelined: str
    number_format: str
    scale: float = 1.0
    baseline: str | None = None  # None: the baseline has no such figure (N/A)
    baseline_format: str = ""


_ROWS = (
    _Row("Total Cycles", "pipelined_total_cycles", ".0f", baseline="baseline_total_cycles", baseline_format=",.0f"),
    _Row("DRAM Traffic (MB)", "pipelined_total_dram_bytes", ".2f", 1e-6, "baseline_total_dram_bytes", ".2f"),
    _Row("  -> Wasted Traffic (MB)", "total_wasted_bytes", ".2f", 1e-6),
    _Row("Corrective Traffic (MB) *", "total_corrective_bytes", ".2f", 1e-6),
    _Row("Avg Hidden Time (cycles)", "mean_hidden_cycles", ".0f"),
    _Row("Lookahead Finish Rate (%)", "lookahead_finish_rate", ".2f", 100.0),
)


def sanity_block(study: Study) -> str:
    model = study.model

    def value(name: str) -> float:
        return float(model.exact(name))

    fetch_name, spec_name, corr_name = (
        _vectors(model.config.field(path))
        for path in (
            "memory.vectors_per_token",
            "speculation.speculative_fetch_vectors",
            "speculation.corrective_fetch_vectors",
        )
    )
    lines = [
        f"--- Hardware Sanity Checks ({model.config.name}) ---",
        f"Default Bytes per Token ({fetch_name}): {_count(value('b_fetch'))} bytes",
    ]
    if value("b_spec") == value("b_corr"):
        lines.append(f"Speculative/Corrective Bytes per Token ({spec_name}): {_count(value('b_spec'))} bytes")
    else:
        lines += [
            f"Speculative Bytes per Token ({spec_name}): {_count(value('b_spec'))} bytes",
            f"Corrective Bytes per Token ({corr_name}): {_count(value('b_corr'))} bytes",
        ]
    lines += [
        f"BYTES_PER_CYCLE = {value('B_cyc'):.4f} bytes / cycle",
        f"Transfer cycles per token ({fetch_name}) ~= {value('fetch_transfer_cycles_per_token'):.2f} cycles",
        f"Transfer cycles per token ({spec_name}) ~= {value('speculative_transfer_cycles_per_token'):.2f} cycles",
        f"Bandwidth window (approx) = {value('W_sat'):,.0f} bytes",
        "-" * 60,
    ]
    return "\n".join(lines)


def results_table(study: Study) -> str:
    montecarlo, model = study.montecarlo, study.model
    lines = [
        f"--- Results (Mean ± Std over {montecarlo.trials} trials) ---",
        f"Predictor Precision={model.precision:.3f}, Recall={model.recall:.3f}",
        f"  {'Metric':<28} | {'Baseline':<20} | {'Pipelined (Lookahead)':<25} | Pipelined, exact E ± σ",
        "-" * 104,
    ]
    for row in _ROWS:
        key = row.pipelined
        mean, std = montecarlo.mean(key) * row.scale, montecarlo.std(key) * row.scale
        baseline = "N/A"
        if row.baseline:
            baseline = format(montecarlo.mean(row.baseline) * row.scale, row.baseline_format)
        pipelined = f"{mean:{row.number_format}} ± {std:{row.number_format}}"
        expected = (
            f"{float(study.exact.mean[key]) * row.scale:{row.number_format}} ± "
            f"{float(study.exact.std[key]) * row.scale:{row.number_format}}"
        )
        lines.append(f"  {row.label:<28} | {baseline:<20} | {pipelined:<25} | {expected}")
    lines += [
        "  * not part of DRAM Traffic: the seed counts the corrective fetch's cycles but not its bytes",
        "",
        f"Net Performance Improvement (mean): {study.montecarlo_speedup:.2f}%",
        f"Net Performance Improvement (exact expectation): {study.expected_speedup:.2f}%",
        _agreement(study),
    ]
    return "\n".join(lines)


def sweep_summary(study: Study) -> str:
    sweep, model = study.sweep, study.model
    lines = [
        f"Precision/recall sweep (exact expectation, {sweep.precisions.size} x {sweep.recalls.size} points): "
        f"net speedup {sweep.speedup.min():.2f}% to {sweep.speedup.max():.2f}%"
    ]
    if np.all(sweep.speedup > 0) or np.all(sweep.speedup <= 0):
        lines += [
            "Note: All speedup values in sweep were on one side of zero.",
            "      (All points showed speedup)"
            if np.all(sweep.speedup > 0)
            else "      (All points showed slowdown or no change)",
        ]
    verdict = (
        "SPEEDUP"
        if study.expected_speedup > 1e-3
        else "SLOWDOWN"
        if study.expected_speedup < -1e-3
        else "near break-even"
    )
    lines.append(
        f"Current P={model.precision:.3f}, R={model.recall:.3f} yields {verdict} ({study.expected_speedup:.2f}%)."
    )
    return "\n".join(lines)


def _agreement(study: Study) -> str:
    gaps = study.montecarlo_gaps()
    worst = max(gaps, key=gaps.get)
    return f"Monte Carlo means vs exact expectation: largest gap {gaps[worst]:.2f} standard errors ({worst})"


def _vectors(count: int) -> str:
    return _VECTOR_NAMES.get(count, f"{count} vectors")


def _count(number: float) -> str:
    return f"{int(number):,}" if float(number).is_integer() else f"{number:,.2f}"
