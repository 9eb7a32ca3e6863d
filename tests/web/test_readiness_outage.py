"""``GET /ready`` through a PostgreSQL outage, made with a TCP proxy between the app and
the run's PostgreSQL: not ready while the database refuses or hangs (answered within the
check's timeout, never a 500), ready again once it is back; liveness answers throughout."""

from __future__ import annotations

import asyncio
import time

import httpx

from anti_grazer.web.readiness import CHECK_TIMEOUT_SECONDS
from tests.support import (
    NEEDS_POSTGRES,
    create_app,
    postgres_url,
    reset_database,
    running,
    settings_for,
)
from tests.tcp_proxy import proxied

pytestmark = NEEDS_POSTGRES

RECOVERY_SECONDS = 10.0


async def ready_again(http: httpx.AsyncClient) -> httpx.Response:
    """Poll ``/ready`` until it answers 200 (a pooled connection may fail once more after
    the outage); the last answer."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        response = await http.get("/ready")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


async def test_not_ready_while_the_database_is_unreachable_or_hung() -> None:
    url = postgres_url()
    assert url is not None
    await reset_database(url)
    async with proxied(url) as proxy:
        app = create_app(settings_for(proxy.url_through(url)))
        async with running(app) as http:
            assert (await http.get("/ready")).status_code == 200

            await proxy.cut()
            response = await http.get("/ready")
            assert response.status_code == 503
            assert response.json() == {
                "status": "not_ready",
                "checks": {"database": "unreachable"},
            }
            assert (await http.get("/health")).status_code == 200

            await proxy.restore()
            response = await ready_again(http)
            assert response.status_code == 200
            assert response.json() == {"status": "ready", "checks": {"database": "ok"}}

            proxy.stall()
            await proxy.cut()  # pooled connections go; new ones hang
            await proxy.restore()
            proxy.stall()
            started = time.monotonic()
            response = await http.get("/ready")
            elapsed = time.monotonic() - started
            assert response.status_code == 503
            assert response.json() == {
                "status": "not_ready",
                "checks": {"database": "timed out"},
            }
            assert elapsed < CHECK_TIMEOUT_SECONDS + 2

            await proxy.restore()
            await proxy.cut()  # the hung connections go too
            await proxy.restore()
            assert (await ready_again(http)).status_code == 200
