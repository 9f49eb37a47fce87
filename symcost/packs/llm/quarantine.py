"""Records a fit cannot use, set aside with a reason, so that one bad record never blocks a refit.

A record is quarantined when it fails the checks a new record passes today
(a store written by an older version may hold NaN or zero metrics, or names a
catalog has since dropped), when its scenario cannot be evaluated (a layout
the model refuses), or when the fit would take the log of something that is
not a finite number > 0: log(predicted / measured) of each of its figures,
predicted by the analytical model with the fit's start coefficients.
Quarantined records stay in the store (it is append-only); the bundle fitted
without them lists them with their reasons.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from ...errors import SymcostError
from .analytic import analytic_model
from .calibration import DEFAULT_START
from .observations import Batch, Observation, observations
from .records import RunRecord, record_problems
from .scenario import Coefficients

START = Coefficients(**DEFAULT_START, origin="start of the fit")
MAX_REASON = 300  # characters: a record with many problems still gets a one-line reason


def split_fittable(records: Sequence[RunRecord]) -> tuple[list[RunRecord], list[dict[str, str]]]:
    """(the records a fit can use, [{"run_id", "reason"}] for the others), both in the order given."""
    reasons: dict[int, str] = {}
    figures: list[tuple[int, Observation]] = []
    for index, record in enumerate(records):
        reason = _record_reason(record)
        if reason:
            reasons[index] = reason
        else:
            figures += [(index, item) for item in observations([record])]
    for index, reason in _prediction_reasons(figures):
        reasons.setdefault(index, reason)
    kept = [record for index, record in enumerate(records) if index not in reasons]
    quarantined = [{"run_id": records[index].run_id, "reason": _one_line(reasons[index])} for index in sorted(reasons)]
    return kept, quarantined


def _record_reason(record: RunRecord) -> str | None:
    _, problems = record_problems(record.data, record.run_id)
    if problems:
        return "; ".join(f"{issue.path}: {issue.message}" for issue in problems)
    try:
        analytic_model().bind(record.scenario())
    except SymcostError as error:
        return f"the model cannot evaluate its scenario: {error}"
    return None


def _prediction_reasons(figures: list[tuple[int, Observation]]) -> Iterator[tuple[int, str]]:
    if not figures:
        return
    items = [item for _, item in figures]
    batch = Batch(items)
    with np.errstate(all="ignore"):  # the non-finite results are what is looked for
        predicted = batch.predict(lambda _: START)
        log_errors = np.log(predicted / batch.measured)
    for (index, item), value, error in zip(figures, predicted.tolist(), log_errors.tolist()):
        if not (np.isfinite(value) and value > 0):
            yield index, f"metrics.{item.metric}: the model predicts {value:g} for this run (start coefficients)"
        elif not np.isfinite(error):
            yield (
                index,
                (
                    f"metrics.{item.metric}: measured {item.measured:g} against predicted {value:g} "
                    f"(SI units) has no finite log ratio"
                ),
            )


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."
