"""The API's rate limits as pure ASGI middleware (issue 18 item 1): every request under a
path prefix is counted against its bearer token's client's limits (``Throttle.requests``:
one round trip to the counters) after ``BearerAuthMiddleware`` verified the token and
before any byte of the body is read.  Past an enforced limit the answer is ``429`` (RFC
6585 §4) with ``Retry-After`` and ``{"error": {"code": "RATE_LIMIT_EXCEEDED", ...}}``, and
the route never runs; every answer carries the rate-limit fields
(``web.rate_limit_headers``).  A request the guard refused was not counted: it has no
client.  A route that counts a limit of its own (a report's new reporter) and refuses
past it answers ``rate_limited_response``, whose fields name that limit."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anti_grazer.guard.asgi import discard_streamed_body
from anti_grazer.guard.http import verified_principal
from anti_grazer.paths import is_under
from anti_grazer.protocol.models import NEW_REPORTERS_PER_DAY
from anti_grazer.protocol.rate_limits import Usage
from anti_grazer.protocol.throttle import Throttle
from anti_grazer.web.rate_limit_headers import rate_limit_headers, retry_after
from anti_grazer.web.responses import JSON_CONTENT_TYPE, NO_STORE, RawHeaders, send_response

RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"


def rate_limited_body(usage: Usage) -> bytes:
    """The API's error body for a refused request: which limit, and when to retry."""
    exceeded = max(
        (state for state in usage.enforced if state.exceeded), key=lambda state: state.reset_at
    )
    limit = exceeded.limit
    counted = "new reporters" if limit.name == NEW_REPORTERS_PER_DAY else "requests"
    message = (
        f"Rate limit exceeded: {limit.amount} {counted} per {limit.window_seconds} s "
        f"({limit.name}); retry after {usage.retry_after_seconds} s"
    )
    return orjson.dumps({"error": {"code": RATE_LIMIT_EXCEEDED, "message": message}})


def refusal_headers(usage: Usage) -> RawHeaders:
    """The fields of a request refused past ``usage``'s limits (with ``NO_STORE`` added
    by whoever sends it): JSON, ``Retry-After`` and the limits' own fields."""
    return [JSON_CONTENT_TYPE, retry_after(usage.retry_after_seconds), *rate_limit_headers(usage)]


def rate_limited_response(usage: Usage) -> Response:
    """The ``429`` of a route refused past a limit it counted itself: the fields the
    middleware's refusal has."""
    response = Response(rate_limited_body(usage), status_code=429)
    response.raw_headers.extend([*refusal_headers(usage), *NO_STORE])
    return response


def _names_limits(headers: RawHeaders) -> bool:
    return any(name == b"ratelimit" for name, _ in headers)


class RateLimitMiddleware:
    """Counts every request under ``prefix`` whose token was verified; ``throttle``
    gives the running app's ``Throttle`` (None: nothing is counted)."""

    def __init__(self, app: ASGIApp, throttle: Callable[[], Throttle | None], prefix: str) -> None:
        self.app = app
        self.throttle = throttle
        self.prefix = prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_under(scope["path"], self.prefix):
            await self.app(scope, receive, send)
            return
        principal = verified_principal(scope)
        throttle = self.throttle()
        usage = None
        if principal is not None and throttle is not None:
            usage = await throttle.requests(principal.client_id)
        headers = rate_limit_headers(usage) if usage is not None else []
        if not headers:
            await self.app(scope, receive, send)
            return
        if usage is not None and usage.refused:
            await send_response(send, 429, rate_limited_body(usage), refusal_headers(usage))
            await discard_streamed_body(scope, receive)
            return

        async def send_with_limits(message: Message) -> None:
            # A route's own refusal names the limit it passed, and only that one.
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                if not _names_limits(own):
                    message["headers"] = [*own, *headers]
            await send(message)

        await self.app(scope, receive, send_with_limits)
