"""The authorization-server endpoints, ``POST /oauth/token`` (RFC 6749 §3.2, §4.4) and
``POST /oauth/revoke`` (RFC 7009 §2), as plain ASGI apps: they read the headers and the
form body straight from the ASGI messages, hand them to ``AuthorizationServer`` and send
pre-serialised bytes (DESIGN.md §3: the token path does not pay for FastAPI's, or even
Starlette's, per-request machinery)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import orjson
from starlette.types import Receive, Scope, Send

from anti_grazer.logs import get_logger
from anti_grazer.protocol.errors import InvalidRequestError, OAuthError, ServerError
from anti_grazer.protocol.models import Client, TokenResponse
from anti_grazer.protocol.params import parse_form
from anti_grazer.protocol.server import AuthorizationServer, OnAuthenticated
from anti_grazer.web.access_log import set_client_id

logger = get_logger("anti_grazer.oauth")

RawHeaders = list[tuple[bytes, bytes]]
Success = tuple[bytes, RawHeaders]  # body, headers
# The form, the Authorization header, and who to tell the authenticated client.
Action = Callable[[Mapping[str, str], str | None, OnAuthenticated], Awaitable[Success]]

_JSON = (b"content-type", b"application/json")
_NO_STORE = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]
_WATCHED = {b"authorization", b"content-type", b"content-length"}


class PayloadTooLargeError(InvalidRequestError):
    """The body exceeds ``max_body_bytes``: ``invalid_request`` with status 413."""

    status = 413
    default_description = "The request body is too large"


class MethodNotAllowedError(InvalidRequestError):
    """Only POST is defined for these endpoints (RFC 6749 §3.2, RFC 7009 §2.1)."""

    status = 405
    default_description = "Only POST is allowed at this endpoint"


class ClientGoneError(Exception):
    """The client disconnected before its request was read: nothing to answer."""


def request_headers(scope: Scope) -> dict[bytes, str]:
    """The headers we read (Authorization, Content-Type, Content-Length), once each: a
    repeated one makes the request ambiguous, so it is an ``invalid_request``."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered in _WATCHED:
            if lowered in found:
                raise InvalidRequestError("A header is included more than once")
            found[lowered] = value.decode("latin-1")
    return found


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


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes without reading them all."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLargeError()
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_response(send: Send, status: int, body: bytes, headers: RawHeaders) -> None:
    """Send a complete response with ``Cache-Control: no-store`` and ``Pragma: no-cache``
    (RFC 6749 §5.1, §5.2)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, *_NO_STORE, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def render_token(issued: TokenResponse) -> bytes:
    """RFC 6749 §5.1 successful response body; no ``scope`` member for a token without
    scope."""
    body: dict[str, str | int] = {
        "access_token": issued.access_token,
        "token_type": issued.token_type,
        "expires_in": issued.expires_in,
    }
    if issued.scope is not None:
        body["scope"] = issued.scope
    return orjson.dumps(body)


class OAuthEndpoints:
    """The token and revocation endpoints bound to one ``AuthorizationServer``."""

    def __init__(
        self,
        server: Callable[[], AuthorizationServer],
        realm: str,
        max_body_bytes: int,
    ) -> None:
        self._server = server
        self.max_body_bytes = max_body_bytes
        self._challenge = (b"www-authenticate", f'Basic realm="{realm}"'.encode("latin-1"))

    async def _read(self, scope: Scope, receive: Receive) -> tuple[Mapping[str, str], str | None]:
        """The checked form of a POST with no query parameters (RFC 6749 §3.2: parameters
        and credentials travel in the body only) and its Authorization header."""
        if scope["method"] != "POST":
            raise MethodNotAllowedError()
        if scope.get("query_string"):
            raise InvalidRequestError("Parameters must be sent in the request body, not the URL")
        headers = request_headers(scope)
        check_content_length(headers.get(b"content-length"), self.max_body_bytes)
        body = await read_body(receive, self.max_body_bytes)
        return parse_form(body, headers.get(b"content-type")), headers.get(b"authorization")

    async def _send_error(self, send: Send, error: OAuthError) -> None:
        headers = [_JSON]
        if error.status == 401:  # RFC 6749 §5.2: every 401 challenges for Basic
            headers.append(self._challenge)
        if isinstance(error, MethodNotAllowedError):
            headers.append((b"allow", b"POST"))
        await send_response(send, error.status, orjson.dumps(error.body()), headers)

    async def _respond(self, scope: Scope, receive: Receive, send: Send, action: Action) -> None:
        """Read the request, run ``action`` on it and send its success or its error
        (internal failures as a bare ``server_error``, the detail only in the log).  The
        access line names the client once it has authenticated, even if it is refused
        afterwards."""

        def authenticated(client: Client) -> None:
            set_client_id(scope, client.client_id)

        try:
            params, authorization = await self._read(scope, receive)
            body, headers = await action(params, authorization, authenticated)
        except ClientGoneError:
            return
        except OAuthError as error:
            await self._send_error(send, error)
            return
        except Exception:
            logger.exception("OAuth endpoint failed", path=scope["path"])
            await self._send_error(send, ServerError())
            return
        await send_response(send, 200, body, headers)

    async def _issue(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        authenticated: OnAuthenticated,
    ) -> Success:
        _client, issued = await self._server().token(params, authorization, authenticated)
        return render_token(issued), [_JSON]

    async def _revoke(
        self,
        params: Mapping[str, str],
        authorization: str | None,
        authenticated: OnAuthenticated,
    ) -> Success:
        await self._server().revoke(params, authorization, authenticated)
        return b"", []

    async def token(self, scope: Scope, receive: Receive, send: Send) -> None:
        """RFC 6749 §4.4.2 access token request → §5.1 response or §5.2 error."""
        await self._respond(scope, receive, send, self._issue)

    async def revoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        """RFC 7009 §2.1 revocation request → §2.2 empty 200 or §2.2.1 error."""
        await self._respond(scope, receive, send, self._revoke)
