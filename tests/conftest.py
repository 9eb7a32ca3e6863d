"""Fixtures: a settable clock, a fresh database per test (SQLite file, or the run's
PostgreSQL when ANTI_GRAZER_TEST_DATABASE_URL is set), the app and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from anti_grazer.store.runtime import OpenedStores, open_stores
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock
from tests.support import (
    DATABASE_URL_ENV,
    Registered,
    create_app,
    register,
    reset_database,
    running,
    settings_for,
)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """Every ``async def`` test runs on asyncio (anyio_mode = "auto" in pyproject)."""
    return "asyncio"


@pytest.fixture
def clock() -> FrozenClock:
    """The server's clock: frozen at a known instant, moved by tests of expiry."""
    return FrozenClock(datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
async def database_url(tmp_path: Path) -> str:
    """A fresh, migrated database for one test."""
    url = os.environ.get(DATABASE_URL_ENV) or f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    await reset_database(url)
    return url


@pytest.fixture
async def sql(database_url: str) -> AsyncIterator[OpenedStores]:
    """Direct access to the test database's stores (as the CLI has)."""
    async with open_stores(database_url) as stores:
        yield stores


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(settings_for(database_url), clock=clock)


@pytest.fixture
async def http(app: Edge) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client speaking to the running app in-process (ASGITransport)."""
    async with running(app) as client:
        yield client


@pytest.fixture
async def registered(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A client allowed ``reports:write profiles:read``, defaulting to ``profiles:read``."""
    return await register(sql.clients, clock)


@pytest.fixture
async def other_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A second, unrelated client."""
    return await register(sql.clients, clock, name="other client")
