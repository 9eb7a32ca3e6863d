"""The client-authentication lockout through HTTP (issue 18 item 2; RFC 6749 §2.3.1: the
authorization server MUST protect any endpoint using client passwords against brute
force attacks).  Failures of one client id from one address, or of any ids from one
address, lock that pair (that address) out for a growing, bounded time: ``429`` (RFC 6585
§4) with ``Retry-After`` and ``slow_down``, whatever the credentials, at the token,
revocation and introspection endpoints alike.  The right credentials from an address
without failures still work.  Known and unknown ids are counted alike."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.http_helpers import (
    INTROSPECT,
    LOCKED_OUT,
    REVOKE,
    assert_invalid_client,
    assert_issued,
    assert_slow_down,
    basic,
    post_form,
)
from tests.support import (
    BASE_URL,
    COUNTER_BACKENDS,
    Registered,
    create_app,
    flushed_redis_url,
    log_events,
    request_token,
    settings_for,
)

ATTACKER = "192.0.2.66"
ELSEWHERE = "198.51.100.9"
At = Callable[[str], httpx.AsyncClient]


@pytest.fixture(params=COUNTER_BACKENDS)
async def lockout_app(
    request: pytest.FixtureRequest, database_url: str, clock: FrozenClock
) -> AsyncIterator[Edge]:
    """The app with the default lockout (5 failures, 20 from an address; 1 minute
    doubling to 15), counting in process or in Redis."""
    overrides: dict[str, object] = {"lockout_failures": 5}
    if request.param == "redis":
        overrides["rate_limit_storage"] = await flushed_redis_url()
    app = create_app(settings_for(database_url, **overrides), clock=clock)
    async with app.lifespan():
        yield app


def clients_at(app: Edge) -> At:
    """An HTTP client of ``app`` whose requests come from a given address."""

    def at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        return httpx.AsyncClient(transport=transport, base_url=BASE_URL)

    return at


async def fail(http: httpx.AsyncClient, client_id: str, times: int) -> None:
    for _ in range(times):
        assert_invalid_client(await request_token(http, client_id, "wrong-secret"))


async def test_five_failures_lock_the_id_out_from_that_address_at_every_endpoint(
    lockout_app: Edge, registered: Registered, log_stream: io.StringIO
) -> None:
    """The 6th attempt is refused even with the right secret (a guess during a lockout
    tells nothing), at the three endpoints that authenticate clients; one
    ``lockout_started`` line names the id and the address, never a secret."""
    async with clients_at(lockout_app)(ATTACKER) as attacker:
        await fail(attacker, registered.client_id, 5)
        right = await request_token(attacker, registered.client_id, registered.secret)
        assert_slow_down(right, LOCKED_OUT, 60)
        credentials = basic(registered.client_id, registered.secret)
        for endpoint in (REVOKE, INTROSPECT):
            refused = await post_form(attacker, endpoint, {"token": "x"}, credentials)
            assert_slow_down(refused, LOCKED_OUT, 60)
    started = [e for e in log_events(log_stream) if e["event"] == "lockout_started"]
    assert [
        (e["client_id"], e["address"], e["failures"], e["lockout_seconds"]) for e in started
    ] == [(registered.client_id, ATTACKER, 5, 60)]
    assert registered.secret not in log_stream.getvalue()
    assert "wrong-secret" not in log_stream.getvalue()


async def test_a_lockout_is_recorded_in_the_audit_trail(
    lockout_app: Edge, registered: Registered, sql: OpenedStores
) -> None:
    """Issue 18 item 3: "lockout started" is a security event: the server is its actor,
    the client id as presented its subject."""
    async with clients_at(lockout_app)(ATTACKER) as attacker:
        await fail(attacker, registered.client_id, 5)
    [event] = await sql.audit.list_events(kind="lockout.started")
    assert (event.actor, event.subject, event.client_id) == (
        "server",
        registered.client_id,
        registered.client_id,
    )
    assert event.details == {"address": ATTACKER, "lockout_seconds": 60}


async def test_the_right_credentials_from_another_address_still_work(
    lockout_app: Edge, registered: Registered, other_client: Registered
) -> None:
    """An attacker who knows a client id (it is no secret, RFC 6749 §2.2) locks out
    only itself: the client from its own address, and other clients from the attacker's,
    are served."""
    at = clients_at(lockout_app)
    async with at(ATTACKER) as attacker, at(ELSEWHERE) as legitimate:
        await fail(attacker, registered.client_id, 5)
        locked = await request_token(attacker, registered.client_id, registered.secret)
        assert_slow_down(locked, LOCKED_OUT, 60)
        served = await request_token(legitimate, registered.client_id, registered.secret)
        assert_issued(served, "profiles:read")
        other = await request_token(attacker, other_client.client_id, other_client.secret)
        assert_issued(other, "profiles:read")


async def test_a_spray_of_made_up_ids_locks_the_address_out(
    lockout_app: Edge, registered: Registered
) -> None:
    """20 failures from one address, each under another (unknown) id: the address is
    locked out for every id; the same ids from elsewhere are not."""
    at = clients_at(lockout_app)
    async with at(ATTACKER) as attacker, at(ELSEWHERE) as legitimate:
        for n in range(20):
            await fail(attacker, f"ag_ci_guess{n:04d}", 1)
        refused = await request_token(attacker, registered.client_id, registered.secret)
        assert_slow_down(refused, LOCKED_OUT, 60)
        assert_issued(
            await request_token(legitimate, registered.client_id, registered.secret),
            "profiles:read",
        )


async def test_an_unknown_id_is_locked_out_as_a_known_one(lockout_app: Edge) -> None:
    """The lockout must not tell which ids exist: the same answers, in the same order."""
    async with clients_at(lockout_app)(ATTACKER) as attacker:
        await fail(attacker, "ag_ci_doesnotexist0000000000", 5)
        refused = await request_token(attacker, "ag_ci_doesnotexist0000000000", "x")
    assert_slow_down(refused, LOCKED_OUT, 60)


async def test_the_lockout_ends_then_doubles_with_each_failure_up_to_its_bound(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    """Locked 1 s (``LOCKOUT_SECONDS``); after it, the right secret works; a failure
    within the window locks it again for twice as long, never past 2 s
    (``LOCKOUT_MAX_SECONDS``)."""
    settings = settings_for(
        database_url, lockout_failures=2, lockout_seconds=1, lockout_max_seconds=2
    )
    app = create_app(settings, clock=clock)
    async with app.lifespan(), clients_at(app)(ATTACKER) as attacker:
        await fail(attacker, registered.client_id, 2)
        assert_slow_down(await request_token(attacker, registered.client_id, "x"), LOCKED_OUT, 1)
        await asyncio.sleep(1.1)
        assert_issued(
            await request_token(attacker, registered.client_id, registered.secret),
            "profiles:read",
        )
        await fail(attacker, registered.client_id, 1)
        assert_slow_down(await request_token(attacker, registered.client_id, "x"), LOCKED_OUT, 2)
        await asyncio.sleep(2.1)
        await fail(attacker, registered.client_id, 1)
        assert_slow_down(await request_token(attacker, registered.client_id, "x"), LOCKED_OUT, 2)


async def test_with_the_lockout_off_failures_are_only_refused(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """``LOCKOUT_FAILURES=0`` (as the other tests run): every failure is a plain 401."""
    await fail(http, registered.client_id, 12)
    assert_issued(
        await request_token(http, registered.client_id, registered.secret), "profiles:read"
    )
