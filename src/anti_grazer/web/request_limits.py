"""Every request body is bounded in size and in time while it streams (DESIGN.md §4.11):
a declared ``Content-Length`` over the limit is refused before a byte is read, a chunked
body as soon as it passes the limit, and a body that does not arrive in time is cut off.
Nothing is buffered here: the route reads the body as it comes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anti_grazer.protocol.errors import InvalidRequestError, OAuthError
from anti_grazer.protocol.headers import single_headers
from anti_grazer.web.responses import send_error

_CONTENT_LENGTH = frozenset({b"content-length"})
# The rest of a refused body is never read: the connection cannot carry another request.
_CLOSE = [(b"connection", b"close")]
_DISCONNECT: Message = {"type": "http.disconnect"}


class PayloadTooLargeError(InvalidRequestError):
    """The body exceeds the route's limit: ``invalid_request`` with status 413."""

    status = 413
    default_description = "The request body is too large"


class BodyTimeoutError(InvalidRequestError):
    """The body did not arrive in time: ``invalid_request`` with status 408."""

    status = 408
    default_description = "The request body did not arrive in time"


def check_content_length(declared: str | None, limit: int) -> None:
    """Refuse a malformed ``Content-Length`` or one above ``limit`` before reading."""
    if declared is None:
        return
    # ASCII digits only: str.isdigit() also accepts "³", which int() refuses.
    if not (declared.isascii() and declared.isdigit()):
        raise InvalidRequestError("The Content-Length header is malformed")
    # Compare by length first: int() refuses strings of more than 4300 digits.
    significant = declared.lstrip("0")
    if len(significant) > len(str(limit)) or int(significant or "0") > limit:
        raise PayloadTooLargeError()


class RequestBodyLimits:
    """Bounds each request body to ``limit_for(path)`` bytes, arriving within
    ``timeout_seconds`` of the route's first read.

    A refusal is an OAuth-style JSON error (413 or 408, ``Connection: close``) when the
    route has not started its response; the route then reads ``http.disconnect``, and what
    it sends afterwards is dropped."""

    def __init__(
        self, app: ASGIApp, limit_for: Callable[[str], int], timeout_seconds: float
    ) -> None:
        self.app = app
        self.limit_for = limit_for
        self.timeout_seconds = timeout_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        try:
            declared = single_headers(scope["headers"], _CONTENT_LENGTH).get(b"content-length")
            check_content_length(declared, limit)
        except OAuthError as error:
            await send_error(send, error, _CLOSE)
            return
        await _LimitedRequest(self.app, limit, self.timeout_seconds, send).run(scope, receive)


class _LimitedRequest:
    """One request's body accounting: bytes read so far, the deadline, and whether the
    edge has answered in the route's place.  Once the last body message has arrived,
    ``receive`` passes straight through (what follows can only be a disconnect)."""

    __slots__ = (
        "app",
        "complete",
        "deadline",
        "limit",
        "refused",
        "send",
        "size",
        "started",
        "timeout_seconds",
    )

    def __init__(self, app: ASGIApp, limit: int, timeout_seconds: float, send: Send) -> None:
        self.app = app
        self.limit = limit
        self.timeout_seconds = timeout_seconds
        self.send = send
        self.size = 0
        self.deadline: float | None = None
        self.complete = False
        self.started = False
        self.refused = False

    async def run(self, scope: Scope, receive: Receive) -> None:
        async def limited_receive() -> Message:
            if self.complete:
                return await receive()
            if self.refused:
                return _DISCONNECT
            if self.deadline is None:
                self.deadline = asyncio.get_running_loop().time() + self.timeout_seconds
            try:
                async with asyncio.timeout_at(self.deadline):
                    message = await receive()
            except TimeoutError:
                await self._refuse(BodyTimeoutError())
                return _DISCONNECT
            if message["type"] == "http.request":
                self.size += len(message.get("body", b""))
                if self.size > self.limit:
                    await self._refuse(PayloadTooLargeError())
                    return _DISCONNECT
                self.complete = not message.get("more_body", False)
            return message

        async def route_send(message: Message) -> None:
            if self.refused:
                return
            if message["type"] == "http.response.start":
                self.started = True
            await self.send(message)

        try:
            await self.app(scope, limited_receive, route_send)
        except Exception:
            if not self.refused:
                raise
            # The route failed on the disconnect it was handed after the refusal.

    async def _refuse(self, error: OAuthError) -> None:
        self.refused = True
        if not self.started:
            await send_error(self.send, error, _CLOSE)
