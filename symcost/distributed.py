"""Sweeps and explorations on a Dask cluster (the optional extra ``symcost[dask]``).

``--cluster local:N`` starts a ``distributed.LocalCluster`` of N worker
processes; ``--cluster tcp://HOST:PORT`` joins a running scheduler. The work:

1. each structural variant is compiled by a task on a worker (SymPy runs
   there, and its evaluator cache is the worker's);
2. the compiled evaluator travels as generated source text with its metadata
   (:class:`ShippedModel`), broadcast once to every worker, never as a pickle
   of SymPy objects; a worker checks the source with the cache's AST
   whitelist before it compiles it, once per source;
3. the grid is cut into ranges of points, each one task that evaluates its
   range exactly as a local run does (the same generated code, the same
   chunk boundaries), so results are bitwise identical;
4. a task's result is keyed by its range: a worker that dies has its tasks
   rerun by the scheduler, and nothing is missing or counted twice.

Input files are read by the workers that compile: on a remote cluster they
must be at the same paths (a shared file system).
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np

from .design_space import DesignSpace
from .errors import SymcostError
from .finite import checked_evaluation
from .progress import Progress
from .sweep import CHUNK, checked_axes, evaluate_blocks

TASK_POINTS = 200_000  # points per task: ten local chunks, about 0.1-1 s of work on one core
MAX_IN_FLIGHT = 64  # least tasks submitted ahead of the one awaited (see _in_flight)
RESUBMISSIONS = 3  # times a range cancelled by the loss of a worker is submitted again
_FUNCTIONS: dict[str, Callable] = {}  # on a worker: compiled sources by digest


@dataclass(frozen=True)
class ShippedModel:
    """A compiled variant as text and numbers: what a worker needs to evaluate its points."""

    source: str
    globals: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    defaults: dict[str, float]
    limits: tuple[tuple[str, str], ...]
    aliases: dict[str, tuple[str, float]]  # axis name -> (evaluator input, factor to SI)
    domains: dict[str, str]  # axis name -> its input's domain
    axes: tuple  # the variant's symbolic axes, rounded as the model rounds them
    units: dict[str, str]  # output -> SI unit (of the columns asked for)
    digest: str = field(default="")

    @property
    def evaluator(self):
        import sympy as sp

        from .compile import Evaluator

        return Evaluator(tuple(sp.Symbol(name) for name in self.inputs), self.outputs, self._function())

    @property
    def output_names(self) -> tuple[str, ...]:
        return self.outputs

    def _function(self) -> Callable:
        if self.digest not in _FUNCTIONS:
            from .evaluator_source import checked_function

            _FUNCTIONS[self.digest] = checked_function(
                self.source, f"<symcost evaluator {self.digest[:12]}>", self.globals
            )
        return _FUNCTIONS[self.digest]

    def input_for(self, name: str) -> tuple[str, float]:
        return self.aliases[name]

    def unit(self, name: str) -> str:
        return self.units[name]

    def domain(self, name: str) -> str:
        return self.domains[name]

    def evaluate_within_limits(self, raise_beyond: bool = False, **inputs):
        def culprits():  # the worker has no bindings: the message says where to look
            return []

        return checked_evaluation(
            self.evaluator, {**self.defaults, **inputs}, self.limits, culprits, mask_limits=not raise_beyond
        )


def ship(space: DesignSpace, variant: dict[str, object], columns: Sequence[str]) -> ShippedModel:
    """Compile one variant (on a worker) and return it as a :class:`ShippedModel`."""
    from .evaluator_source import global_names

    model = space.model(variant)
    evaluator = model.evaluator
    source = evaluator.source()
    names = [axis.name for axis in space.symbolic]
    return ShippedModel(
        source,
        tuple(sorted(global_names(evaluator.function.__code__))),
        evaluator.input_names,
        evaluator.names,
        dict(model.defaults),
        tuple(model.limits),
        {name: model.input_for(name) for name in names},
        {name: model.domain(name) for name in names},
        tuple(checked_axes(model, space.symbolic)),
        {name: model.unit(name) for name in columns if name in evaluator.names},
        hashlib.sha256(source.encode()).hexdigest(),
    )


def evaluate_range(
    shipped: ShippedModel,
    variant: dict[str, object],
    start: int,
    stop: int,
    columns: Sequence[str],
    mask_limits: bool,
    chunk: int = CHUNK,
) -> list[dict[str, np.ndarray]]:
    """The blocks of one task: points ``start``..``stop`` of the variant's grid, as a local run cuts them."""
    blocks = []
    for _, block in evaluate_blocks(shipped, shipped.axes, columns, chunk, mask_limits, start, stop):
        size = len(next(iter(block.values())))
        blocks.append({**{name: np.full(size, value) for name, value in variant.items()}, **block})
    return blocks


@contextmanager
def cluster_client(address: str):
    """A client for the duration of a ``with``: its LocalCluster, if it started one, is shut down after."""
    client = connect(address)
    try:
        yield client
    finally:
        cluster = client.cluster if address.startswith("local:") else None
        client.close()
        if cluster is not None:
            cluster.close()


