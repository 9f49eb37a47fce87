"""How closely the LLM estimator's structure can fit the calibration data at all: the in-sample errors.

    .venv/bin/python benchmarks/llm_in_sample.py        # one fit on every record, about 15 s; prints Markdown

One fit on all of data/llm_bench_calibration.csv, each figure predicted by that same fit. A held-out error
(docs/llm-accuracy.md, benchmarks/llm_accuracy.py) can only be larger than this one, in expectation: where the
in-sample median already reaches a gate, no hold-out scheme meets it without a change of the model's
structure or more varied data.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from llm_accuracy import CSV, ISSUE_GATES, LABELS  # noqa: E402
from llm_error_split import error_stats, in_sample_errors  # noqa: E402

from symcost.packs.llm.observations import observations  # noqa: E402
from symcost.packs.llm.records import records_from_csv  # noqa: E402


def main() -> None:
    gates = {(metric, statistic): limit for metric, statistic, limit in ISSUE_GATES}
    print("| metric | n | in-sample median abs. error | in-sample MAPE | issue 17 gate (held out) |")
    print("|---|---|---|---|---|")
    found = in_sample_errors(observations(records_from_csv(CSV)))
    for metric, signed in sorted(found.items()):
        n, median, mape = error_stats(signed)
        gate = ", ".join(
            f"{statistic} <= {gates[(metric, statistic)]:.0f} %"
            for statistic in ("median", "mape")
            if (metric, statistic) in gates
        )
        print(f"| {LABELS.get(metric, metric)} | {n} | {median:.1f} % | {mape:.1f} % | {gate or '-'} |")


if __name__ == "__main__":
    main()
