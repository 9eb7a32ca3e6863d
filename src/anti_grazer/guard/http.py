"""The guard over HTTP (Starlette requests, so any Starlette or FastAPI app): where the
token may come from, and the RFC 6750 §3 error responses."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Scope

from anti_grazer.guard.core import BearerGuard
from anti_grazer.protocol.bearer import (
    TOKEN_PARAMETER,
    refuse_token_outside_header,
    render_challenge,
)
from anti_grazer.protocol.errors import OAuthError, TemporarilyUnavailableError
from anti_grazer.protocol.headers import single_headers
from anti_grazer.protocol.models import Principal, Scopes
from anti_grazer.protocol.params import is_form_content_type

GUARD_STATE_KEY = "bearer_guard"
PRINCIPAL_STATE_KEY = "principal"
_TOKEN_PARAMETER_BYTES = TOKEN_PARAMETER.encode("ascii")
_AUTHORIZATION = frozenset({b"authorization"})
_CONTENT_TYPE = frozenset({b"content-type"})


def install_guard(app: Starlette, guard: BearerGuard) -> None:
    """Make ``guard`` the one that protects ``app``'s routes (kept in ``app.state``)."""
    setattr(app.state, GUARD_STATE_KEY, guard)


def guard_of(connection: HTTPConnection) -> BearerGuard:
    """The guard that verified this request (``BearerAuthMiddleware``), else the one
    installed on its application (``install_guard``)."""
    guard: BearerGuard | None = connection.scope.get("state", {}).get(GUARD_STATE_KEY)
    if guard is None:
        guard = getattr(connection.app.state, GUARD_STATE_KEY, None)
    if guard is None:
        raise RuntimeError("no BearerGuard protects this application (install_guard)")
    return guard


def _names(encoded: bytes) -> set[str]:
    return {name for name, _ in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True)}


def verified_principal(scope: Scope) -> Principal | None:
    """The principal whose token this request was already verified for, if any."""
    principal: Principal | None = scope.get("state", {}).get(PRINCIPAL_STATE_KEY)
    return principal


async def verify_request(guard: BearerGuard, scope: Scope) -> Principal:
    """Verify the request's bearer token from its URL and headers alone, no byte of its
    body read (DESIGN.md §4.11); the principal is kept as ``request.state.principal`` (for
    the endpoint and the access log).  A token in the query is refused (§2.3 disabled), and
    so are two ``Authorization`` headers."""
    query = scope.get("query_string", b"")
    refuse_token_outside_header(
        _TOKEN_PARAMETER_BYTES in query and TOKEN_PARAMETER in _names(query)
    )
    authorization = single_headers(scope["headers"], _AUTHORIZATION).get(b"authorization")
    principal = await guard.verify(authorization)
    state = scope.setdefault("state", {})
    state[PRINCIPAL_STATE_KEY] = principal
    state[GUARD_STATE_KEY] = guard
    return principal


async def authenticate_request(request: Request, required: Scopes) -> Principal:
    """The request's ``Principal`` for ``required`` scopes; raises the RFC 6750 error.

    The token is verified here unless ``BearerAuthMiddleware`` already did; only then is
    a form body read, to refuse a token in it (§2.2 disabled)."""
    guard = guard_of(request)
    principal = verified_principal(request.scope) or await verify_request(guard, request.scope)
    content_type = single_headers(request.scope["headers"], _CONTENT_TYPE).get(b"content-type")
    if is_form_content_type(content_type):
        refuse_token_outside_header(TOKEN_PARAMETER in _names(await request.body()))
    guard.check_scopes(principal, required)
    return principal


def bearer_error_response(error: OAuthError, realm: str) -> Response:
    """RFC 6750 §3: the status of ``error``, a Bearer challenge and a JSON body.

    ``TemporarilyUnavailableError`` (the authorization server could not be asked) is a
    ``503`` with ``Retry-After`` and ``Cache-Control: no-store`` instead of a challenge:
    the token was not judged (its docstring says why)."""
    if isinstance(error, TemporarilyUnavailableError):
        headers = {
            "Retry-After": str(error.retry_after_seconds),
            "Cache-Control": "no-store",
        }
    else:
        headers = {"WWW-Authenticate": render_challenge(realm, error)}
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status,
        media_type="application/json",
        headers=headers,
    )
