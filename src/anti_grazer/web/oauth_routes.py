"""The authorization-server endpoints, ``POST /oauth/token`` (RFC 6749 §3.2, §4.4),
``POST /oauth/revoke`` (RFC 7009 §2) and ``POST /oauth/introspect`` (RFC 7662 §2), as
plain ASGI apps: they read the headers and the form body straight from the ASGI messages,
hand them to ``AuthorizationServer`` and send pre-serialised bytes (DESIGN.md §3: the
token path does not pay for FastAPI's, or even Starlette's, per-request machinery)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import orjson
from starlette.types import Receive, Scope, Send

from anti_grazer.logs import get_logger
from anti_grazer.protocol.audience import RESOURCE
from anti_grazer.protocol.errors import (
    InvalidRequestError,
    OAuthError,
    ServerError,
    SlowDownError,
)
from anti_grazer.protocol.headers import single_headers
from anti_grazer.protocol.models import TokenResponse
from anti_grazer.protocol.params import NOTHING_REPEATS, parse_form
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.web.access_log import set_client_id
from anti_grazer.web.rate_limit_headers import rate_limit_headers, retry_after
from anti_grazer.web.responses import JSON_CONTENT_TYPE, RawHeaders, send_error, send_response

logger = get_logger("anti_grazer.oauth")

OAUTH_PREFIX = "/oauth/"
TOKEN_PATH = f"{OAUTH_PREFIX}token"
REVOKE_PATH = f"{OAUTH_PREFIX}revoke"
INTROSPECT_PATH = f"{OAUTH_PREFIX}introspect"
JWKS_PATH = f"{OAUTH_PREFIX}jwks"

# The authenticated client's id and secret id, the body, the headers.
Success = tuple[str, str | None, bytes, RawHeaders]
# From the form, the Authorization header and the source address to the success.
Action = Callable[[Mapping[str, str], str | None, str | None], Awaitable[Success]]

_WATCHED = frozenset({b"authorization", b"content-type"})
# The one parameter of the token request that may repeat (RFC 8707 §2: "may be used
# multiple times"); every other one, there and at the other endpoints, may not.
_TOKEN_REPEATABLE = frozenset({RESOURCE})


class MethodNotAllowedError(InvalidRequestError):
    """Only POST is defined for these endpoints (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662
    §2.1)."""

    status = 405
    default_description = "Only POST is allowed at this endpoint"


class ClientGoneError(Exception):
    """The client disconnected (or the edge refused its body) before its request was
    read: nothing to answer."""


async def read_body(receive: Receive) -> bytes:
    """The whole body (its size and time are bounded by ``RequestBodyLimits``)."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def source_address(scope: Scope) -> str | None:
    """The address the request came from (the lockout counts failures by it): the
    peer's, as the server saw it; behind a proxy, the proxy's."""
    client = scope.get("client")
    return client[0] if client else None


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
    """The token, revocation and introspection endpoints bound to one
    ``AuthorizationServer``."""

    def __init__(self, server: Callable[[], AuthorizationServer], realm: str) -> None:
        self._server = server
        self._challenge = (b"www-authenticate", f'Basic realm="{realm}"'.encode("latin-1"))

    async def _read(
        self, scope: Scope, receive: Receive, repeatable: frozenset[str]
    ) -> tuple[Mapping[str, str], str | None]:
        """The checked form of a POST with no query parameters (RFC 6749 §3.2: parameters
        and credentials travel in the body only; none but ``repeatable`` twice) and its
        Authorization header."""
        if scope["method"] != "POST":
            raise MethodNotAllowedError()
        if scope.get("query_string"):
            raise InvalidRequestError("Parameters must be sent in the request body, not the URL")
        headers = single_headers(scope["headers"], _WATCHED)
        body = await read_body(receive)
        form = parse_form(body, headers.get(b"content-type"), repeatable)
        return form, headers.get(b"authorization")

    async def _send_error(self, send: Send, error: OAuthError) -> None:
        headers: RawHeaders = []
        if error.status == 401:  # RFC 6749 §5.2: every 401 challenges for Basic
            headers.append(self._challenge)
        if isinstance(error, MethodNotAllowedError):
            headers.append((b"allow", b"POST"))
        if isinstance(error, SlowDownError):
            headers.append(retry_after(error.retry_after_seconds))
        if error.usage is not None:
            headers.extend(rate_limit_headers(error.usage))
        await send_error(send, error, headers)

    async def _respond(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        action: Action,
        repeatable: frozenset[str] = NOTHING_REPEATS,
    ) -> None:
        """Read the request, run ``action`` on it and send its success or its error
        (internal failures as a bare ``server_error``, the detail only in the log).  The
        access line names the client once it has authenticated, even if it is refused
        afterwards."""

        try:
            params, authorization = await self._read(scope, receive, repeatable)
            client_id, secret_id, body, headers = await action(
                params, authorization, source_address(scope)
            )
        except ClientGoneError:
            return
        except OAuthError as error:
            if error.client_id is not None:
                set_client_id(scope, error.client_id, error.secret_id)
            if isinstance(error, ServerError) and error.reason is not None:
                logger.error("OAuth endpoint failed", path=scope["path"], reason=error.reason)
            elif isinstance(error, ServerError):
                logger.error("OAuth endpoint failed", path=scope["path"], exc_info=error)
            await self._send_error(send, error)
            return
        except Exception:
            logger.exception("OAuth endpoint failed", path=scope["path"])
            await self._send_error(send, ServerError())
            return
        set_client_id(scope, client_id, secret_id)
        await send_response(send, 200, body, headers)

    async def _issue(
        self, params: Mapping[str, str], authorization: str | None, source: str | None
    ) -> Success:
        issued = await self._server().token(params, authorization, source)
        headers = [JSON_CONTENT_TYPE]
        if issued.usage is not None:
            headers.extend(rate_limit_headers(issued.usage))
        return issued.client_id, issued.secret_id, render_token(issued), headers

    async def _revoke(
        self, params: Mapping[str, str], authorization: str | None, source: str | None
    ) -> Success:
        caller = await self._server().revoke(params, authorization, source)
        return caller.client.client_id, caller.secret_id, b"", []

    async def _introspect(
        self, params: Mapping[str, str], authorization: str | None, source: str | None
    ) -> Success:
        answer = await self._server().introspect(params, authorization, source)
        body = orjson.dumps(answer.members)
        return answer.client_id, answer.secret_id, body, [JSON_CONTENT_TYPE]

    async def token(self, scope: Scope, receive: Receive, send: Send) -> None:
        """RFC 6749 §4.4.2 access token request (with RFC 8707 §2 ``resource``s) → §5.1
        response or §5.2 error."""
        await self._respond(scope, receive, send, self._issue, _TOKEN_REPEATABLE)

    async def revoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        """RFC 7009 §2.1 revocation request → §2.2 empty 200 or §2.2.1 error."""
        await self._respond(scope, receive, send, self._revoke)

    async def introspect(self, scope: Scope, receive: Receive, send: Send) -> None:
        """RFC 7662 §2.1 introspection request → §2.2 JSON response or §2.3 error."""
        await self._respond(scope, receive, send, self._introspect)
