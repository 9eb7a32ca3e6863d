"""Fixtures of the reports API tests: authorised headers for two clients, and clients
registered with one scope only."""

from __future__ import annotations

import httpx
import pytest

from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.reports.helpers import Headers, bearer_for
from tests.support import Registered, register


@pytest.fixture
async def auth(http: httpx.AsyncClient, registered: Registered) -> Headers:
    """Headers of the ``registered`` client with both scopes of the reports API."""
    return await bearer_for(http, registered)


@pytest.fixture
async def other_auth(http: httpx.AsyncClient, other_client: Registered) -> Headers:
    """Headers of a second, unrelated client with both scopes."""
    return await bearer_for(http, other_client)


@pytest.fixture
async def reader(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A client allowed ``profiles:read`` only."""
    return await register(sql.clients, clock, scope="profiles:read", name="reader")


@pytest.fixture
async def writer(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A client allowed ``reports:write`` only."""
    return await register(
        sql.clients, clock, scope="reports:write", default_scope="reports:write", name="writer"
    )
