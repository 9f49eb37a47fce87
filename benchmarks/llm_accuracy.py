"""Held-out accuracy of the LLM estimator on the public measurements, beside llm-analysis.

    .venv/bin/python benchmarks/llm_accuracy.py            # writes docs/llm-accuracy.md

Three cross-validations over data/llm_bench_calibration.csv: leave one
hardware profile, one source (publication) or one year out, fit the
coefficients on the rest and predict the held-out figures. Intervals for a
held-out figure come from the held-out errors of the *other* groups
(split-conformal, jackknife+ style), so no figure's interval has seen its own
group. llm-analysis's predictions come from
benchmarks/results/llm_analysis_rows.json (run it with
benchmarks/llm_analysis_rows.py in its own environment).

It also splits the leave-one-source-out error into each source's own shift
and the rest, beside the in-sample errors (benchmarks/llm_error_split.py).

It also predicts each runtime backend from a fit without it
(leave-one-runtime-out) and writes the ratio of those errors' interval width
to that of the errors the bundle's intervals come from (leave-one-source-out),
per metric family, to
catalogs/runtime_widening.json: the widening an estimate for a runtime the
calibration never measured gets (symcost/packs/llm/uncalibrated.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from llm_error_split import error_stats, in_sample_errors, split_section  # noqa: E402

from symcost.packs.llm.calibration import FAMILIES, FOLDS, conformal_bounds, held_out_errors, interval_fold  # noqa: E402
from symcost.packs.llm.observations import Batch, observations  # noqa: E402
from symcost.packs.llm.records import records_from_csv  # noqa: E402
from symcost.packs.llm.uncalibrated import WIDENING_FILE, family_errors, measured_widening  # noqa: E402

CSV = ROOT / "data" / "llm_bench_calibration.csv"
PEER = ROOT / "benchmarks" / "results" / "llm_analysis_rows.json"
WIDENING = ROOT / "catalogs" / WIDENING_FILE
GATES = {"decode_toks_sec": 10.0, "prefill_toks_sec": 15.0, "weights_gb": 5.0, "output_toks_sec": None}
LABELS = {
    "decode_toks_sec": "decode tok/s",
    "prefill_toks_sec": "prefill tok/s",
    "weights_gb": "memory (weights GB)",
    "output_toks_sec": "serving output tok/s",
}
PEER_FIELDS = {
    "decode_toks_sec": "decode_tok_s",
    "prefill_toks_sec": "prefill_tok_s",
    "weights_gb": "weight_memory_GB",
    "output_toks_sec": "decode_tok_s",
}


SCHEMES = {"hardware": "leave-one-hardware-out", "source": "leave-one-source-out", "period": "leave-one-year-out"}
# Issue 17, over leave-one-source-out: (metric, statistic, limit); coverage is for decode.
ISSUE_GATES = (
    ("decode_toks_sec", "median", 8.0),
    ("decode_toks_sec", "mape", 15.0),
    ("prefill_toks_sec", "median", 12.0),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(ROOT / "docs" / "llm-accuracy.md"))
    args = parser.parse_args()
    started = time.perf_counter()
    items = observations(records_from_csv(CSV))
    progress = lambda line: print(line, file=sys.stderr)  # noqa: E731
    uncalibrated = dict(zip(((i.run_id, i.metric) for i in items), -Batch(items).log_errors()))
    held = {fold: held_out_errors(items, progress=progress, fold=fold) for fold in SCHEMES}
    by_runtime = held_out_errors(items, progress=progress, fold="runtime")
    widening = widening_data(held[interval_fold(items)], by_runtime)
    WIDENING.write_text(json.dumps(widening, indent=1, sort_keys=True) + "\n")
    rows = _rows(held, uncalibrated)
    peer = json.loads(PEER.read_text()) if PEER.exists() else None
    sections = split_section(rows, in_sample_errors(items), LABELS) + _runtime_section(by_runtime, widening)
    text = _document(rows, peer, time.perf_counter() - started, sections)
    Path(args.output).write_text(text)
    print(f"wrote {args.output} and {WIDENING.relative_to(ROOT)}")


def widening_data(by_bundle, by_runtime) -> dict:
    """The widening file's content: factors per family with the figures they come from and how they were made."""
    return {
        "generated_by": "benchmarks/llm_accuracy.py",
        "data": str(CSV.relative_to(ROOT)),
        "level": 0.8,
        "method": "per metric family: the smallest factor, at least 1, that widens the log bounds (q10, q90) of "
        "the held-out log errors the bundle's intervals come from over those of the leave-one-runtime-out log errors "
        "(each bound times the factor; split-conformal order statistics)",
        "families": measured_widening(family_errors(by_bundle), family_errors(by_runtime)),
    }


