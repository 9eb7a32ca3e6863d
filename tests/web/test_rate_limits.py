"""The API's rate limits through HTTP (issue 18 item 1): every ``/v1`` request of a
verified token counts against its client's limits (1,000 an hour, 100 a minute by
default), every answer carries the rate-limit fields (draft-ietf-httpapi-ratelimit-
headers-10 §3 ``RateLimit-Policy``, §4 ``RateLimit``; ``X-RateLimit-*``), and a request
past an enforced limit is ``429`` (RFC 6585 §4) with ``Retry-After`` (RFC 9110 §10.2.3)
and ``RATE_LIMIT_EXCEEDED``, the route never run.  The clock is frozen at 12:00:00 UTC,
the start of a minute and of an hour."""

from __future__ import annotations

import io

import httpx

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    assert_invalid_token,
    assert_no_rate_limit_fields,
    assert_rate_limit_exceeded,
    assert_rate_limit_fields,
    bearer,
    read_profile,
)
from tests.support import Registered, create_app, issue, log_events, running, settings_for
from tests.web.conftest import Limited

MINUTE_ENDS = 1780315260  # 12:01:00 UTC
HOUR_ENDS = 1780318800  # 13:00:00 UTC
BURST_3 = '"burst_per_minute";q=3;w=60, "requests_per_hour";q=1000;w=3600'
REPORT = {"platform": "facebook", "profile_id": "grazer", "reporter_id": "user-1"}


async def test_every_answer_carries_the_fields_of_its_clients_limits(
    limited: Limited, registered: Registered
) -> None:
    """§3: the policies, quota ``q`` per window ``w``; §4: what remains (``r``) and the
    seconds until the window ends (``t``); X-RateLimit-* of the most constraining."""
    async with limited(rate_limit_burst_per_minute=3) as http:
        token = await issue(http, registered)
        first = await read_profile(http, token)
        assert first.status_code == 200
        assert_rate_limit_fields(
            first,
            BURST_3,
            '"burst_per_minute";r=2;t=60, "requests_per_hour";r=999;t=3600',
            (3, 2, MINUTE_ENDS),
        )
        refused_scope = await http.get("/v1/blocklist?limit=0", headers=bearer(token))
        assert refused_scope.status_code == 422
        assert refused_scope.headers["x-ratelimit-remaining"] == "1"


async def test_past_the_burst_the_request_is_refused_until_the_minute_ends(
    limited: Limited, registered: Registered, clock: FrozenClock
) -> None:
    """RFC 6585 §4: 429 with Retry-After no earlier than the window's end (draft §6);
    the route does not run (the report is not stored); the next minute serves again."""
    async with limited(rate_limit_burst_per_minute=3) as http:
        token = await issue(http, registered)
        for _ in range(3):
            assert (await read_profile(http, token)).status_code == 200
        clock.advance(17)
        refused = await http.post("/v1/reports", json=REPORT, headers=bearer(token))
        assert_rate_limit_exceeded(
            refused,
            "Rate limit exceeded: 3 requests per 60 s (burst_per_minute); retry after 43 s",
            43,
        )
        assert_rate_limit_fields(
            refused,
            BURST_3,
            '"burst_per_minute";r=0;t=43, "requests_per_hour";r=996;t=3583',
            (3, 0, MINUTE_ENDS),
        )
        clock.advance(43)
        again = await read_profile(http, token)
        assert again.status_code == 200
        assert again.json()["reporters"] == 0
        assert again.headers["ratelimit"] == (
            '"burst_per_minute";r=2;t=60, "requests_per_hour";r=995;t=3540'
        )


async def test_past_the_hourly_limit_retry_when_the_hour_ends(
    limited: Limited, registered: Registered, clock: FrozenClock
) -> None:
    async with limited(rate_limit_requests_per_hour=2) as http:
        token = await issue(http, registered)
        await read_profile(http, token)
        clock.advance(600)
        await read_profile(http, token)
        refused = await read_profile(http, token)
        assert_rate_limit_exceeded(
            refused,
            "Rate limit exceeded: 2 requests per 3600 s (requests_per_hour); retry after 3000 s",
            3000,
        )
        assert refused.headers["x-ratelimit-reset"] == str(HOUR_ENDS)
        assert refused.headers["x-ratelimit-limit"] == "2"


async def test_each_client_has_its_own_count_and_its_own_limits(
    http: httpx.AsyncClient, sql: OpenedStores, registered: Registered, other_client: Registered
) -> None:
    """Counted per client (the token's); a client's own limit (``clients limits``)
    replaces the default for it alone."""
    assert await sql.clients.set_limits(
        registered.client_id, ClientLimits(burst_per_minute=1), registered.client.updated_at
    )
    mine, theirs = await issue(http, registered), await issue(http, other_client)
    assert (
        (await read_profile(http, mine))
        .headers["ratelimit-policy"]
        .startswith('"burst_per_minute";q=1;w=60')
    )
    assert (await read_profile(http, mine)).status_code == 429
    other = await read_profile(http, theirs)
    assert other.status_code == 200
    assert other.headers["x-ratelimit-remaining"] == "99"


async def test_a_request_the_guard_refused_is_not_counted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """No verified token, no client: not counted, and no fields (RFC 6750 §3.1 answer)."""
    token = await issue(http, registered)
    for _ in range(5):
        refused = await read_profile(http, token[:-1] + "x")
        assert_invalid_token(refused)
        assert_no_rate_limit_fields(refused)
    assert (await read_profile(http, token)).headers["x-ratelimit-remaining"] == "99"


async def test_a_log_only_limit_is_counted_and_logged_once_never_refused(
    limited: Limited, registered: Registered, log_stream: io.StringIO
) -> None:
    """``RATE_LIMIT_LOG_ONLY``: past it, requests are served; one ``rate_limit_exceeded``
    line per window; the client is told about its enforced limits only."""
    async with limited(
        rate_limit_burst_per_minute=2, rate_limit_log_only="burst_per_minute"
    ) as http:
        token = await issue(http, registered)
        answers = [await read_profile(http, token) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [200] * 5
    assert answers[-1].headers["ratelimit-policy"] == '"requests_per_hour";q=1000;w=3600'
    assert answers[-1].headers["ratelimit"] == '"requests_per_hour";r=995;t=3600'
    exceeded = [e for e in log_events(log_stream) if e["event"] == "rate_limit_exceeded"]
    assert exceeded == [
        {
            "event": "rate_limit_exceeded",
            "logger_name": "anti_grazer.throttle",
            "client_id": registered.client_id,
            "limit": "burst_per_minute",
            "amount": 2,
            "window_seconds": 60,
            "enforced": False,
            "level": "warning",
            "timestamp": exceeded[0]["timestamp"],
        }
    ]


async def test_with_rate_limits_off_nothing_is_counted_or_told(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, rate_limits_enabled=False), clock=clock)
    async with running(app) as http:
        token = await issue(http, registered)
        for _ in range(3):
            answer = await read_profile(http, token)
            assert answer.status_code == 200
            assert_no_rate_limit_fields(answer)
