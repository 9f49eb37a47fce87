"""A range cancelled by the loss of a worker (its scattered model gone with it) is submitted again, and the
model is scattered again once per loss, not once per cancelled range."""

from concurrent.futures import CancelledError
from types import SimpleNamespace

import numpy as np
import pytest

from symcost.distributed import RESUBMISSIONS, _run


class _Cancelled:
    def result(self):
        raise CancelledError("already forgotten")


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class _LosingClient:
    """A cluster whose first ``losses`` scattered copies are lost with a worker: every task that uses one
    of them is cancelled."""

    def __init__(self, losses: int):
        self.losses = losses
        self.scattered = []
        self.submitted = []

    def scatter(self, model, broadcast):
        copy = SimpleNamespace(model=model, number=len(self.scattered))
        self.scattered.append(copy)
        return copy

    def submit(self, function, copy, variant, start, stop, *arguments, pure):
        self.submitted.append((start, stop, copy.number))
        if copy.number < self.losses:
            return _Cancelled()
        return _Done(function(copy.model, variant, start, stop, *arguments))

    def nthreads(self):
        return {"worker": 1}


def _ranges(client, points: int, task_points: int):
    model = SimpleNamespace(axes=[SimpleNamespace(values=np.arange(points))])
    space = SimpleNamespace(variants=lambda: [{}], size=points)
    return list(
        _run(client, space, [model], None, task_points, lambda m, v, start, stop: stop - start, (), lambda n: n)
    )


def test_ranges_cancelled_by_one_loss_are_submitted_again_with_one_new_copy_of_the_model():
    client = _LosingClient(losses=1)
    found = _ranges(client, points=50, task_points=10)
    assert [done for done, _ in found] == [10, 20, 30, 40, 50]
    assert len(client.scattered) == 2  # the first copy, and one after the loss (not one per range)
    assert [number for *_, number in client.submitted].count(1) == 50 // 10  # every range once on the new copy


def test_a_second_loss_scatters_the_model_a_third_time():
    client = _LosingClient(losses=2)
    found = _ranges(client, points=30, task_points=10)
    assert [result for _, result in found] == [10, 10, 10]
    assert len(client.scattered) == 3


def test_a_range_cancelled_every_time_is_an_error():
    client = _LosingClient(losses=RESUBMISSIONS + 1)
    with pytest.raises(CancelledError):
        _ranges(client, points=10, task_points=10)
    assert len(client.submitted) == RESUBMISSIONS + 1