def _runtime_section(by_runtime, widening: dict) -> list[str]:
    lines = [
        "## Runtimes the calibration never measured",
        "",
        "Each runtime backend of the data predicted from a fit without any of its runs (it falls back to the "
        "global coefficients, as vLLM, SGLang, ExLlamaV2 and MLX always do). Error = predicted / measured - 1.",
        "",
        "| held-out runtime | metric | n | median abs. error | MAPE |",
        "|---|---|---|---|---|",
    ]
    groups = defaultdict(list)
    for item, error in by_runtime:
        groups[(item.backend, item.metric)].append(float(np.expm1(-error)))
    for (backend, metric), errors in sorted(groups.items()):
        if metric in LABELS:
            n, median, mape = error_stats(errors)
            lines.append(f"| {backend} | {LABELS[metric]} | {n} | {median:.1f} % | {mape:.1f} % |")
    lines += [
        "",
        f"Interval widening for an uncalibrated runtime (written to `catalogs/{WIDENING_FILE}`): the smallest "
        "factor (at least 1) by which the log bounds of the bundle's 80 % interval must be multiplied to contain "
        "the 80 % interval of these errors (they are shifted, not only spread: the runtime's own offset is missing).",
        "",
        "| family | bundle's interval log bounds | leave-one-runtime-out log bounds | widening factor |",
        "|---|---|---|---|",
    ]
    for family, entry in widening["families"].items():
        bundle, runtime = entry["bundle_log_bounds"], entry["held_out_runtime_log_bounds"]
        lines.append(
            f"| {family} | {bundle[0]:+.3f} .. {bundle[1]:+.3f} | {runtime[0]:+.3f} .. {runtime[1]:+.3f} | "
            f"{entry['factor']:.2f} |"
        )
    return lines + [""]


def _rows(held: dict, uncalibrated: dict) -> list[dict]:
    """One row per measured figure, with its held-out error and interval coverage under every scheme."""
    rows = {}
    for fold, pairs in held.items():
        key = FOLDS[fold]
        for item, error in pairs:
            row = rows.setdefault((item.run_id, item.metric), _describe(item, uncalibrated[(item.run_id, item.metric)]))
            family = FAMILIES[item.metric]
            others = np.array([e for other, e in pairs if key(other) != key(item) and FAMILIES[other.metric] == family])
            low, high = conformal_bounds(others, 0.8) if len(others) >= 5 else (np.nan, np.nan)
            row["error"][fold] = float(np.expm1(-error))  # predicted / measured - 1
            row["covered"][fold] = bool(low <= error <= high) if not np.isnan(low) else None
    return list(rows.values())


def _describe(item, uncalibrated: float) -> dict:
    return {
        "run_id": item.run_id,
        "row": int(item.run_id.rsplit("-", 1)[1]),
        "metric": item.metric,
        "hardware": item.hardware,
        "class": item.scenario.hardware.get("class"),
        "runtime": item.backend,
        "backend": item.provenance.compute_backend or "unstated",
        "era": FOLDS["period"](item),
        "source": item.provenance.source.split(" (")[0],
        "publication": FOLDS["source"](item),  # what leave-one-source-out holds out (a comment of a PR, a table)
        "model": item.scenario.model.id,
        "quant": item.scenario.quant.id,
        "uncalibrated_error": float(np.expm1(-uncalibrated)),
        "error": {},
        "covered": {},
    }


def _peer_errors(peer: dict | None) -> dict[tuple[int, str], float]:
    found = {}
    for row in (peer or {}).get("rows", []):
        predicted = row.get("predicted") or {}
        measured = row.get("measured") or {}
        for metric, field in PEER_FIELDS.items():
            truth = {
                "decode_toks_sec": measured.get("tg_tok_s"),
                "prefill_toks_sec": measured.get("pp_tok_s"),
                "output_toks_sec": measured.get("tg_tok_s"),
                "weights_gb": None,
            }[metric]
            if predicted.get(field) and truth and (metric == "output_toks_sec") == bool(row.get("serving_row")):
                found[(row["row"], metric)] = predicted[field] / truth - 1
    return found


