"""Opening the SQLite adapter: the engine, the schema (migrated on the spot unless told
not to), the reader and writer threads, and the stores over them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import Metrics
from anti_grazer.store.sql.engine import create_engine, sqlite_file, sqlite_pragmas
from anti_grazer.store.sql.schema_version import ensure_current_schema
from anti_grazer.store.sqlite.assertion_replays import SqliteAssertionReplayStore
from anti_grazer.store.sqlite.audit import SqliteAuditStore
from anti_grazer.store.sqlite.reader import SqliteReader
from anti_grazer.store.sqlite.reports import SqliteReportStore
from anti_grazer.store.sqlite.stores import SqliteClientStore, SqliteTokenStore
from anti_grazer.store.sqlite.writer import SqliteWriter


@dataclass(frozen=True, slots=True)
class SqliteStores:
    """The stores of one SQLite database, its engine, and the two threads they share."""

    engine: AsyncEngine
    clients: SqliteClientStore
    tokens: SqliteTokenStore
    reports: SqliteReportStore
    audit: SqliteAuditStore
    reader: SqliteReader
    writer: SqliteWriter
    assertion_replays: SqliteAssertionReplayStore


def _thread_database(engine: AsyncEngine) -> tuple[str, bool]:
    """What the reader and writer threads open, and whether it is a ``file:`` URI: the
    database file of the engine's URL (the file ``create_engine`` made private), or the
    URI the engine's driver opens."""
    path = sqlite_file(engine.url.render_as_string(hide_password=False))
    if path is not None:
        return path, False
    (database, *_), options = engine.dialect.create_connect_args(engine.url)
    if database == ":memory:":
        # Each thread's connection would have an empty database of its own.
        raise ValueError("the SQLite stores need a database file, not an in-memory database")
    return str(database), bool(options.get("uri"))


@asynccontextmanager
async def open_sqlite_stores(
    url: str, *, synchronous: str = "FULL", migrate: bool = True, metrics: Metrics = NO_METRICS
) -> AsyncIterator[SqliteStores]:
    """Open the SQLite database at ``url`` (``synchronous``: ``FULL`` or ``NORMAL``); an
    out-of-date schema is migrated if ``migrate``, else refused.  ``metrics`` counts the
    writer's group commits."""
    engine = create_engine(url, sqlite_synchronous=synchronous)
    try:
        await ensure_current_schema(engine, migrate=migrate)
        database, uri = _thread_database(engine)
        pragmas = sqlite_pragmas(synchronous)
        reader = SqliteReader(database, pragmas, uri=uri)
        writer = SqliteWriter(database, pragmas, uri=uri, metrics=metrics)
        try:
            yield SqliteStores(
                engine,
                SqliteClientStore(engine, reader),
                SqliteTokenStore(engine.dialect, reader, writer),
                SqliteReportStore(engine, reader),
                SqliteAuditStore(engine, writer),
                reader,
                writer,
                SqliteAssertionReplayStore(engine.dialect, writer),
            )
        finally:
            writer.close()  # once what it was given is committed
            reader.close()
    finally:
        await engine.dispose()
