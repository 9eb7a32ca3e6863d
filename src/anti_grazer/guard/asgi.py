"""The guard as pure ASGI middleware: every request under a path prefix is authenticated
from its headers (RFC 6750 §2.1) before anything reads its body (DESIGN.md §4.11)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.http import bearer_error_response, verify_request
from anti_grazer.paths import is_under
from anti_grazer.protocol.errors import OAuthError


class BearerAuthMiddleware:
    """Verifies the bearer token of every request under ``prefix`` (the prefix itself and
    every path below it).

    A request without a valid token is answered with the §3 error at once: its body is
    never read (so an ``Expect: 100-continue`` gets no ``100 Continue``) and no route runs.
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
            return
        await self.app(scope, receive, send)
