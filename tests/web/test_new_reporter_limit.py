"""Reporting cannot be weaponised (issue 18 item 7): each client names at most
``RATE_LIMIT_NEW_REPORTERS_PER_DAY`` reporters it never named before per UTC day.  Past
it a report from a new reporter is ``429`` (RFC 6585 §4) with ``Retry-After`` (RFC 9110
§10.2.3), the rate-limit fields of that limit alone (draft-ietf-httpapi-ratelimit-
headers-10 §3, §4) and ``RATE_LIMIT_EXCEEDED``, and nothing is stored; its known
reporters still report.  The clock is frozen at 12:00:00 UTC, half a day before the
day's window ends."""

from __future__ import annotations

import io

import httpx

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import assert_rate_limit_exceeded, assert_rate_limit_fields, bearer
from tests.support import Registered, issue, log_events
from tests.web.conftest import Limited

DAY_ENDS = 1780358400  # 2026-06-02T00:00:00Z
HALF_A_DAY = 43200
WRITE_AND_READ = "reports:write profiles:read"
REQUEST_POLICY = '"burst_per_minute";q=100;w=60, "requests_per_hour";q=1000;w=3600'


async def report(
    http: httpx.AsyncClient, token: str, reporter_id: str, profile_id: str = "grazer"
) -> httpx.Response:
    body = {"platform": "facebook", "profile_id": profile_id, "reporter_id": reporter_id}
    return await http.post("/v1/reports", json=body, headers=bearer(token))


async def reporters_of(http: httpx.AsyncClient, token: str, profile_id: str) -> int:
    answer = await http.get(f"/v1/profiles/facebook/{profile_id}", headers=bearer(token))
    reporters = answer.json()["reporters"]
    assert isinstance(reporters, int)
    return reporters


async def test_past_its_new_reporters_a_client_is_refused_until_the_day_ends(
    limited: Limited, registered: Registered, clock: FrozenClock
) -> None:
    async with limited(rate_limit_new_reporters_per_day=2) as http:
        token = await issue(http, registered, WRITE_AND_READ)
        assert (await report(http, token, "user-1")).status_code == 201
        assert (await report(http, token, "user-2")).status_code == 201
        refused = await report(http, token, "user-3")
        assert_rate_limit_exceeded(
            refused,
            "Rate limit exceeded: 2 new reporters per 86400 s (new_reporters_per_day); "
            f"retry after {HALF_A_DAY} s",
            HALF_A_DAY,
        )
        # Each field once, naming the limit that refused (not the request limits).
        assert_rate_limit_fields(
            refused,
            '"new_reporters_per_day";q=2;w=86400',
            f'"new_reporters_per_day";r=0;t={HALF_A_DAY}',
            (2, 0, DAY_ENDS),
        )
        assert await reporters_of(http, token, "grazer") == 2

        # Reporters it named before still report, new profiles and repeats alike.
        known = await report(http, token, "user-1", "another-grazer")
        assert known.status_code == 201
        assert known.headers["ratelimit-policy"] == REQUEST_POLICY
        assert (await report(http, token, "user-2")).status_code == 200
        assert (await report(http, token, "user-3")).status_code == 429

        clock.advance(HALF_A_DAY)
        token = await issue(http, registered, WRITE_AND_READ)  # the old one expired
        assert (await report(http, token, "user-3")).status_code == 201
        assert await reporters_of(http, token, "grazer") == 3


async def test_each_client_counts_its_own_new_reporters_under_its_own_limit(
    limited: Limited,
    sql: OpenedStores,
    registered: Registered,
    other_client: Registered,
) -> None:
    """A reporter is a client's own id for its user: the other client's ``user-1`` is
    new to it; ``clients limits ID --new-reporters-per-day`` gives one client its own."""
    assert await sql.clients.set_limits(
        other_client.client_id,
        ClientLimits(new_reporters_per_day=3),
        other_client.client.updated_at,
    )
    async with limited(rate_limit_new_reporters_per_day=1) as http:
        mine = await issue(http, registered, WRITE_AND_READ)
        theirs = await issue(http, other_client, WRITE_AND_READ)
        assert (await report(http, mine, "user-1")).status_code == 201
        assert (await report(http, mine, "user-2")).status_code == 429
        answers = [await report(http, theirs, f"user-{n}") for n in (1, 2, 3, 4)]
    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert answers[-1].headers["x-ratelimit-limit"] == "3"


async def test_a_log_only_new_reporter_limit_stores_every_report_and_logs_once(
    limited: Limited, registered: Registered, log_stream: io.StringIO
) -> None:
    async with limited(
        rate_limit_new_reporters_per_day=1, rate_limit_log_only="new_reporters_per_day"
    ) as http:
        token = await issue(http, registered, WRITE_AND_READ)
        answers = [await report(http, token, f"user-{n}") for n in range(4)]
        assert await reporters_of(http, token, "grazer") == 4
    assert [answer.status_code for answer in answers] == [201] * 4
    assert answers[-1].headers["ratelimit-policy"] == REQUEST_POLICY
    exceeded = [e for e in log_events(log_stream) if e["event"] == "rate_limit_exceeded"]
    assert [(e["client_id"], e["limit"], e["amount"], e["enforced"]) for e in exceeded] == [
        (registered.client_id, "new_reporters_per_day", 1, False)
    ]


async def test_with_no_new_reporter_limit_a_client_names_any_number(
    limited: Limited, registered: Registered
) -> None:
    async with limited(rate_limit_new_reporters_per_day=0) as http:
        token = await issue(http, registered, WRITE_AND_READ)
        answers = [await report(http, token, f"user-{n}") for n in range(6)]
    assert [answer.status_code for answer in answers] == [201] * 6
