"""The worker settings of ``symcost serve`` (a module of its own: the CLI reads the defaults without loading the service)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WorkerOptions:
    workers: int = field(
        default_factory=lambda: min(4, os.cpu_count() or 1)
    )  # in the heavy lane, and as many in the quick one
    request_timeout: int = 20  # seconds a heavy request may run
    refit_timeout: int = 300  # seconds a calibration refit may run
    memory_mib: int = 2048  # address space of each worker process
