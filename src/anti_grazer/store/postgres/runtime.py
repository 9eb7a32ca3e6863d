"""Opening the PostgreSQL adapter: the engine (a connection pool per process), the schema
check (PostgreSQL is migrated by ``anti-grazer db upgrade``, once per release, never by a
starting server), and the three stores over the engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import Metrics
from anti_grazer.store.postgres.reports import PostgresReportStore
from anti_grazer.store.postgres.stores import PostgresClientStore, PostgresTokenStore
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.schema_version import ensure_current_schema


@dataclass(frozen=True, slots=True)
class PostgresStores:
    """The stores of one PostgreSQL database and the engine they share."""

    engine: AsyncEngine
    clients: PostgresClientStore
    tokens: PostgresTokenStore
    reports: PostgresReportStore


@asynccontextmanager
async def open_postgres_stores(
    url: str, metrics: Metrics = NO_METRICS
) -> AsyncIterator[PostgresStores]:
    """Open the PostgreSQL database at ``url``, whose schema must be current; ``metrics``
    counts the token inserts' group commits."""
    engine = create_engine(url)
    try:
        await ensure_current_schema(engine, migrate=False)
        yield PostgresStores(
            engine,
            PostgresClientStore(engine),
            PostgresTokenStore(engine, metrics),
            PostgresReportStore(engine),
        )
    finally:
        await engine.dispose()
