"""A FastAPI app and a Starlette app (and one behind ``BearerAuthMiddleware``) protected
by each remote verifier, called over HTTP with httpx: the RFC 6750 answers are the same
as with our own token store's verifier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from starlette.types import ASGIApp

from anti_grazer.guard.core import TokenVerifier
from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from tests.clock import FrozenClock
from tests.guard.apps import fastapi_api_over, middleware_api_over, starlette_api_over
from tests.guard.stand_in_server import StandInServer, access_claims, ec_key, sign
from tests.http_helpers import assert_invalid_token, bearer

Adapter = Callable[[TokenVerifier], ASGIApp]
ADAPTERS = [fastapi_api_over, starlette_api_over, middleware_api_over]
ADAPTER_IDS = ["fastapi", "starlette", "middleware"]


async def client_of(app: ASGIApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        yield client


@pytest.fixture(params=ADAPTERS, ids=ADAPTER_IDS)
async def jwt_api(
    request: pytest.FixtureRequest, jwt_verifier: JwtVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    adapter: Adapter = request.param
    async for client in client_of(adapter(jwt_verifier)):
        yield client


@pytest.fixture(params=ADAPTERS, ids=ADAPTER_IDS)
async def introspection_api(
    request: pytest.FixtureRequest, introspection_verifier: IntrospectionVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    adapter: Adapter = request.param
    async for client in client_of(adapter(introspection_verifier)):
        yield client


async def test_a_jwt_access_token_reaches_the_route(
    jwt_api: httpx.AsyncClient, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 6750 §2.1 with RFC 9068 §4: a valid JWT access token in the header grants
    access with its scopes; without the route's scope, 403 ``insufficient_scope``."""
    claims = access_claims(stand_in.issuer, clock.now(), scope="profiles:read")
    token = sign(stand_in.keys[0], claims)
    response = await jwt_api.get("/read", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {"client_id": "ag_ci_partner", "scopes": ["profiles:read"]}
    refused = await jwt_api.post("/write", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.json()["error"] == "insufficient_scope"


async def test_an_invalid_jwt_is_401_invalid_token(
    jwt_api: httpx.AsyncClient, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 6750 §3.1: an expired, forged or foreign token is 401 ``invalid_token`` with
    its challenge."""
    expired = access_claims(stand_in.issuer, clock.now(), exp=int(clock.now().timestamp()) - 60)
    for token in (
        sign(stand_in.keys[0], expired),
        sign(ec_key(), access_claims(stand_in.issuer, clock.now()), kid=stand_in.keys[0].kid),
        sign(stand_in.keys[0], access_claims("https://evil.example", clock.now())),
        "ag_at_opaque",
    ):
        assert_invalid_token(await jwt_api.get("/read", headers=bearer(token)))


async def test_an_active_token_reaches_the_route(
    introspection_api: httpx.AsyncClient, stand_in: StandInServer, clock: FrozenClock
) -> None:
    """RFC 6750 §2.1 with RFC 7662 §2.2: a token the authorization server calls active
    grants access with its scopes."""
    stand_in.introspection = {
        "active": True,
        "client_id": "ag_ci_partner",
        "scope": "reports:write",
        "exp": int(clock.now().timestamp()) + 60,
    }
    response = await introspection_api.post("/write", headers=bearer("ag_at_opaque"))
    assert response.status_code == 200
    assert response.json() == {"client_id": "ag_ci_partner", "scopes": ["reports:write"]}


async def test_an_inactive_token_is_401_invalid_token(
    introspection_api: httpx.AsyncClient, stand_in: StandInServer
) -> None:
    """RFC 7662 §2.2 ``{"active": false}`` is RFC 6750 §3.1 ``invalid_token``."""
    stand_in.introspection = {"active": False}
    assert_invalid_token(await introspection_api.get("/read", headers=bearer("ag_at_opaque")))


async def test_no_token_gets_a_bare_challenge_without_asking(
    introspection_api: httpx.AsyncClient, stand_in: StandInServer
) -> None:
    """RFC 6750 §3.1: no token is 401 with a challenge and no error code; the
    authorization server is not asked."""
    response = await introspection_api.get("/read")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'
    assert stand_in.hits == {}
