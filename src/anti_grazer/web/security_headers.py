"""Security headers on every response, as a pure ASGI middleware:
``X-Content-Type-Options: nosniff`` everywhere (Fetch §3.5, "X-Content-Type-Options"),
and ``Cache-Control: no-store`` (RFC 9111 §5.2.2.5) on the API under its prefix (``/v1``), whose
responses, errors included, are one client's data.

A header a response sets itself is kept: the blocklist's ``private, no-cache``
revalidation, the OAuth endpoints' ``no-store``, the Content Security Policy of the
Swagger UI page (``docs``)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from anti_grazer.paths import is_under

_NOSNIFF = (b"x-content-type-options", b"nosniff")
_NO_STORE = (b"cache-control", b"no-store")
_EVERYWHERE = (_NOSNIFF,)
_PRIVATE = (_NOSNIFF, _NO_STORE)


class SecurityHeadersMiddleware:
    """Adds the security headers a response lacks to its ``http.response.start``."""

    def __init__(self, app: ASGIApp, private_prefix: str) -> None:
        self.app = app
        self.private_prefix = private_prefix.rstrip("/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = _PRIVATE if is_under(scope["path"], self.private_prefix) else _EVERYWHERE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                # ASGI header names are lower case.
                missing = [
                    default
                    for default in defaults
                    if all(name != default[0] for name, _value in headers)
                ]
                if missing:
                    message["headers"] = [*headers, *missing]
            await send(message)

        await self.app(scope, receive, send_with_headers)
