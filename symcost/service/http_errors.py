"""The service's error answers: ``{"error": "<one line>", "issues": [...]}`` for every status.

Library errors become statuses here, in the server and in the worker processes
alike: input errors and non-finite results are 422, other symcost errors 400.
Messages lose the server's own folders on the way out (a path becomes its
file name), so no answer tells a client where the server keeps its files.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import InputError, SymcostError
from ..finite import NonFiniteResultError

log = logging.getLogger("symcost.service")
_SERVER_FOLDERS = sorted(
    {
        folder
        for folder in (
            str(Path(__file__).resolve().parents[2]),
            tempfile.gettempdir(),
            str(Path(tempfile.gettempdir()).resolve()),
            str(Path.home()),
        )
        if len(Path(folder).parts) > 1
    },
    key=len,
    reverse=True,
)  # never "/" itself
_SERVER_PATH = re.compile("(?:" + "|".join(map(re.escape, _SERVER_FOLDERS)) + r")(?:/[^\s'\":,;()\[\]]*)?")


class ServiceError(Exception):
    """An answer other than success. Picklable (it crosses from worker processes): args are the fields."""

    def __init__(self, status: int, message: str, issues: Sequence[str] = ()):
        super().__init__(status, message, list(issues))
        self.status, self.message, self.issues = status, message, list(issues)

    def response(self, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(error_body(self.message, self.issues), status_code=self.status, headers=headers)


def error_body(message: str, issues: Sequence[str] = ()) -> dict[str, Any]:
    lines = without_server_paths(message).splitlines() or ["error"]
    return {"error": lines[0], "issues": [*lines[1:], *map(without_server_paths, issues)]}


def without_server_paths(text: str) -> str:
    return _SERVER_PATH.sub(lambda match: Path(match.group()).name or "<server>", text)


def from_library(error: SymcostError) -> ServiceError:
    if isinstance(error, InputError):
        return ServiceError(422, "invalid input", [str(issue) for issue in error.issues])
    return ServiceError(422 if isinstance(error, NonFiniteResultError) else 400, str(error))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def service_error(_: Request, error: ServiceError) -> JSONResponse:
        return error.response()

    @app.exception_handler(SymcostError)
    async def symcost_error(_: Request, error: SymcostError) -> JSONResponse:
        return from_library(error).response()

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, error: RequestValidationError) -> JSONResponse:
        issues = [f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()]
        return ServiceError(422, "invalid request", issues).response()

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        message = str(error.detail)
        if message == HTTPStatus(error.status_code).phrase:  # Starlette's own 404/405: say what was asked for
            message = f"{message.lower()}: {request.method} {request.url.path[:200]}"
        return ServiceError(error.status_code, message).response(error.headers)

    @app.exception_handler(Exception)
    async def internal_error(_: Request, error: Exception) -> JSONResponse:
        log.exception("internal error")
        return ServiceError(500, "internal error").response()