def _document(rows: list[dict], peer: dict | None, seconds: float, analysis_sections: list[str]) -> str:
    peer_errors = _peer_errors(peer)
    sources = sorted({r["source"] for r in rows})
    lines = [
        "# LLM estimator accuracy",
        "",
        "Generated by `.venv/bin/python benchmarks/llm_accuracy.py` (do not edit by hand). Data: "
        f"`data/llm_bench_calibration.csv` ({len({r['run_id'] for r in rows})} public measurements from "
        f"{len(sources)} sources, source and date per row; its README lists the caveats). "
        f"Machine: {platform.machine()}, Python {platform.python_version()}; the whole run took {seconds:.0f} s.",
        "",
        "**Method.** Three cross-validations, each fitting the coefficients (eta_bw, eta_flops, t0 pooled over "
        "global / runtime / runtime x compute backend x hardware-class / runtime x era / runtime x compute backend x era "
        "levels, the eras of a runtime and of a compute backend tied by a random-walk prior, and an eta_bw offset per "
        "GPU model within its group under a tighter ridge; the per-layer launch time t_layer and the two dequantization "
        "factors global) on every record "
        "outside one group and predicting the group's figures: *leave-one-hardware-out* (each of the "
        f"{len({r['hardware'] for r in rows})} hardware profiles), *leave-one-source-out* (each publication: "
        + "; ".join(sources)
        + ") and *leave-one-year-out* (the year each source measured or published). "
        "A held-out group whose hardware class or runtime appears nowhere else is predicted with the coefficients "
        "of the levels that remain (its runtime's, else the global ones). Error = predicted / measured - 1. The "
        "p10-p90 interval of a held-out figure is the split-conformal interval from the held-out errors of the "
        "*other* groups of the same scheme (same metric family). The intervals the estimator reports are "
        "calibrated on the leave-one-source-out errors.",
        "",
        "Memory: the only memory figures in the data are weight-file sizes (GGUF files; the sources write GiB, "
        "read as such), compared with the weight memory the pack computes from the architecture and the format's "
        "bits per weight. Serving rows (TensorRT-LLM at max load) measure total output throughput over a whole run; "
        "they are compared with `output_tps` and kept out of the decode gate. Every row states its prompt length.",
        "",
    ]
    lines += _gate_section(rows) + _issue_section(rows)
    lines += _peer_section(rows, peer, peer_errors)
    for key, title in (
        ("class", "hardware class"),
        ("backend", "compute backend"),
        ("era", "era (year measured)"),
        ("runtime", "runtime"),
    ):
        lines += _group_section(rows, key, title)
    lines += analysis_sections
    lines += _row_section(rows, peer_errors)
    return "\n".join(lines) + "\n"