def connect(address: str):
    """A client of ``local:N`` (a LocalCluster of N worker processes) or of ``tcp://HOST:PORT``."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise SymcostError("--cluster needs Dask, which is not installed: pip install 'symcost[dask]'") from None
    if address.startswith("local:"):
        try:
            workers = int(address.split(":", 1)[1])
        except ValueError:
            workers = 0
        if not 1 <= workers <= 256:
            raise SymcostError(f"--cluster {address!r}: expected local:N with N in 1..256")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster)
    if address.startswith("tcp://"):
        return Client(address, timeout="30s")
    raise SymcostError(f"--cluster {address!r}: expected local:N or tcp://HOST:PORT")


def compile_variants(client, space: DesignSpace, columns: Sequence[str]) -> list[ShippedModel]:
    """Every structural variant compiled by a task on a worker, in order."""
    variants = list(space.variants())
    return client.gather(
        client.map(ship, [space] * len(variants), variants, [tuple(columns)] * len(variants), pure=False)
    )


def sweep_blocks(
    client,
    space: DesignSpace,
    shipped: Sequence[ShippedModel],
    columns: Sequence[str],
    progress: TextIO | None = None,
    task_points: int = TASK_POINTS,
) -> Iterator[tuple[int, list[dict[str, np.ndarray]]]]:
    """Each task's blocks, computed on the cluster and yielded in the local run's order:
    (points done so far, the task's blocks)."""
    yield from _run(
        client,
        space,
        shipped,
        progress,
        task_points,
        evaluate_range,
        (tuple(columns), False),
        lambda blocks: sum(len(next(iter(block.values()))) for block in blocks),
    )


def explore_fronts(
    client,
    space: DesignSpace,
    shipped: Sequence[ShippedModel],
    setup,
    progress: TextIO | None = None,
    task_points: int = TASK_POINTS,
) -> None:
    """Each task's own front (feasible, non-dominated) computed on a worker and merged into ``setup``'s."""
    arguments = (setup.outputs, tuple(setup.objectives), tuple(setup.front.constraints))
    for _, (evaluated, feasible, front) in _run(
        client, space, shipped, progress, task_points, front_of_range, arguments, lambda result: result[0]
    ):
        setup.merge(front, evaluated, feasible)


def front_of_range(
    shipped: ShippedModel,
    variant: dict[str, object],
    start: int,
    stop: int,
    columns: Sequence[str],
    objectives: Sequence,
    constraints: Sequence,
) -> tuple[int, int, dict[str, np.ndarray]]:
    """(designs evaluated, feasible, the front of points ``start``..``stop``), on a worker."""
    from .pareto import StreamingFront

    front = StreamingFront(tuple(objectives), tuple(constraints))
    for block in evaluate_range(shipped, variant, start, stop, columns, True):
        front.add(block)
    return front.evaluated, front.feasible, front.columns


def _run(client, space, shipped, progress, task_points, function, arguments, points_of) -> Iterator[tuple[int, Any]]:
    """``function(model, variant, start, stop, *arguments)`` over every range of every variant, results
    in order, a bounded number of tasks ahead of the one yielded (:func:`_in_flight`)."""
    variants = list(space.variants())
    tasks = (
        (index, start, min(start + task_points, _points(model)))  # lazily: 10^12 points are 10^5+ tasks
        for index, model in enumerate(shipped)
        for start in range(0, _points(model), task_points)
    )
    on_workers = [client.scatter(model, broadcast=True) for model in shipped]

    def submit(index: int, start: int, stop: int, lost=None):
        # A dead worker can take the scattered model with it, and its tasks are cancelled ("forgotten"). The
        # model is scattered again once per loss, not once per cancelled range: only when the cancelled task
        # used the copy that is still current.
        if lost is not None and lost is on_workers[index]:
            on_workers[index] = client.scatter(shipped[index], broadcast=True)
        model = on_workers[index]
        future = client.submit(function, model, variants[index], start, stop, *arguments, pure=False)
        return future, (index, start, stop), model

    meter = Progress("cluster", space.size, progress) if progress is not None else None
    ahead = _in_flight(client)
    futures: deque = deque()
    done = 0
    for task in tasks:
        futures.append(submit(*task))
        if len(futures) >= ahead:
            done = yield from _collect(futures.popleft(), submit, done, points_of, meter)
    while futures:
        done = yield from _collect(futures.popleft(), submit, done, points_of, meter)
    if meter:
        meter.finish()


def _collect(submitted, submit, done: int, points_of, meter) -> Iterator[tuple[int, Any]]:
    """The result of a submitted range; a range cancelled by the loss of a worker is submitted again (a few
    times: a second loss can cancel the new task too)."""
    from concurrent.futures import CancelledError

    future, task, model = submitted
    for _ in range(RESUBMISSIONS):
        try:
            result = future.result()
            break
        except CancelledError:
            future, task, model = submit(*task, lost=model)
    else:
        result = future.result()
    done += points_of(result)
    if meter:
        meter.update(done)
    yield done, result
    return done


def _in_flight(client) -> int:
    """Tasks submitted ahead of the one awaited: enough to keep every worker thread busy four deep (at least
    :data:`MAX_IN_FLIGHT`), few enough that the driver holds a bounded number of results."""
    return max(MAX_IN_FLIGHT, 4 * sum(client.nthreads().values()))


def _points(model: ShippedModel) -> int:
    return math.prod(axis.values.size for axis in model.axes) if model.axes else 1
