"""The guard as pure ASGI middleware: every request under a path prefix is authenticated
from its headers (RFC 6750 §2.1) before anything reads its body (DESIGN.md §4.11)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.http import bearer_error_response, verify_request
from anti_grazer.paths import is_under
from anti_grazer.protocol.errors import OAuthError

# What is read and dropped of a refused request's streamed body (``discard_streamed_body``).
DISCARDED_BODY_BYTES = 1 << 16
DISCARD_SECONDS = 1.0


class BearerAuthMiddleware:
    """Verifies the bearer token of every request under ``prefix`` (the prefix itself and
    every path below it).

    A request without a valid token is answered with the §3 error at once: its body is
    never used (an ``Expect: 100-continue`` gets no ``100 Continue``) and no route runs.
    The verified principal is left in the scope, where the routes' own guards
    (``require_scopes``, ``requires_bearer``) find it and check their scopes."""

    def __init__(self, app: ASGIApp, guard: Callable[[], BearerGuard], prefix: str) -> None:
        self.app = app
        self.guard = guard
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        guard = self.guard()
        try:
            await verify_request(guard, scope)
        except OAuthError as error:
            await bearer_error_response(error, guard.realm)(scope, receive, send)
            await discard_streamed_body(scope, receive)
            return
        await self.app(scope, receive, send)


async def discard_streamed_body(scope: Scope, receive: Receive) -> None:
    """After refusing a request whose client is already streaming a chunked body (no
    ``Content-Length``, no ``Expect``), read and drop up to ``DISCARDED_BODY_BYTES`` of it
    for at most ``DISCARD_SECONDS``.  Closing a connection with unread bytes in its
    receive buffer makes the kernel reset it, and the reset can reach the client before
    the answer it was sent: about a third of such clients saw a broken connection instead
    of the 401.  A body announced by ``Content-Length`` needs nothing (the server skips
    it), and one behind ``Expect: 100-continue`` was never sent."""
    if any(name in (b"content-length", b"expect") for name, _ in scope["headers"]):
        return
    received = 0
    try:
        async with asyncio.timeout(DISCARD_SECONDS):
            while received <= DISCARDED_BODY_BYTES:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                received += len(message.get("body", b""))
    except TimeoutError:
        return
