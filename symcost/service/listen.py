"""Running the service under uvicorn, saying where it listens (uvicorn's own line is an INFO log, hidden at the
warning level the service logs at) once the socket is bound, so the line never announces a port that failed."""

from __future__ import annotations

import logging
import sys

import uvicorn
from uvicorn.config import STARTUP_FAILURE


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _AnnouncingServer(uvicorn.Server):
    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)  # exits the process when the port cannot be bound
        if self.started:
            print(
                f"symcost: serving on {_url(self.config.host, self.config.port)} (web UI at /, API description "
                "at /openapi.json; Ctrl+C stops)",
                file=sys.stderr,
                flush=True,
            )


def serve(app, host: str, port: int, access_log: bool = False) -> int:
    """Serve ``app`` until interrupted; the exit code uvicorn.run would give."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=access_log)
    if access_log:  # one line per request on stdout (an INFO log), the rest of uvicorn's log still warnings only
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    server = _AnnouncingServer(config)
    server.run()
    return 0 if server.started else STARTUP_FAILURE