def _gate_section(rows: list[dict]) -> list[str]:
    lines = [
        "## Against the seed's gates",
        "",
        "| validation | metric | n | median abs. error | MAPE | gate (median) | p10-p90 coverage | "
        "uncalibrated median |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for fold, scheme in SCHEMES.items():
        for metric in ("decode_toks_sec", "prefill_toks_sec", "weights_gb", "output_toks_sec"):
            chosen = [r for r in rows if r["metric"] == metric]
            if not chosen:
                continue
            n, median, mape = error_stats([r["error"][fold] for r in chosen])
            gate = GATES[metric]
            verdict = "-" if gate is None else f"< {gate:.0f} %: {'met' if median < gate else 'NOT met'}"
            _, uncal, _ = error_stats([r["uncalibrated_error"] for r in chosen])
            lines.append(
                f"| {scheme} | {LABELS[metric]} | {n} | {median:.1f} % | {mape:.1f} % | {verdict} | "
                f"{_coverage(chosen, fold)} | {uncal:.1f} % |"
            )
    lines += [
        "",
        "The gates above are the issue's (median absolute error). The seed's own launch gates (section 9) "
        "are MAPEs: decode <= 10 %, prefill <= 12 %, memory MAE <= 5 %; compare the MAPE column with those.",
        "",
    ]
    for fold, scheme in SCHEMES.items():
        timing = [r for r in rows if r["metric"] != "weights_gb"]
        lines.append(
            f"- Coverage of the p10-p90 intervals over every timing figure, {scheme}: "
            f"{_coverage(timing, fold)}; the target is about 80 %."
        )
    return lines + [""]


def _issue_section(rows: list[dict]) -> list[str]:
    lines = ["## Against issue 17's gates (leave-one-source-out)", "", "| gate | measured | verdict |", "|---|---|---|"]
    for metric, statistic, limit in ISSUE_GATES:
        _, median, mape = error_stats([r["error"]["source"] for r in rows if r["metric"] == metric])
        value = median if statistic == "median" else mape
        lines.append(
            f"| {LABELS[metric]} {'median abs. error' if statistic == 'median' else 'MAPE'} <= {limit:.0f} % "
            f"| {value:.1f} % | {'met' if value <= limit else 'NOT met'} |"
        )
    covered = [
        r["covered"]["source"] for r in rows if r["metric"] == "decode_toks_sec" and r["covered"]["source"] is not None
    ]
    share = 100 * float(np.mean(covered)) if covered else float("nan")
    lines.append(
        f"| decode p10-p90 coverage 75-85 % | {_coverage([r for r in rows if r['metric'] == 'decode_toks_sec'], 'source')} "
        f"| {'met' if 75 <= share <= 85 else 'NOT met'} |"
    )
    return lines + [""]


def _coverage(rows: list[dict], fold: str) -> str:
    covered = [r["covered"][fold] for r in rows if r["covered"][fold] is not None]
    return f"{100 * np.mean(covered):.0f} % ({sum(covered)}/{len(covered)})" if covered else "-"


def _peer_section(rows, peer, peer_errors) -> list[str]:
    if not peer:
        return ["llm-analysis results missing: run benchmarks/llm_analysis_rows.py first.", ""]
    lines = [
        "## Side by side with llm-analysis",
        "",
        f"llm-analysis {peer['version']} in its own environment (`benchmarks/llm-analysis-env.sh`, "
        "`benchmarks/llm_analysis_rows.py`), with its default efficiencies (FLOPS and HBM efficiency 1): a roofline "
        "without calibration. Its assumptions per row are in `benchmarks/results/llm_analysis_rows.json`; it "
        "failed on rows " + ", ".join(map(str, peer["summary"]["rows_failed"])) + " (its own memory checks). "
        "Same rows for both tools (rows llm-analysis could not run are left out of both columns). "
        '"llm-analysis, scaled" divides each of its predictions by the median predicted/measured ratio of its '
        "metric over all rows: an in-sample correction that favours it.",
        "",
        "| metric | rows | symcost leave-one-hardware-out median / MAPE | llm-analysis median / MAPE | "
        "llm-analysis, scaled median |",
        "|---|---|---|---|---|",
    ]
    for metric in ("decode_toks_sec", "prefill_toks_sec", "output_toks_sec"):
        pairs = [
            (r["error"]["hardware"], peer_errors[(r["row"], metric)])
            for r in rows
            if r["metric"] == metric and (r["row"], metric) in peer_errors
        ]
        if not pairs:
            continue
        ours, theirs = zip(*pairs)
        ratio = np.median(np.array(theirs) + 1)
        scaled = (np.array(theirs) + 1) / ratio - 1
        n, our_median, our_mape = error_stats(ours)
        _, their_median, their_mape = error_stats(theirs)
        _, scaled_median, _ = error_stats(scaled)
        lines.append(
            f"| {LABELS[metric]} | {n} | {our_median:.1f} % / {our_mape:.1f} % | "
            f"{their_median:.1f} % / {their_mape:.1f} % | {scaled_median:.1f} % |"
        )
    return lines + [""]


def _group_section(rows, key, title) -> list[str]:
    lines = [
        f"## By {title} (held-out)",
        "",
        f"| {title} | metric | n | leave-one-hardware-out median / MAPE | leave-one-source-out median / MAPE |",
        "|---|---|---|---|---|",
    ]
    groups = defaultdict(list)
    for row in rows:
        groups[(row[key], row["metric"])].append(row)
    for (group, metric), chosen in sorted(groups.items()):
        cells = []
        for fold in ("hardware", "source"):
            n, median, mape = error_stats([r["error"][fold] for r in chosen])
            cells.append(f"{median:.1f} % / {mape:.1f} %")
        lines.append(f"| {group} | {LABELS[metric]} | {n} | {cells[0]} | {cells[1]} |")
    return lines + [""]


def _row_section(rows, peer_errors) -> list[str]:
    lines = [
        "## Every held-out figure",
        "",
        "| CSV row | hardware | backend | era | model | format | metric | leave-one-hardware-out error "
        "(in p10-p90) | leave-one-source-out error (in p10-p90) | llm-analysis error |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    shown = {True: "yes", False: "no", None: "-"}
    for row in sorted(rows, key=lambda r: (r["row"], r["metric"])):
        theirs = peer_errors.get((row["row"], row["metric"]))
        errors = [
            f"{100 * row['error'][fold]:+.1f} % ({shown[row['covered'][fold]]})" for fold in ("hardware", "source")
        ]
        lines.append(
            f"| {row['row']} | {row['hardware']} | {row['backend']} | {row['era']} | {row['model']} | "
            f"{row['quant']} | {LABELS[row['metric']]} | {errors[0]} | {errors[1]} | "
            f"{'-' if theirs is None else f'{100 * theirs:+.1f} %'} |"
        )
    return lines


if __name__ == "__main__":
    main()
