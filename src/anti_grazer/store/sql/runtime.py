"""Opening the SQL stores: engine, schema check or migration, and the two adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.engine import create_engine, is_sqlite, sqlite_file, sqlite_pragmas
from anti_grazer.store.sql.schema_version import SCHEMA_REVISION, current_revision
from anti_grazer.store.sql.stores import SqlClientStore, SqlTokenStore
from anti_grazer.store.sqlite.reader import SqliteReader


class SchemaNotCurrentError(RuntimeError):
    """The database has not been migrated to the code's schema."""


@dataclass(frozen=True, slots=True)
class SqlStores:
    """An engine and the store adapters sharing it (and, on a SQLite file, one reader
    thread for the reads on every request)."""

    engine: AsyncEngine
    clients: SqlClientStore
    tokens: SqlTokenStore
    reader: SqliteReader | None


@asynccontextmanager
async def open_sql_stores(
    url: str, *, sqlite_synchronous: str = "FULL", migrate_sqlite: bool = True
) -> AsyncIterator[SqlStores]:
    """Open the database at ``url``; SQLite is migrated to the newest schema on the spot,
    any other database must already be (``anti-grazer db upgrade``)."""
    engine = create_engine(url, sqlite_synchronous=sqlite_synchronous)
    try:
        if await current_revision(engine) != SCHEMA_REVISION:
            if not (migrate_sqlite and is_sqlite(url)):
                raise SchemaNotCurrentError(
                    "The database schema is not current: run 'anti-grazer db upgrade'"
                )
            # Imported here, not at the top: Alembic is 10 MiB a worker (schema_version).
            from anti_grazer.store.sql.migrate import upgrade  # noqa: PLC0415

            await upgrade(engine)
        path = sqlite_file(url) if is_sqlite(url) else None
        reader = SqliteReader(path, sqlite_pragmas(sqlite_synchronous)) if path else None
        tokens = SqlTokenStore(engine, sqlite_synchronous, reader=reader)
        try:
            yield SqlStores(engine, SqlClientStore(engine, reader), tokens, reader)
        finally:
            tokens.close()
            if reader is not None:
                reader.close()
    finally:
        await engine.dispose()
