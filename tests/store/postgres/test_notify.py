"""Cross-instance cache invalidation over PostgreSQL LISTEN/NOTIFY (store/postgres/notify.py;
issue 4: "many workers and instances behave as one server").  Two independent app
instances share one database and cache records for 30 s; a change made through one of
them or by another process (the CLI) reaches the other's cache within a second, so that
a revoked token (RFC 7009 §2.2), a disabled client or a rotated secret stops working
everywhere, not 30 s later.  Runs only when ``ANTI_GRAZER_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

import httpx
import pytest
from sqlalchemy import text

from anti_grazer.protocol.client_admin import (
    retire_previous_secrets,
    rotate_secret,
    set_client_limits,
    set_enabled,
)
from anti_grazer.protocol.models import ClientLimits
from anti_grazer.protocol.tokens import (
    access_token_digest,
    generate_client_id,
    generate_client_secret,
)
from anti_grazer.store.postgres import notify
from anti_grazer.store.runtime import OpenedStores, open_stores
from tests.clock import FrozenClock
from tests.http_helpers import assert_invalid_client, assert_invalid_token, read_profile
from tests.support import (
    NEEDS_POSTGRES,
    Registered,
    create_app,
    issue,
    make_client,
    postgres_url,
    register,
    request_token,
    reset_database,
    running,
    settings_for,
)

pytestmark = NEEDS_POSTGRES

CACHE_TTL_SECONDS = 30.0
PROPAGATION_SECONDS = 1.0


@dataclass
class Pair:
    """Two app instances on one database, and the database's stores (as the CLI has)."""

    a: httpx.AsyncClient
    b: httpx.AsyncClient
    sql: OpenedStores
    client: Registered
    clock: FrozenClock


@pytest.fixture
async def pair(clock: FrozenClock) -> AsyncIterator[Pair]:
    url = postgres_url() or ""
    await reset_database(url)
    settings = settings_for(url, cache_ttl_seconds=CACHE_TTL_SECONDS)
    async with open_stores(url) as sql:
        client = await register(sql.clients, clock)
        app_a = create_app(settings, clock=clock)
        app_b = create_app(settings, clock=clock)
        async with running(app_a) as http_a, running(app_b) as http_b:
            yield Pair(http_a, http_b, sql, client, clock)


async def poll(
    attempt: Callable[[], Awaitable[httpx.Response]],
    status: int,
    within_seconds: float = PROPAGATION_SECONDS,
) -> httpx.Response:
    """Call ``attempt`` until it answers ``status`` or ``within_seconds`` ran out; return
    the last answer."""
    deadline = time.monotonic() + within_seconds
    while True:
        response = await attempt()
        if response.status_code == status or time.monotonic() >= deadline:
            return response
        await asyncio.sleep(0.02)


async def test_token_revoked_on_one_instance_is_refused_by_the_other(pair: Pair) -> None:
    """RFC 7009 §2.2 across instances: a token instance B has cached for 30 s is refused
    by B within 1 s of its revocation through instance A."""
    token = await issue(pair.a, pair.client)
    assert (await read_profile(pair.b, token)).status_code == 200
    assert (await read_profile(pair.b, token)).status_code == 200  # cached by B
    revoked = await pair.a.post(
        "/oauth/revoke",
        data={"token": token},
        auth=(pair.client.client_id, pair.client.secret),
    )
    assert revoked.status_code == 200
    assert_invalid_token(await poll(lambda: read_profile(pair.b, token), 401))
    assert_invalid_token(await read_profile(pair.a, token))


async def test_client_disabled_elsewhere_fails_on_both_instances(pair: Pair) -> None:
    """A client disabled by another process (the CLI, through the SQL stores) fails
    authentication (RFC 6749 §5.2 invalid_client) on both instances within 1 s, though
    both had it cached; the tokens it held are refused too."""
    who = pair.client
    token_a = await issue(pair.a, who)
    token_b = await issue(pair.b, who)
    for http, token in ((pair.a, token_a), (pair.b, token_b), (pair.b, token_a)):
        assert (await read_profile(http, token)).status_code == 200
    await set_enabled(pair.sql.clients, pair.sql.tokens, pair.clock, who.client, False)
    for http in (pair.a, pair.b):
        assert_invalid_client(
            await poll(partial(request_token, http, who.client_id, who.secret), 401)
        )
    for http, token in ((pair.a, token_a), (pair.b, token_b), (pair.b, token_a)):
        assert_invalid_token(await poll(partial(read_profile, http, token), 401))


