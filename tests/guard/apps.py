"""Two small APIs protected by the guard, one FastAPI and one plain Starlette, over the
test database's token store or any other verifier (what a team protecting its own API
would write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from anti_grazer.guard.asgi import BearerAuthMiddleware
from anti_grazer.guard.core import BearerGuard, TokenVerifier
from anti_grazer.guard.fastapi import install_fastapi_guard, require_scopes
from anti_grazer.guard.http import install_guard
from anti_grazer.guard.starlette import requires_bearer
from anti_grazer.guard.verifier import StoreTokenVerifier
from anti_grazer.protocol.models import Principal
from anti_grazer.protocol.ports import Clock, TokenStore


def _describe(principal: Principal) -> dict[str, object]:
    return {"client_id": principal.client_id, "scopes": sorted(principal.scopes)}


def fastapi_api(tokens: TokenStore, clock: Clock) -> FastAPI:
    """GET /read needs ``profiles:read``; POST /write needs ``reports:write``."""
    return fastapi_api_over(StoreTokenVerifier(tokens, clock))


def starlette_api(tokens: TokenStore, clock: Clock) -> Starlette:
    """The same two routes as plain Starlette endpoints."""
    return starlette_api_over(StoreTokenVerifier(tokens, clock))


def fastapi_api_over(verifier: TokenVerifier) -> FastAPI:
    """``fastapi_api`` with any verifier (the remote ones: introspection, JWT)."""
    app = FastAPI()
    install_fastapi_guard(app, BearerGuard(verifier, "anti-grazer"))

    @app.get("/read")
    async def read(principal: Annotated[Principal, require_scopes("profiles:read")]) -> object:
        return _describe(principal)

    @app.post("/write")
    async def write(principal: Annotated[Principal, require_scopes("reports:write")]) -> object:
        return _describe(principal)

    return app


def starlette_api_over(verifier: TokenVerifier) -> Starlette:
    """``starlette_api`` with any verifier."""

    @requires_bearer("profiles:read")
    async def read(request: Request) -> Response:
        return JSONResponse(_describe(request.state.principal))

    @requires_bearer("reports:write")
    async def write(request: Request) -> Response:
        return JSONResponse(_describe(request.state.principal))

    routes: Sequence[Route] = [
        Route("/read", read, methods=["GET"]),
        Route("/write", write, methods=["POST"]),
    ]
    app = Starlette(routes=list(routes))
    install_guard(app, BearerGuard(verifier, "anti-grazer"))
    return app


def middleware_api_over(verifier: TokenVerifier) -> ASGIApp:
    """``starlette_api_over`` behind ``BearerAuthMiddleware`` (as our own server guards
    ``/v1``): every path is verified by the middleware before its route runs."""
    guard = BearerGuard(verifier, "anti-grazer")
    return BearerAuthMiddleware(starlette_api_over(verifier), lambda: guard, "/")
