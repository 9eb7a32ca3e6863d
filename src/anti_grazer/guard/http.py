"""The guard over HTTP (Starlette requests, so any Starlette or FastAPI app): where the
token may come from, and the RFC 6750 §3 error responses."""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ASGIApp

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


async def _body_has_token(request: Request) -> bool:
    if not is_form_content_type(request.headers.get("content-type")):
        return False
    return TOKEN_PARAMETER in _names(await request.body())


async def authenticate_request(request: Request, required: Scopes) -> Principal:
    """The request's ``Principal`` for ``required`` scopes; raises the RFC 6750 error."""
    query = request.scope.get("query_string", b"")
    in_query = _TOKEN_PARAMETER_BYTES in query and TOKEN_PARAMETER in _names(query)
    refuse_token_outside_header(in_query, await _body_has_token(request))
    return await guard_of(request).authenticate(request.headers.get("authorization"), required)


def bearer_error_response(error: OAuthError, realm: str) -> Response:
    """RFC 6750 §3: the status of ``error``, a Bearer challenge and a JSON body."""
    return Response(
        orjson.dumps(error.body()),
        status_code=error.status,
        media_type="application/json",
        headers={"WWW-Authenticate": render_challenge(realm, error)},
    )
