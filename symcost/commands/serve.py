"""``symcost serve``: the estimator's HTTP API and web UI (loopback only unless told otherwise)."""

from __future__ import annotations

import argparse

from ..service.options import WorkerOptions
from .common import bounded_int, positive_int


def register(commands) -> None:
    defaults = WorkerOptions()
    parser = commands.add_parser(
        "serve",
        help="HTTP API (/v1/estimate, /v1/solve, /v1/calibrate, /v1/catalog/*, "
        "/v1/selfspec/*, /healthz) and the web UI at /",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=positive_int, default=8000)
    parser.add_argument(
        "--db",
        metavar="PATH",
        help="calibration store (default: $SYMCOST_DATA_DIR or ~/.local/share/symcost/calibration.sqlite)",
    )
    parser.add_argument(
        "--recalibrate-after",
        type=positive_int,
        default=10,
        metavar="N",
        help="refit the calibration when N stored records are not yet in a bundle (default 10)",
    )
    parser.add_argument(
        "--workers",
        type=bounded_int(1, 64),
        default=defaults.workers,
        metavar="N",
        help="worker processes for compiles and large solver grids, and as many again for quick "
        f"work such as recommendations (default min(4, cores) = {defaults.workers})",
    )
    parser.add_argument(
        "--request-timeout",
        type=bounded_int(1, 86_400),
        default=defaults.request_timeout,
        metavar="SECONDS",
        help="time budget of a request run by a worker; over it, the worker is "
        f"stopped and the answer is 503 (default {defaults.request_timeout})",
    )
    parser.add_argument(
        "--refit-timeout",
        type=bounded_int(1, 86_400),
        default=defaults.refit_timeout,
        metavar="SECONDS",
        help=f"time budget of a calibration refit (default {defaults.refit_timeout})",
    )
    parser.add_argument(
        "--worker-memory",
        type=bounded_int(256, 1 << 20),
        default=defaults.memory_mib,
        metavar="MIB",
        help=f"address space each worker process may use (default {defaults.memory_mib} MiB)",
    )
    parser.add_argument("--access-log", action="store_true", help="print one line per request on stdout")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..packs.llm.store import default_path
    from ..service.app import create_app
    from ..service.listen import serve

    workers = WorkerOptions(args.workers, args.request_timeout, args.refit_timeout, args.worker_memory)
    app = create_app(args.db or default_path(), args.recalibrate_after, workers=workers)
    return serve(app, args.host, args.port, access_log=args.access_log)
