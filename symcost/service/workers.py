"""Pools of worker processes for heavy work, each job with a time budget (pebble process pools).

A :class:`Lane` is one pool: ``workers`` processes and at most ``queue`` jobs
waiting for one; a job beyond that is refused at once (503) instead of queued
without end. A job over its budget is a 503 and its worker is terminated and
replaced, so the runaway work stops; so is a job whose worker dies (killed,
out of memory) or whose client hangs up. Workers are forked from a forkserver
that imported the heavy modules once; each warms up (compiles the LLM
analytic model), may lower its priority (background lanes yield the CPU to
the server process) and caps its address space, so one job cannot take the
machine's memory: running out is a MemoryError in the job, a 503.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import resource
import threading
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pebble import ProcessExpired, ProcessPool

from ..errors import SymcostError
from .http_errors import ServiceError, from_library

log = logging.getLogger("symcost.service")
MIB = 1024 * 1024
CLIENT_CLOSED = 499  # nginx's status for a request whose client hung up (nobody reads the answer)


@dataclass(frozen=True)
class LaneSettings:
    name: str
    workers: int
    queue: int
    budget: float  # seconds a job may run
    memory_mib: int | None  # address-space cap of each worker; None: no cap
    niceness: int = 0


class Lane:
    """A process pool with a bounded queue; ``run`` (async) and ``call`` (blocking) do one job in it."""

    def __init__(self, settings: LaneSettings):
        self.settings = settings
        self._lock = threading.Lock()
        self._in_flight: set[concurrent.futures.Future] = set()
        self._pool: ProcessPool | None = None

    def start(self) -> None:
        """Start the workers now (they warm up in parallel), not at the first job."""
        with self._lock:
            self._pool = self._new_pool()

    def stop(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            unfinished = list(self._in_flight)
        if pool is not None:
            _dispose(pool)
        for future in unfinished:  # pebble leaves them pending once stopped; cancelled, their waiters return
            future.cancel()

    async def run(
        self, function: Callable, *args: Any, what: str, client_gone: Callable[[], Awaitable] | None = None
    ) -> Any:
        """``function(*args)`` in a worker; stopped early when the awaitable ``client_gone()`` returns."""
        work = asyncio.wrap_future(self._submit(function, args))
        watch = asyncio.ensure_future(client_gone()) if client_gone is not None else None
        try:
            await asyncio.wait([task for task in (work, watch) if task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            if watch is not None:
                watch.cancel()
            work.cancel()  # no-op when done; else pebble drops the job or terminates its worker
        if work.cancelled():
            raise ServiceError(CLIENT_CLOSED, f"{what}: the client closed the connection; the work was stopped")
        if work.exception() is not None:
            raise self._failure(work.exception(), what)
        return work.result()

    def call(self, function: Callable, *args: Any, what: str) -> Any:
        future = self._submit(function, args)
        try:
            return future.result()
        except Exception as error:  # noqa: BLE001 - every failure becomes a ServiceError
            raise self._failure(error, what) from None

    def _submit(self, function: Callable, args: tuple) -> concurrent.futures.Future:
        settings = self.settings
        with self._lock:
            if self._pool is None:
                raise ServiceError(503, "the server is shutting down")
            if len(self._in_flight) >= settings.workers + settings.queue:
                raise ServiceError(
                    503,
                    f"the server is busy: its {settings.workers} {settings.name} worker(s) are "
                    f"working and {settings.queue} more jobs wait; try again shortly",
                )
            if not self._pool.active:  # a worker died between jobs or a message was unreadable: pebble gave up
                log.error("%s worker pool failed; starting a new one", settings.name)
                threading.Thread(target=_dispose, args=(self._pool,), daemon=True).start()
                self._pool = self._new_pool()
            future = self._pool.schedule(run_job, (function, *args), timeout=settings.budget)
            self._in_flight.add(future)
        future.add_done_callback(self._finished)
        return future

    def _finished(self, future: concurrent.futures.Future) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _new_pool(self) -> ProcessPool:
        settings = self.settings
        pool = ProcessPool(
            max_workers=settings.workers,
            context=_context(),
            initializer=initialize_worker,
            initargs=(settings.niceness, settings.memory_mib),
        )
        pool.active  # noqa: B018 - starts the workers
        return pool

    def _failure(self, error: BaseException, what: str) -> ServiceError:
        if isinstance(error, ServiceError):
            return error
        if isinstance(error, concurrent.futures.CancelledError):  # by stop()
            return ServiceError(503, "the server is shutting down")
        if isinstance(error, concurrent.futures.TimeoutError):
            return ServiceError(503, f"{what} exceeded its {self.settings.budget:g} s budget; the work was stopped")
        if isinstance(error, ProcessExpired):
            return ServiceError(
                503,
                f"{what}: its worker process ended ({_ending(error.exitcode)}); "
                "a new worker takes its place, try again",
            )
        log.error("%s worker pool failed: %r", self.settings.name, error)
        return ServiceError(503, f"{what}: the {self.settings.name} workers failed; they are restarted, try again")


def run_job(function: Callable, *args: Any) -> Any:
    """In a worker: ``function(*args)``, its failures as ServiceErrors (which always cross back intact)."""
    try:
        return function(*args)
    except ServiceError:
        raise
    except SymcostError as error:
        raise from_library(error) from None
    except MemoryError:
        cap = resource.getrlimit(resource.RLIMIT_AS)[0]
        limit = f" of {cap // MIB} MiB" if cap != resource.RLIM_INFINITY else ""
        raise ServiceError(503, f"the request needs more than the worker's memory{limit}; it was stopped") from None
    except Exception:  # a bug: logged on the server (the worker's stderr is the server's), never sent
        traceback.print_exc()
        raise ServiceError(500, "internal error") from None


def initialize_worker(niceness: int, memory_mib: int | None) -> None:
    from .jobs import warm_up

    if niceness:
        os.nice(niceness)
    warm_up()
    if memory_mib:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mib * MIB, memory_mib * MIB))


def _context():
    # forkserver, not fork: the server process has threads. The forkserver imports the heavy modules once,
    # so a worker that replaces a killed one starts in well under a second. It inherits the environment when
    # it starts: one BLAS thread per worker, since the workers are the parallelism, and every BLAS thread
    # reserves address space the memory cap counts (a worker holds ~280 MiB with one, ~360 MiB with two).
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["symcost.service.jobs"])
    return context


def _dispose(pool: ProcessPool) -> None:
    pool.stop()
    pool.join(timeout=30)


def _ending(exitcode: int | None) -> str:
    return f"killed by signal {-exitcode}" if exitcode is not None and exitcode < 0 else f"exit code {exitcode}"
