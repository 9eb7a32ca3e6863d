"""The authorization-server endpoints, ``POST /oauth/token`` (RFC 6749 §3.2, §4.4) and
``POST /oauth/revoke`` (RFC 7009 §2): plain Starlette endpoints that read the form body
themselves and hand it to ``AuthorizationServer`` (DESIGN.md §3: off FastAPI's per-route
machinery)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from anti_grazer.logs import get_logger
from anti_grazer.protocol.errors import InvalidRequestError, OAuthError, ServerError
from anti_grazer.protocol.params import parse_form
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.web.access_log import set_client_id
from anti_grazer.web.responses import NO_STORE_HEADERS, json_response, oauth_error_response

logger = get_logger("anti_grazer.oauth")


class PayloadTooLargeError(InvalidRequestError):
    """The body exceeds ``max_body_bytes``: ``invalid_request`` with status 413."""

    status = 413
    default_description = "The request body is too large"


class MethodNotAllowedError(InvalidRequestError):
    """Only POST is defined for these endpoints (RFC 6749 §3.2, RFC 7009 §2.1)."""

    status = 405
    default_description = "Only POST is allowed at this endpoint"


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None:
        # ASCII digits only: str.isdigit() also accepts "³", which int() refuses.
        if not (declared.isascii() and declared.isdigit()):
            raise InvalidRequestError("The Content-Length header is malformed")
        # Compare by length first: int() refuses strings of more than 4300 digits.
        significant = declared.lstrip("0")
        if len(significant) > len(str(limit)) or int(significant or "0") > limit:
            raise PayloadTooLargeError()
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise PayloadTooLargeError()
            chunks.append(chunk)
    except ClientDisconnect:
        raise InvalidRequestError("The client disconnected") from None
    return b"".join(chunks)


async def read_oauth_form(request: Request, limit: int) -> Mapping[str, str]:
    """The checked form parameters of a POST with no query parameters (RFC 6749 §3.2:
    credentials and parameters travel in the body only)."""
    if request.method != "POST":
        raise MethodNotAllowedError()
    if request.scope.get("query_string"):
        raise InvalidRequestError("Parameters must be sent in the request body, not the URL")
    body = await read_body(request, limit)
    return parse_form(body, request.headers.get("content-type"))


Handler = Callable[[Request], Awaitable[Response]]


class AsgiEndpoint:
    """An ASGI app around ``handler``: mounted with ``add_route`` it receives every
    method (so that anything but POST gets the OAuth 405, not the framework's), and it
    skips Starlette's per-route request/response wrapper on the hot path."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handler(Request(scope, receive))
        await response(scope, receive, send)


class OAuthEndpoints:
    """The token and revocation endpoints bound to one ``AuthorizationServer``."""

    def __init__(
        self,
        server: Callable[[], AuthorizationServer],
        realm: str,
        max_body_bytes: int,
    ) -> None:
        self._server = server
        self.realm = realm
        self.max_body_bytes = max_body_bytes

    def _error(self, error: OAuthError) -> Response:
        response = oauth_error_response(error, self.realm)
        if isinstance(error, MethodNotAllowedError):
            response.headers["Allow"] = "POST"
        return response

    async def token(self, request: Request) -> Response:
        """RFC 6749 §4.4.2 access token request → §5.1 response or §5.2 error."""
        try:
            params = await read_oauth_form(request, self.max_body_bytes)
            client, issued = await self._server().token(
                params, request.headers.get("authorization")
            )
        except OAuthError as error:
            return self._error(error)
        except Exception:
            logger.exception("token endpoint failed")
            return self._error(ServerError())
        set_client_id(request.scope, client.client_id)
        return json_response(
            200,
            {
                "access_token": issued.access_token,
                "token_type": issued.token_type,
                "expires_in": issued.expires_in,
                "scope": issued.scope,
            },
        )

    async def revoke(self, request: Request) -> Response:
        """RFC 7009 §2.1 revocation request → §2.2 empty 200 or §2.2.1 error."""
        try:
            params = await read_oauth_form(request, self.max_body_bytes)
            client = await self._server().revoke(params, request.headers.get("authorization"))
        except OAuthError as error:
            return self._error(error)
        except Exception:
            logger.exception("revocation endpoint failed")
            return self._error(ServerError())
        set_client_id(request.scope, client.client_id)
        return Response(b"", status_code=200, headers=NO_STORE_HEADERS)
