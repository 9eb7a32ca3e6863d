"""Fixtures of the store tests: a fresh pair of stores, and a fresh report store, on every
backend (the contract suites), the caching stores the cache tests share, and fresh SQL
stores with the commits of their engine counted (group commit and the inserter)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from anti_grazer.reports.ports import ReportStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.store.memory_reports import MemoryReportStore
from anti_grazer.store.runtime import OpenedStores, open_stores
from tests.store.cache_helpers import Setup
from tests.support import (
    SQL_BACKENDS,
    STORE_BACKENDS,
    CommitCounter,
    StorePair,
    counting_commits,
    fresh_database_url,
    make_client,
    make_token,
    stores_with_client,
)


@pytest.fixture(params=STORE_BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StorePair]:
    """A fresh, empty pair of stores on one backend."""
    backend: str = request.param
    if backend == "memory":
        memory = memory_stores()
        yield StorePair(memory.clients, memory.tokens)
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        yield StorePair(opened.clients, opened.tokens)


@pytest.fixture(params=STORE_BACKENDS)
async def report_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[ReportStore]:
    """A fresh, empty report store on one backend."""
    if request.param == "memory":
        yield MemoryReportStore()
        return
    async with open_stores(await fresh_database_url(request.param, tmp_path)) as opened:
        yield opened.reports


@pytest.fixture
async def setup() -> Setup:
    """Caching stores (TTL 60 s) with client ``client-a`` and its token ``t1`` stored."""
    built = Setup()
    await built.clients.add_client(make_client())
    await built.tokens.add_token(make_token("t1"))
    return built


@pytest.fixture(params=SQL_BACKENDS)
async def sql_stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenedStores]:
    """Fresh stores on one SQL backend, with client ``client-a`` registered."""
    async with stores_with_client(request.param, tmp_path, "client-a") as opened:
        yield opened


@pytest.fixture
def commits(sql_stores: OpenedStores) -> Iterator[CommitCounter]:
    """The commits of the stores' engine (counted after the set-up's)."""
    with counting_commits(sql_stores.engine) as counter:
        yield counter
