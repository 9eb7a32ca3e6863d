"""The guard as a FastAPI security dependency:
``principal: Annotated[Principal, require_scopes("reports:write")]``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2
from fastapi.security.base import SecurityBase
from starlette.responses import Response

from anti_grazer.guard.core import BearerGuard
from anti_grazer.guard.http import (
    authenticate_request,
    bearer_error_response,
    guard_of,
    install_guard,
)
from anti_grazer.protocol.errors import OAuthError
from anti_grazer.protocol.models import Principal, Scopes


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
    "Authorize" fetches a token from ``token_url``; ``scopes`` describes each scope.  It
    is no dependency of its own: ``require_scopes`` guards a route under its name."""

    def __init__(self, token_url: str = "/oauth/token", scopes: dict[str, str] | None = None):  # noqa: S107
        flow = OAuthFlowClientCredentials(tokenUrl=token_url, scopes=scopes or {})
        super().__init__(
            flows=OAuthFlows(clientCredentials=flow),
            scheme_name="OAuth2ClientCredentials",
            auto_error=False,
        )


class ScopedBearerGuard(SecurityBase):
    """The guard for one set of scopes, as a FastAPI security dependency that is also the
    scheme OpenAPI documents (``scheme``'s).  One dependency level, not a guard with the
    scheme as a sub-dependency: FastAPI solves every level on every request, and a
    second level was most of the guard's cost."""

    def __init__(self, required: Scopes, scheme: ClientCredentialsScheme) -> None:
        self.model = scheme.model
        self.scheme_name = scheme.scheme_name
        self.required = required

    async def __call__(self, request: Request) -> Principal:
        try:
            return await authenticate_request(request, self.required)
        except OAuthError as error:
            raise BearerGuardError(error, guard_of(request).realm) from None


def require_scopes(*scopes: str, scheme: ClientCredentialsScheme | None = None) -> Any:
    """The parameter marker of a route that needs a valid bearer token carrying every one
    of ``scopes`` (``principal: Annotated[Principal, require_scopes("profiles:read")]``):
    FastAPI passes the request's ``Principal``; OpenAPI lists ``scopes`` on the operation,
    under ``scheme``'s flow."""
    guard = ScopedBearerGuard(frozenset(scopes), scheme or ClientCredentialsScheme())
    return Security(guard, scopes=list(scopes))
