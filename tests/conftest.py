"""Fixtures: a settable clock, a fresh database per test (SQLite file, or the run's
PostgreSQL when ANTI_GRAZER_TEST_DATABASE_URL is set), the app and an HTTP client, and
the log lines as ``serve`` writes them."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import structlog

from anti_grazer.logs import configure_logging
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


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """Route every log line to a string, as ``serve`` configures it; restore afterwards
    (read them with ``tests.support.log_events``).

    The test's own HTTP client (httpx) logs request URLs at INFO; it is not the server,
    so it is kept out of the captured lines.
    """
    root = logging.getLogger()
    saved_root = (root.handlers[:], root.level)
    saved_loggers = {
        name: (lg.handlers[:], lg.propagate, lg.disabled, lg.level)
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic", "httpx")
        for lg in [logging.getLogger(name)]
    }
    saved_structlog = structlog.get_config()
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        structlog.configure(**saved_structlog)
        root.handlers[:] = saved_root[0]
        root.setLevel(saved_root[1])
        for name, (handlers, propagate, disabled, level) in saved_loggers.items():
            lg = logging.getLogger(name)
            lg.handlers[:] = handlers
            lg.propagate, lg.disabled = propagate, disabled
            lg.setLevel(level)
