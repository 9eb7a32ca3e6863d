"""The guard over HTTP (Starlette requests, so any Starlette or FastAPI app): where the
token may come from, and the RFC 6750 §3 error responses."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Scope

from anti_grazer.guard.core import BearerGuard
from anti_grazer.protocol.bearer import (
    TOKEN_PARAMETER,
    refuse_token_outside_header,
    render_challenge,
)
from anti_grazer.protocol.errors import OAuthError
from anti_grazer.protocol.models import Principal, Scopes
from anti_grazer.protocol.params import is_form_content_type

GUARD_STATE_KEY = "bearer_guard"
PRINCIPAL_STATE_KEY = "principal"
_TOKEN_PARAMETER_BYTES = TOKEN_PARAMETER.encode("ascii")


def install_guard(app: ASGIApp, guard: BearerGuard) -> None:
    """Make ``guard`` the one that protects ``app``'s routes (kept in ``app.state``)."""
    app.state.bearer_guard = guard  # type: ignore[attr-defined]


def guard_of(connection: HTTPConnection) -> BearerGuard:
    """The guard installed on the request's application."""
    guard: BearerGuard | None = getattr(connection.app.state, GUARD_STATE_KEY, None)
    if guard is None:
        raise RuntimeError("no BearerGuard installed on this application (install_guard)")
    return guard


def _names(encoded: bytes) -> set[str]:
    return {name for name, _ in parse_qsl(encoded.decode("latin-1"), keep_blank_values=True)}


def _authorization_and_content_type(scope: Scope) -> tuple[str | None, str | None]:
    """The first ``Authorization`` and ``Content-Type`` values, as Starlette's ``Headers``
    would give them (ASGI header names are lowercase), in one pass: each ``Headers`` lookup
    scans every header, and a missing one raises and catches a ``KeyError`` (py-spy)."""
    authorization = content_type = None
    for name, value in scope["headers"]:
        if name == b"authorization" and authorization is None:
            authorization = value.decode("latin-1")
        elif name == b"content-type" and content_type is None:
            content_type = value.decode("latin-1")
    return authorization, content_type


async def authenticate_request(request: Request, required: Scopes) -> Principal:
    """The request's ``Principal`` for ``required`` scopes; raises the RFC 6750 error.
    The principal is also kept as ``request.state.principal`` (for the endpoint and the
    access log) as soon as the token is verified, before the scope check."""
    authorization, content_type = _authorization_and_content_type(request.scope)
    query = request.scope.get("query_string", b"")
    in_query = _TOKEN_PARAMETER_BYTES in query and TOKEN_PARAMETER in _names(query)
    in_body = is_form_content_type(content_type) and TOKEN_PARAMETER in _names(await request.body())
    refuse_token_outside_header(in_query, in_body)

    def remember(principal: Principal) -> None:
        request.scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal

    return await guard_of(request).authenticate(authorization, required, remember)


def bearer_error_response(error: OAuthError, realm: str) -> Response:
    """RFC 6750 §3: the status of ``error``, a Bearer challenge and a JSON body."""
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status,
        media_type="application/json",
        headers={"WWW-Authenticate": render_challenge(realm, error)},
    )
