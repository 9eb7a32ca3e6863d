"""Prometheus metrics through HTTP, in process (issue 18 item 4): each request moves the
counters with exact label values: the route's template (never the raw path), the
status, the client id of an authenticated client only (never a token or a secret),
the reason of a refused authentication.  The process's metrics are shared by every app
it builds, so each test compares the exposition before and after its requests."""

from __future__ import annotations

import httpx

from tests.clock import FrozenClock
from tests.e2e.process import free_port
from tests.http_helpers import PROFILE, REVOKE, TOKEN, basic, bearer, post_form, read_profile
from tests.scrape import in_process, value
from tests.support import Registered, create_app, issue, request_token, running, settings_for

PROFILE_ROUTE = "/v1/profiles/{platform}/{profile_id}"


def counted(before: str, name: str, **labels: str) -> float:
    """How much the sample moved since ``before``."""
    return value(in_process(), name, **labels) - value(before, name, **labels)


async def test_a_token_issued_counts_for_its_client_route_and_status(
    http: httpx.AsyncClient, registered: Registered, database_url: str
) -> None:
    """And its storage's group commit: SQLite's writer, or PostgreSQL's inserter."""
    backend = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    before = in_process()
    token = await issue(http, registered)
    assert counted(before, "anti_grazer_tokens_issued_total", client_id=registered.client_id) == 1
    assert counted(before, "anti_grazer_http_requests_total", route=TOKEN, status="200") == 1
    assert counted(before, "anti_grazer_http_request_duration_seconds_count", route=TOKEN) == 1
    assert counted(before, "anti_grazer_storage_batch_size_count", backend=backend) >= 1
    exposition = in_process()
    assert token not in exposition
    assert registered.secret not in exposition


async def test_refused_authentications_count_as_one_reason_unknown_or_wrong(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §5.2: an unknown id and a wrong secret are the one ``invalid_client`` in
    the answer, and in the metrics too."""
    before = in_process()
    wrong = await request_token(http, registered.client_id, "ag_cs_wrong")
    unknown = await request_token(http, "ag_ci_nobody", registered.secret)
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert counted(before, "anti_grazer_client_auth_failures_total", reason="invalid_client") == 2
    assert counted(before, "anti_grazer_http_requests_total", route=TOKEN, status="401") == 2
    assert counted(before, "anti_grazer_tokens_issued_total", client_id="ag_ci_nobody") == 0
    assert "ag_ci_nobody" not in in_process()


async def test_api_requests_count_by_route_template_even_when_refused_before_routing(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """The guard's 401 is answered before FastAPI routes the request: it still counts
    under the route's template; a path no route knows is ``unmatched``."""
    token = await issue(http, registered)
    before = in_process()
    assert (await read_profile(http, token)).status_code == 200
    assert (await http.get("/v1/profiles/twitter/y", headers=bearer("nope"))).status_code == 401
    assert (await http.get("/no/such/path/42")).status_code == 404
    assert (await http.get("/metrics")).status_code == 404  # never on the public port
    assert (
        counted(before, "anti_grazer_http_requests_total", route=PROFILE_ROUTE, status="200") == 1
    )
    assert (
        counted(before, "anti_grazer_http_requests_total", route=PROFILE_ROUTE, status="401") == 1
    )
    assert counted(before, "anti_grazer_http_requests_total", route="unmatched", status="404") == 2
    assert "/no/such/path/42" not in in_process()
    assert PROFILE not in in_process()


async def test_a_revocation_counts_for_its_client(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    token = await issue(http, registered)
    before = in_process()
    credentials = basic(registered.client_id, registered.secret)
    assert (await post_form(http, REVOKE, {"token": token}, credentials)).status_code == 200
    assert (await post_form(http, REVOKE, {"token": token}, credentials)).status_code == 200
    assert counted(before, "anti_grazer_tokens_revoked_total", client_id=registered.client_id) == 1


async def test_requests_past_the_burst_count_as_rate_limited(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, rate_limit_burst_per_minute=1), clock=clock)
    async with running(app) as http:
        token = await issue(http, registered)
        before = in_process()
        assert (await read_profile(http, token)).status_code == 200
        assert (await read_profile(http, token)).status_code == 429
    assert (
        counted(before, "anti_grazer_rate_limited_requests_total", kind="api", outcome="refused")
        == 1
    )
    assert (
        counted(before, "anti_grazer_http_requests_total", route=PROFILE_ROUTE, status="429") == 1
    )


async def test_a_lockout_counts_when_it_starts_and_for_each_attempt_it_refuses(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, lockout_failures=2), clock=clock)
    async with running(app) as http:
        before = in_process()
        for _ in range(2):
            await request_token(http, registered.client_id, "ag_cs_wrong")
        locked = await request_token(http, registered.client_id, registered.secret)
    assert locked.status_code == 429
    assert counted(before, "anti_grazer_lockouts_started_total", kind="client") == 1
    assert counted(before, "anti_grazer_client_auth_failures_total", reason="invalid_client") == 2
    assert counted(before, "anti_grazer_client_auth_failures_total", reason="locked_out") == 1


async def test_cache_hits_and_misses(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, cache_ttl_seconds=60), clock=clock)
    async with running(app) as http:
        token = await issue(http, registered)
        before = in_process()
        for _ in range(3):
            assert (await read_profile(http, token)).status_code == 200
    assert counted(before, "anti_grazer_cache_misses_total", cache="tokens") == 1
    assert counted(before, "anti_grazer_cache_hits_total", cache="tokens") == 2


async def test_an_unreachable_redis_counts_as_redis_errors(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    """Fail open: the request is served, and the failure counted."""
    redis = f"redis://127.0.0.1:{free_port()}/0"
    settings = settings_for(database_url, rate_limit_storage=redis)
    async with running(create_app(settings, clock=clock)) as http:
        before = in_process()
        assert (
            await request_token(http, registered.client_id, registered.secret)
        ).status_code == 200
    assert counted(before, "anti_grazer_redis_errors_total") >= 1


async def test_metrics_port_zero_counts_nothing(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, metrics_port=0), clock=clock)
    async with running(app) as http:
        before = in_process()
        await issue(http, registered)
    assert counted(before, "anti_grazer_tokens_issued_total", client_id=registered.client_id) == 0
    assert counted(before, "anti_grazer_http_requests_total", route=TOKEN, status="200") == 0
