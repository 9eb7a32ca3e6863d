"""``StoreTokenVerifier(audience=...)``: an API guarded with its own audience refuses a
token meant for another (RFC 9700 §2.3; RFC 8707 §2), with RFC 6750 §3.1's exact 401
``invalid_token`` and challenge, under each adapter (``require_scopes``,
``@requires_bearer``, ``BearerAuthMiddleware``)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from anti_grazer.guard.core import TokenVerifier
from anti_grazer.guard.verifier import StoreTokenVerifier
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.guard.apps import fastapi_api_over, middleware_api_over, starlette_api_over
from tests.http_helpers import assert_invalid_token, bearer
from tests.support import Registered, issue, register

REPORTS = "https://reports.example.com/"
CALENDAR = "urn:example:calendar"
ADAPTERS: list[Callable[[TokenVerifier], ASGIApp]] = [
    fastapi_api_over,
    starlette_api_over,
    middleware_api_over,
]


@pytest.fixture
async def api_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    return await register(sql.clients, clock, audiences=(REPORTS, CALENDAR))


@pytest.fixture(params=ADAPTERS, ids=["fastapi", "starlette", "middleware"])
def guarded(request: pytest.FixtureRequest) -> Callable[[TokenVerifier], ASGIApp]:
    adapter: Callable[[TokenVerifier], ASGIApp] = request.param
    return adapter


async def read(app: ASGIApp, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as client:
        return await client.get("/read", headers=bearer(token))


async def test_a_token_for_another_audience_is_invalid_token(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
    api_client: Registered,
    guarded: Callable[[TokenVerifier], ASGIApp],
) -> None:
    """RFC 9700 §2.3: the API whose audience is ``REPORTS`` takes a token for it (alone
    or among others) and refuses one for ``CALENDAR`` only."""
    app = guarded(StoreTokenVerifier(sql.tokens, clock, audience=REPORTS))
    for resources in ((REPORTS,), (CALENDAR, REPORTS)):
        assert (await read(app, await issue(http, api_client, None, resources))).status_code == 200
    assert_invalid_token(await read(app, await issue(http, api_client, None, (CALENDAR,))))


async def test_a_token_without_audience_passes_only_when_told(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
    registered: Registered,
    guarded: Callable[[TokenVerifier], ASGIApp],
) -> None:
    """A token of a client registered without audiences names none: refused by an API
    with an audience, unless it accepts unrestricted tokens (as our own ``/v1`` does
    while ``API_AUDIENCE`` is unset); a verifier without an audience takes every token."""
    token = await issue(http, registered)
    strict = guarded(StoreTokenVerifier(sql.tokens, clock, audience=REPORTS))
    assert_invalid_token(await read(strict, token))
    lenient = StoreTokenVerifier(sql.tokens, clock, audience=REPORTS, accept_unrestricted=True)
    assert (await read(guarded(lenient), token)).status_code == 200
    assert (await read(guarded(StoreTokenVerifier(sql.tokens, clock)), token)).status_code == 200
