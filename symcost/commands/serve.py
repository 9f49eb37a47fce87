"""``symcost serve``: the estimator's HTTP API and web UI (loopback only unless told otherwise)."""
from __future__ import annotations

import argparse

from .common import positive_int


def register(commands) -> None:
    parser = commands.add_parser("serve", help="HTTP API (/v1/estimate, /v1/solve, /v1/calibrate, /v1/catalog/*, "
                                               "/v1/selfspec/*) and the web UI at /")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=positive_int, default=8000)
    parser.add_argument("--db", metavar="PATH", help="calibration store (default: $SYMCOST_DATA_DIR or "
                                                      "~/.local/share/symcost/calibration.sqlite)")
    parser.add_argument("--recalibrate-after", type=positive_int, default=10, metavar="N",
                        help="refit the calibration when N stored records are not yet in a bundle (default 10)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from ..llm.store import default_path
    from ..service.app import create_app

    app = create_app(args.db or default_path(), args.recalibrate_after)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
