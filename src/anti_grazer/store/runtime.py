"""The one way the server (``web/app.py``) and the command line (``cli/``) open storage:
``open_stores(database_url)`` picks the adapter by the URL's scheme and yields an
``OpenedStores``, the storage ports over that database, until the context closes.

- ``sqlite+aiosqlite:///path``: the SQLite adapter (``store.sqlite``), a file migrated on
  the spot, with its reader and writer threads;
- ``postgresql+asyncpg://...``: the PostgreSQL adapter (``store.postgres``), whose schema
  must be current (``anti-grazer db upgrade``; else ``SchemaNotCurrentError``).

Both adapters implement the same ports and pass the same contract suite
(tests/store/test_contract.py); what they share is in ``store.sql``.  An adapter is
imported only when a URL of its backend is opened, so that a SQLite worker never loads
PostgreSQL's dialect and driver."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import (
    AssertionReplayStore,
    AuditStore,
    ClientStore,
    Metrics,
    SigningKeyStore,
    TokenStore,
    TrustStore,
)
from anti_grazer.reports.ports import ReportStore
from anti_grazer.store.changes import ListenForChanges, OnChange, OnGap
from anti_grazer.store.sql.assertion_replays import SqlAssertionReplayStore
from anti_grazer.store.sql.audit import SqlAuditStore
from anti_grazer.store.sql.schema_version import SchemaNotCurrentError
from anti_grazer.store.sql.signing_keys import SqlSigningKeyStore
from anti_grazer.store.sql.trust import SqlTrustStore

__all__ = ["OpenedStores", "SchemaNotCurrentError", "open_stores"]


@dataclass(frozen=True, slots=True)
class OpenedStores:
    """The storage ports over one open database, and its engine (for the schema, and for
    tests that look at the rows)."""

    engine: AsyncEngine
    clients: ClientStore
    tokens: TokenStore
    reports: ReportStore
    # Other processes' changes, for caches to drop (PostgreSQL NOTIFY; none on SQLite,
    # where the caches' time-to-live bounds what is missed).
    listen_for_changes: ListenForChanges
    # The keys that sign JWT access tokens (the same table on both backends).
    signing_keys: SigningKeyStore
    # The client assertions already used (the same table on both backends).
    assertion_replays: AssertionReplayStore
    # The audit trail's events.
    audit: AuditStore
    # Workload identity federation: trusted issuers and bindings (the same tables on
    # both backends).
    trust: TrustStore


@asynccontextmanager
async def no_changes(_on_change: OnChange, _on_gap: OnGap) -> AsyncIterator[None]:
    """A database that announces no changes (SQLite)."""
    yield


@asynccontextmanager
async def open_stores(
    database_url: str,
    *,
    sqlite_synchronous: str = "FULL",
    migrate_sqlite: bool = True,
    metrics: Metrics = NO_METRICS,
) -> AsyncIterator[OpenedStores]:
    """Open the database at ``database_url`` with the adapter of its backend; a SQLite
    file is migrated to the newest schema on the spot (unless ``migrate_sqlite`` is
    false), any other database must already be.  ``sqlite_synchronous`` (``FULL`` or
    ``NORMAL``) is SQLite's durability level; ``metrics`` counts the group commits."""
    backend = make_url(database_url).get_backend_name()
    if backend == "sqlite":
        from anti_grazer.store.sqlite.runtime import open_sqlite_stores  # noqa: PLC0415

        async with open_sqlite_stores(
            database_url, synchronous=sqlite_synchronous, migrate=migrate_sqlite, metrics=metrics
        ) as sqlite:
            yield OpenedStores(
                sqlite.engine,
                sqlite.clients,
                sqlite.tokens,
                sqlite.reports,
                no_changes,
                SqlSigningKeyStore(sqlite.engine),
                sqlite.assertion_replays,
                sqlite.audit,
                SqlTrustStore(sqlite.engine),
            )
    elif backend == "postgresql":
        from anti_grazer.store.postgres.notify import listening  # noqa: PLC0415
        from anti_grazer.store.postgres.runtime import open_postgres_stores  # noqa: PLC0415

        async with open_postgres_stores(database_url, metrics) as postgres:
            yield OpenedStores(
                postgres.engine,
                postgres.clients,
                postgres.tokens,
                postgres.reports,
                functools.partial(listening, database_url),
                SqlSigningKeyStore(postgres.engine),
                SqlAssertionReplayStore(postgres.engine),
                SqlAuditStore(postgres.engine),
                SqlTrustStore(postgres.engine),
            )
    else:
        raise ValueError(f"unsupported database {backend!r} (SQLite or PostgreSQL)")
