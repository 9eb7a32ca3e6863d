"""The client and token caches through HTTP (issue 4: "many workers and instances behave
as one server").  A revocation made through this server is refused on the very next
request (RFC 7009 §2.2, RFC 6750 §3.1); a change made straight in the database by
another process (another worker or instance, the CLI) is seen within
``cache_ttl_seconds``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from anti_grazer.protocol.client_admin import rotate_secret, set_enabled
from anti_grazer.protocol.tokens import (
    access_token_digest,
    generate_client_id,
    generate_client_secret,
)
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.engine import is_sqlite
from tests.clock import FrozenClock
from tests.http_helpers import assert_invalid_client, assert_invalid_token, read_profile
from tests.support import (
    Registered,
    create_app,
    issue,
    make_client,
    request_token,
    running,
    settings_for,
)

SHORT_TTL_SECONDS = 0.3
ZERO = timedelta(0)


@asynccontextmanager
async def cached_http(
    database_url: str, clock: FrozenClock, ttl_seconds: float
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(database_url, cache_ttl_seconds=ttl_seconds), clock=clock)
    async with running(app) as client:
        yield client


@pytest.fixture
async def http_long(database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with caches holding records for 30 s."""
    async with cached_http(database_url, clock, 30.0) as client:
        yield client


@pytest.fixture
async def http_short(database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with caches holding records for 0.3 s."""
    async with cached_http(database_url, clock, SHORT_TTL_SECONDS) as client:
        yield client


async def test_revocation_is_refused_on_the_very_next_request(
    http_long: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 7009 §2.2 / RFC 6750 §3.1: with a token cached for 30 s, a revocation through
    /oauth/revoke makes the very next protected request fail with invalid_token."""
    token = await issue(http_long, registered)
    assert (await read_profile(http_long, token)).status_code == 200
    assert (await read_profile(http_long, token)).status_code == 200  # now from the cache
    revoked = await http_long.post(
        "/oauth/revoke", data={"token": token}, auth=(registered.client_id, registered.secret)
    )
    assert revoked.status_code == 200
    assert_invalid_token(await read_profile(http_long, token))


async def test_new_token_is_accepted_at_once(
    http_long: httpx.AsyncClient, registered: Registered
) -> None:
    """An unknown token is never cached: a token presented before it was issued (a miss)
    does not stay refused once it exists — every fresh token works on its first use."""
    for _ in range(3):
        token = await issue(http_long, registered)
        assert (await read_profile(http_long, token)).status_code == 200


async def test_revocation_in_the_database_is_seen_within_the_ttl(
    http_short: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
    database_url: str,
) -> None:
    """A token revoked by another process (straight in the database) is refused once
    ``cache_ttl_seconds`` (0.3 s) has passed.  On SQLite, with no notification channel,
    it is still served from the cache just before."""
    token = await issue(http_short, registered)
    cached_at = time.monotonic()
    assert (await read_profile(http_short, token)).status_code == 200
    assert await sql.tokens.revoke_token(access_token_digest(token), None, clock.now())
    still = await read_profile(http_short, token)
    if is_sqlite(database_url) and time.monotonic() - cached_at < SHORT_TTL_SECONDS * 0.8:
        assert still.status_code == 200  # the cache at work: the change is not seen yet
    await asyncio.sleep(SHORT_TTL_SECONDS + 0.1)
    assert_invalid_token(await read_profile(http_short, token))


async def test_client_disabled_in_the_database_is_refused_within_the_ttl(
    http_short: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """A client disabled by the CLI (another process) fails client authentication
    (RFC 6749 §5.2 invalid_client) within the TTL, and its tokens are refused."""
    token = await issue(http_short, registered)  # the client is now cached
    assert (await read_profile(http_short, token)).status_code == 200
    await set_enabled(sql.clients, sql.tokens, clock, registered.client, False)
    await asyncio.sleep(SHORT_TTL_SECONDS + 0.1)
    assert_invalid_client(await request_token(http_short, registered.client_id, registered.secret))
    assert_invalid_token(await read_profile(http_short, token))


async def test_secret_rotated_in_the_database_is_refused_within_the_ttl(
    http_short: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """A secret rotated by the CLI stops working within the TTL; the new one works."""
    await issue(http_short, registered)  # the client is now cached
    _, new_secret = await rotate_secret(sql.clients, clock, registered.client, overlap=ZERO)
    await asyncio.sleep(SHORT_TTL_SECONDS + 0.1)
    assert_invalid_client(await request_token(http_short, registered.client_id, registered.secret))
    response = await request_token(http_short, registered.client_id, new_secret)
    assert response.status_code == 200


async def test_client_created_after_its_id_was_refused_authenticates_within_the_ttl(
    http_short: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, database_url: str
) -> None:
    """An id this server has just refused is remembered as unknown (DESIGN.md §4.1: an
    unknown id costs what a known one does).  Once another process (the CLI) creates the
    client it authenticates: at once on PostgreSQL, whose creation is notified, and within
    ``cache_ttl_seconds`` (0.3 s) on SQLite, where it is still refused just after."""
    client_id, secret = generate_client_id(), generate_client_secret()
    assert_invalid_client(await request_token(http_short, client_id, secret))
    refused_at = time.monotonic()
    await sql.clients.add_client(
        make_client(
            client_id, secret=secret, created_at=clock.now(), allowed="profiles:read", default=""
        )
    )
    still = await request_token(http_short, client_id, secret)
    if is_sqlite(database_url) and time.monotonic() - refused_at < SHORT_TTL_SECONDS * 0.8:
        assert_invalid_client(still)  # the unknown id is remembered: creation not seen yet
    deadline = refused_at + SHORT_TTL_SECONDS + 1.0
    while (response := await request_token(http_short, client_id, secret)).status_code != 200:
        assert time.monotonic() < deadline, response.text
        await asyncio.sleep(0.02)
    assert response.json()["scope"] == "profiles:read"
