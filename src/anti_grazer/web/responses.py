"""Complete responses sent straight to ASGI (no framework): the OAuth endpoints' and the
edge's, with ``Cache-Control: no-store`` (RFC 6749 §5.1, §5.2)."""

from __future__ import annotations

import orjson
from starlette.types import Send

from anti_grazer.protocol.errors import OAuthError

RawHeaders = list[tuple[bytes, bytes]]

JSON_CONTENT_TYPE = (b"content-type", b"application/json")
NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


async def send_response(send: Send, status: int, body: bytes, headers: RawHeaders) -> None:
    """Send a complete response with ``Cache-Control: no-store`` and ``Pragma: no-cache``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *NO_STORE, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, error: OAuthError, headers: RawHeaders) -> None:
    """The RFC 6749 §5.2 JSON error body of ``error``, with its status."""
    await send_response(
        send, error.status, orjson.dumps(error.body()), [JSON_CONTENT_TYPE, *headers]
    )
