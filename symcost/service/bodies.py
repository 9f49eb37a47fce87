"""Request bodies read whole, up to a size, and checked as strict JSON before the app sees them (ASGI middleware).

A body over the limit is a 413 whether its length is declared or streamed
(chunked): the app never sees part of one. A body that is not strict JSON is a
422 naming the place (``symcost.documents.parse_text``: no NaN, Infinity or
1e999, integers within 2**53 and of at most 4300 digits, nesting at most 64
deep, no NUL), so pydantic only sees finite numbers. After the body, the app
receives from the server itself, so a request can tell when its client hangs up.
"""

from __future__ import annotations

from ..documents import parse_text
from ..errors import InputError, InputIssue
from .http_errors import ServiceError, from_library

LABEL = "request"


class RequestBodies:
    def __init__(self, app, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            body = await _read_body(scope, receive, self.max_body)
            if body:
                parse_text(_text(body), LABEL, "json")
        except _ClientGone:
            return None
        except ServiceError as error:
            return await error.response()(scope, receive, send)
        except InputError as error:
            return await from_library(error).response()(scope, receive, send)
        return await self.app(scope, _replay(body, receive), send)


class _ClientGone(Exception):
    pass


async def _read_body(scope, receive, limit: int) -> bytes:
    declared = dict(scope.get("headers") or []).get(b"content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _too_large(limit)
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone()
        body += message.get("body", b"")
        if len(body) > limit:
            raise _too_large(limit)
        if not message.get("more_body", False):
            return bytes(body)


def _too_large(limit: int) -> ServiceError:
    return ServiceError(413, f"request body larger than {limit} bytes")


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            [InputIssue(LABEL, "<document>", f"not UTF-8 text ({error.reason} at byte {error.start})")]
        ) from None


def _replay(body: bytes, receive):
    """The app's receive: the body read above, then whatever the server says next (a disconnect)."""
    delivered = False

    async def replayed():
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
