"""Token quotas through HTTP (issue 18 item 1, as Auth0's machine-to-machine quotas): a
client may get so many tokens an hour and a day (100 and 1,000 by default).  A request
counts once the client authenticated (RFC 6749 §2.3.1), before the token is issued; past
the quota it is ``429`` (RFC 6585 §4) with ``Retry-After`` and the RFC 6749 §5.2 body
``slow_down`` (RFC 8628 §3.5; README, "Rate limits", says why), and every answer to an
authenticated client carries the rate-limit fields (draft-ietf-httpapi-ratelimit-
headers-10 §3, §4).  The clock is frozen at 12:00:00 UTC."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import httpx
import pytest

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    INTROSPECT,
    QUOTA_EXCEEDED,
    REVOKE,
    assert_invalid_client,
    assert_issued,
    assert_no_rate_limit_fields,
    assert_oauth_error,
    assert_rate_limit_fields,
    assert_slow_down,
    basic,
    post_form,
)
from tests.support import (
    Registered,
    create_app,
    issue,
    log_events,
    request_token,
    running,
    settings_for,
)

HOUR_ENDS = 1780318800  # 13:00:00 UTC
DAY_ENDS = 1780358400  # 2026-06-02T00:00:00Z
QUOTA_2 = '"tokens_per_hour";q=2;w=3600, "tokens_per_day";q=1000;w=86400'


@pytest.fixture
async def http(database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a quota of 2 tokens an hour."""
    app = create_app(settings_for(database_url, rate_limit_tokens_per_hour=2), clock=clock)
    async with running(app) as client:
        yield client


async def test_each_token_answer_tells_the_quota_left(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    response = await request_token(http, registered.client_id, registered.secret)
    assert_issued(response, "profiles:read")
    assert_rate_limit_fields(
        response,
        QUOTA_2,
        '"tokens_per_hour";r=1;t=3600, "tokens_per_day";r=999;t=43200',
        (2, 1, HOUR_ENDS),
    )


async def test_past_the_hourly_quota_slow_down_until_the_hour_ends(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock
) -> None:
    await issue(http, registered)
    await issue(http, registered)
    clock.advance(1800)
    refused = await request_token(http, registered.client_id, registered.secret)
    assert_slow_down(refused, QUOTA_EXCEEDED, 1800)
    assert_rate_limit_fields(
        refused,
        QUOTA_2,
        '"tokens_per_hour";r=0;t=1800, "tokens_per_day";r=997;t=41400',
        (2, 0, HOUR_ENDS),
    )
    clock.advance(1800)
    assert_issued(
        await request_token(http, registered.client_id, registered.secret), "profiles:read"
    )


async def test_a_failed_authentication_is_not_counted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """Only an authenticated client is counted: wrong secrets cannot use up its quota,
    and their answers carry no fields."""
    for _ in range(4):
        failed = await request_token(http, registered.client_id, "wrong")
        assert_invalid_client(failed)
        assert_no_rate_limit_fields(failed)
    response = await request_token(http, registered.client_id, registered.secret)
    assert response.headers["x-ratelimit-remaining"] == "1"


async def test_a_request_refused_after_authentication_counts_and_tells(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §5.2 ``invalid_scope`` comes after the quota was counted: the request
    was the client's, and its answer carries the fields."""
    refused = await request_token(http, registered.client_id, registered.secret, "admin")
    assert_oauth_error(
        refused,
        400,
        "invalid_scope",
        "The requested scope is invalid or not allowed for this client",
    )
    assert refused.headers["x-ratelimit-remaining"] == "1"


async def test_the_daily_quota(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    settings = settings_for(database_url, rate_limit_tokens_per_day=1)
    async with running(create_app(settings, clock=clock)) as http:
        await issue(http, registered)
        refused = await request_token(http, registered.client_id, registered.secret)
    assert_slow_down(refused, QUOTA_EXCEEDED, 43200)
    assert refused.headers["x-ratelimit-reset"] == str(DAY_ENDS)
    assert refused.headers["ratelimit"] == (
        '"tokens_per_hour";r=98;t=3600, "tokens_per_day";r=0;t=43200'
    )


async def test_a_clients_own_quota_and_a_log_only_one(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    registered: Registered,
    other_client: Registered,
    log_stream: io.StringIO,
) -> None:
    """No hourly limit for one client (0), a log-only one for another: both get every
    token; the log-only one is logged once, as not enforced."""
    when = registered.client.updated_at
    assert await sql.clients.set_limits(registered.client_id, ClientLimits(tokens_per_hour=0), when)
    assert await sql.clients.set_limits(
        other_client.client_id, ClientLimits(log_only=frozenset({"tokens_per_hour"})), when
    )
    for _ in range(3):
        unlimited = await request_token(http, registered.client_id, registered.secret)
        trial = await request_token(http, other_client.client_id, other_client.secret)
        assert (unlimited.status_code, trial.status_code) == (200, 200)
    assert unlimited.headers["ratelimit-policy"] == '"tokens_per_day";q=1000;w=86400'
    assert trial.headers["ratelimit-policy"] == '"tokens_per_day";q=1000;w=86400'
    exceeded = [e for e in log_events(log_stream) if e["event"] == "rate_limit_exceeded"]
    assert [(e["client_id"], e["limit"], e["enforced"]) for e in exceeded] == [
        (other_client.client_id, "tokens_per_hour", False)
    ]


async def test_revocation_and_introspection_use_no_token_quota(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    token = await issue(http, registered)
    credentials = basic(registered.client_id, registered.secret)
    for _ in range(3):
        introspected = await post_form(http, INTROSPECT, {"token": token}, credentials)
        assert introspected.status_code == 200
        assert_no_rate_limit_fields(introspected)
    revoked = await post_form(http, REVOKE, {"token": token}, credentials)
    assert revoked.status_code == 200
    assert_no_rate_limit_fields(revoked)
    response = await request_token(http, registered.client_id, registered.secret)
    assert response.headers["x-ratelimit-remaining"] == "0"
