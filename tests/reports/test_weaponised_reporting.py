"""Reporting cannot be weaponised (issue 18 item 7): with ``BLOCK_MIN_CLIENTS`` above 1,
one client inventing reporter ids cannot block a profile alone through ``POST
/v1/reports``; a second client's reporter completes the block.  The default (1) keeps
the seed's behaviour."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.reports.helpers import Headers, report
from tests.support import create_app, running, settings_for


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(
        settings_for(database_url, block_threshold=3, block_min_clients=2), clock=clock
    )


@pytest.fixture
async def http(app: Edge) -> AsyncIterator[httpx.AsyncClient]:
    async with running(app) as client:
        yield client


async def status(http: httpx.AsyncClient, headers: Headers) -> dict[str, object]:
    response = await http.get("/v1/profiles/facebook/victim", headers=headers)
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_one_client_alone_cannot_block_whatever_its_reporters(
    http: httpx.AsyncClient, auth: Headers, other_auth: Headers
) -> None:
    for n in range(10):
        await report(http, auth, "victim", f"invented-{n}")
    alone = await status(http, auth)
    assert (alone["status"], alone["reporters"]) == ("reported", 10)
    await report(http, other_auth, "victim", "a-real-user")
    together = await status(http, auth)
    assert together["status"] == "blocked"
