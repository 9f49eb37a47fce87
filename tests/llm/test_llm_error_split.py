"""benchmarks/llm_error_split.py: a source's own shift, estimated from its other figures, taken out of each."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from llm_error_split import without_own_shift  # noqa: E402


def _row(source: str, metric: str, error: float) -> dict:
    return {"publication": source, "source": source, "metric": metric, "error": {"source": error}}


def _oracle(rows: list[dict]) -> list[float]:
    """Step by step: for each row, the median log error of the other rows of its source and metric."""
    found = []
    keys = []
    for row in rows:
        if (row["publication"], row["metric"]) not in keys:
            keys.append((row["publication"], row["metric"]))
    for key in keys:
        members = [row for row in rows if (row["publication"], row["metric"]) == key]
        for row in members:
            others = sorted(math.log(1 + other["error"]["source"]) for other in members if other is not row)
            if not others:
                shift = 0.0
            elif len(others) % 2:
                shift = others[len(others) // 2]
            else:
                shift = (others[len(others) // 2 - 1] + others[len(others) // 2]) / 2
            found.append(math.exp(math.log(1 + row["error"]["source"]) - shift) - 1)
    return found


def test_a_pure_shift_is_taken_out_and_a_sources_only_figure_keeps_its_error():
    rows = [_row("a", "decode_toks_sec", 0.3)] * 3 + [_row("b", "decode_toks_sec", -0.2)]
    assert without_own_shift(rows) == pytest.approx([0.0, 0.0, 0.0, -0.2], abs=1e-12)


def test_metrics_of_one_source_are_shifted_apart():
    rows = [_row("a", "decode_toks_sec", 0.5), _row("a", "prefill_toks_sec", -0.5)]
    assert without_own_shift(rows) == pytest.approx([0.5, -0.5])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["s1", "s2", "s3"]),
            st.sampled_from(["decode_toks_sec", "prefill_toks_sec"]),
            st.floats(-0.9, 3.0, allow_nan=False),
        ),
        min_size=1,
        max_size=12,
    )
)
def test_equals_a_step_by_step_median_of_the_other_figures(cells):
    rows = [_row(*cell) for cell in cells]
    assert sorted(without_own_shift(rows)) == pytest.approx(sorted(_oracle(rows)), rel=1e-9, abs=1e-12)
