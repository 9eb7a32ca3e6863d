"""The guard as a FastAPI dependency: ``Depends(require_scopes("reports:write"))``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from starlette.requests import HTTPConnection
from starlette.responses import Response

from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.http import (
    authenticate_request,
    bearer_error_response,
    guard_of,
    install_guard,
)
from anti_grazer.protocol.errors import OAuthError
from anti_grazer.protocol.models import Principal


class BearerGuardError(Exception):
    """Carries an RFC 6750 error out of a dependency to the app's exception handler."""

    def __init__(self, error: OAuthError, realm: str) -> None:
        super().__init__(error.code)
        self.error = error
        self.realm = realm


async def _render(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BearerGuardError)
    return bearer_error_response(exc.error, exc.realm)


def install_fastapi_guard(app: FastAPI, guard: BearerGuard | None = None) -> None:
    """Register the error handler (and the guard, unless it is installed later, e.g. in
    the lifespan, with ``install_guard``)."""
    app.add_exception_handler(BearerGuardError, _render)
    if guard is not None:
        install_guard(app, guard)


class ClientCredentialsScheme(OAuth2):
    """Documents the OAuth 2.0 client-credentials flow in OpenAPI, so that Swagger UI's
    "Authorize" fetches a token from ``token_url``.  It checks nothing itself: the guard
    does."""

    def __init__(self, token_url: str = "/oauth/token", scopes: dict[str, str] | None = None):  # noqa: S107
        flow = OAuthFlowClientCredentials(tokenUrl=token_url, scopes=scopes or {})
        super().__init__(
            flows=OAuthFlows(clientCredentials=flow),
            scheme_name="OAuth2ClientCredentials",
            auto_error=False,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        return None


def require_scopes(
    *scopes: str, scheme: ClientCredentialsScheme | None = None
) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the request's ``Principal`` if its bearer token is valid
    and carries every one of ``scopes``; ``scheme`` documents the flow in OpenAPI."""
    required = frozenset(scopes)
    documented = Security(scheme or ClientCredentialsScheme(), scopes=list(scopes))

    async def dependency(request: Request, _flow: None = documented) -> Principal:
        try:
            return await authenticate_request(request, required)
        except OAuthError as error:
            raise BearerGuardError(error, guard_of(request).realm) from None

    return dependency