async def test_secret_rotated_elsewhere_stops_working_on_the_other_instance(
    pair: Pair,
) -> None:
    """A secret rotated through the registry on the SQL stores (as the CLI does) stops
    working on an instance that had the client cached within 1 s; the new one works."""
    who = pair.client
    await issue(pair.b, who)  # B caches the client
    _, new_secret = await rotate_secret(
        pair.sql.clients, pair.clock, who.client, overlap=timedelta(0)
    )
    assert_invalid_client(await poll(lambda: request_token(pair.b, who.client_id, who.secret), 401))
    assert (await request_token(pair.b, who.client_id, new_secret)).status_code == 200
    assert (await request_token(pair.a, who.client_id, new_secret)).status_code == 200


async def test_secret_retired_elsewhere_stops_working_on_the_other_instance(
    pair: Pair,
) -> None:
    """A rotation with overlap, then ``retire-secret`` on the SQL stores: the new secret
    works at once on the instance that had the client cached (NOTIFY), and the previous
    one stops there within 1 s of the retirement."""
    who = pair.client
    await issue(pair.b, who)  # B caches the client
    _, new_secret = await rotate_secret(pair.sql.clients, pair.clock, who.client)
    assert (
        await poll(lambda: request_token(pair.b, who.client_id, new_secret), 200)
    ).status_code == 200
    assert (await request_token(pair.b, who.client_id, who.secret)).status_code == 200
    assert await retire_previous_secrets(pair.sql.clients, pair.clock, who.client) == 1
    assert_invalid_client(await poll(lambda: request_token(pair.b, who.client_id, who.secret), 401))
    assert (await request_token(pair.b, who.client_id, new_secret)).status_code == 200


async def test_client_created_elsewhere_authenticates_at_once_where_it_was_unknown(
    pair: Pair,
) -> None:
    """Both instances refused a client id and remember it as unknown for 30 s; a client
    created with that id by another process (as ``clients create`` does) authenticates on
    both within 1 s: the creation is notified like any other change."""
    client_id, secret = generate_client_id(), generate_client_secret()
    for http in (pair.a, pair.b):
        assert_invalid_client(await request_token(http, client_id, secret))
    await pair.sql.clients.add_client(
        make_client(
            client_id,
            secret=secret,
            created_at=pair.clock.now(),
            allowed="profiles:read",
            default="",
        )
    )
    for http in (pair.a, pair.b):
        response = await poll(partial(request_token, http, client_id, secret), 200)
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "profiles:read"


async def listener_count(sql: OpenedStores) -> int:
    async with sql.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE query = :listen"),
            {"listen": f'LISTEN "{notify.CHANNEL}"'},
        )
        count: int = result.scalar_one()
        return count


async def wait_for_listeners(sql: OpenedStores, expected: int, within_seconds: float) -> None:
    deadline = time.monotonic() + within_seconds
    while (count := await listener_count(sql)) != expected:
        assert time.monotonic() < deadline, f"{count} listeners, expected {expected}"
        await asyncio.sleep(0.05)


async def test_invalidation_survives_a_lost_listener_connection(pair: Pair) -> None:
    """A listener whose connection is killed reconnects (after RECONNECT_SECONDS) and,
    since notifications may have been missed meanwhile, drops its whole cache: a token
    revoked elsewhere is refused again within a second of the reconnection."""
    token = await issue(pair.a, pair.client)
    assert (await read_profile(pair.b, token)).status_code == 200  # cached by B
    await wait_for_listeners(pair.sql, 2, 5.0)
    async with pair.sql.engine.connect() as connection:
        result = await connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = :q"),
            {"q": f'LISTEN "{notify.CHANNEL}"'},
        )
        assert [row[0] for row in result] == [True, True]
    await wait_for_listeners(pair.sql, 0, 2.0)
    await wait_for_listeners(pair.sql, 2, notify.RECONNECT_SECONDS + 5.0)
    assert (await read_profile(pair.b, token)).status_code == 200  # cached by B again
    await pair.sql.tokens.revoke_token(access_token_digest(token), None, pair.clock.now())
    assert_invalid_token(await poll(lambda: read_profile(pair.b, token), 401))


async def test_limits_changed_elsewhere_hold_at_once_on_the_other_instance(pair: Pair) -> None:
    """``clients limits`` (the registry on the SQL stores) reaches an instance that had
    the client cached for 30 s within 1 s: its next API request is counted by the new
    limit (issue 18 item 1)."""
    token = await issue(pair.b, pair.client)
    assert (await read_profile(pair.b, token)).headers["x-ratelimit-limit"] == "100"
    await set_client_limits(
        pair.sql.clients, pair.clock, pair.client.client, ClientLimits(burst_per_minute=7)
    )
    deadline = time.monotonic() + PROPAGATION_SECONDS
    while (answer := await read_profile(pair.b, token)).headers["x-ratelimit-limit"] != "7":
        assert time.monotonic() < deadline, answer.headers
        await asyncio.sleep(0.02)
