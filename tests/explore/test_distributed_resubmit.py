"""A range cancelled by the loss of a worker (its scattered model gone with it) is submitted again."""

from concurrent.futures import CancelledError

import pytest

from symcost.distributed import RESUBMISSIONS, _collect


class _Cancelled:
    def result(self):
        raise CancelledError("already forgotten")


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


def _submitter(cancelled_times: int):
    calls = []

    def submit(index, start, stop, again=False):
        calls.append((index, start, stop, again))
        return (_Cancelled() if len(calls) <= cancelled_times else _Done(stop - start)), (index, start, stop)

    return submit, calls


def test_a_cancelled_range_is_submitted_again_with_its_model_scattered_again():
    submit, calls = _submitter(cancelled_times=1)
    found = list(_collect((_Cancelled(), (2, 100, 150)), submit, 10, lambda points: points, None))
    assert found == [(60, 50)]
    assert calls == [(2, 100, 150, True), (2, 100, 150, True)]


def test_a_range_cancelled_every_time_is_an_error():
    submit, calls = _submitter(cancelled_times=RESUBMISSIONS)
    with pytest.raises(CancelledError):
        list(_collect((_Cancelled(), (0, 0, 10)), submit, 0, lambda points: points, None))
    assert len(calls) == RESUBMISSIONS
