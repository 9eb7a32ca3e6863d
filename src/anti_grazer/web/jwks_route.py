"""``GET /oauth/jwks``: the JWK Set (RFC 7517 §5) of the keys that sign our JWT access
tokens, public members only, cacheable by verifiers for ``max_age_seconds``.

A plain ASGI endpoint beside the token and revocation endpoints, not a FastAPI route:
every resource server fetches it, it takes no input, and its answer is one JSON document
built from the key ring (itself read from the database at most once per cache period)."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.types import Receive, Scope, Send

from anti_grazer.logs import get_logger
from anti_grazer.protocol.errors import InvalidRequestError, TemporarilyUnavailableError
from anti_grazer.protocol.key_ring import KeyRing
from anti_grazer.web.responses import send_error

logger = get_logger("anti_grazer.jwks")

# RFC 7517 §8.5: the JWK Set media type.
JWK_SET_CONTENT_TYPE = b"application/jwk-set+json"
_READ_METHODS = frozenset({"GET", "HEAD"})


class MethodNotAllowedError(InvalidRequestError):
    """The key set is only read."""

    status = 405
    default_description = "Only GET is allowed at this endpoint"


class JwksEndpoint:
    """Serves the published keys of the ring ``keys()`` returns."""

    def __init__(self, keys: Callable[[], KeyRing], max_age_seconds: int) -> None:
        self._keys = keys
        self._cache_control = f"public, max-age={max_age_seconds}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in _READ_METHODS:
            await send_error(send, MethodNotAllowedError(), [(b"allow", b"GET, HEAD")])
            return
        try:
            body = orjson.dumps(await self._keys().jwks())
        except Exception:
            # The keys could not be read (the database away): 503, which verifiers treat
            # as "retry", not a 500, which some treat as a hard failure.
            logger.exception("JWKS endpoint failed", path=scope["path"])
            unavailable = TemporarilyUnavailableError(description="The keys cannot be read now")
            retry_after = str(unavailable.retry_after_seconds).encode()
            await send_error(send, unavailable, [(b"retry-after", retry_after)])
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", JWK_SET_CONTENT_TYPE),
                    (b"cache-control", self._cache_control),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        if scope["method"] == "HEAD":
            body = b""
        await send({"type": "http.response.body", "body": body})
