"""Async engines: SQLite in WAL mode with foreign keys on, or a pooled PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from anti_grazer.store.sql.private_file import create_private_file

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


SQLITE_READERS = 4


def sqlite_pragmas(synchronous: str) -> tuple[str, ...]:
    """The pragmas every SQLite connection of ours runs first."""
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"unsupported SQLite synchronous level {synchronous!r}")
    return (*SQLITE_PRAGMAS, f"PRAGMA synchronous={synchronous}")


def sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return str(Path(database).expanduser())


def is_sqlite(url: str) -> bool:
    """True for a ``sqlite`` database URL, whatever the driver."""
    return make_url(url).get_backend_name() == "sqlite"


def create_sqlite_file(url: str) -> None:
    """Create the database file of a SQLite URL, private to its owner (``private_file``),
    if it does not exist yet.  SQLite creates its ``-wal``, ``-shm`` and ``-journal``
    files with the database file's permissions, so they are private too."""
    database = sqlite_file(url)
    if database is not None:
        create_private_file(Path(database))


def _postgres_connect_args(url: str) -> dict[str, Any]:
    """asyncpg session settings: UTC sessions (timestamps are ``timestamptz``, so this only
    fixes how the server renders them, e.g. in logs) and a name in ``pg_stat_activity``."""
    if make_url(url).get_driver_name() != "asyncpg":
        return {}
    return {"server_settings": {"application_name": "anti-grazer", "timezone": "UTC"}}


def create_engine(
    url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 10
) -> AsyncEngine:
    """Create the async engine for ``url``.

    SQLite gets WAL journaling, enforced foreign keys, a busy timeout and the given
    ``synchronous`` level (``FULL``: a commit survives power loss; ``NORMAL``: it survives
    a process crash only).  A missing SQLite file is created 0600 (its missing folders
    0700) before SQLite opens it.  PostgreSQL gets a pool of ``pool_size`` connections (as
    many again in overflow) per process, SQLite a pool of ``SQLITE_READERS``.
    """
    if not is_sqlite(url):
        return create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            # A connection dropped by a database restart or failover is replaced on
            # checkout instead of failing one request; idle ones are renewed hourly.
            pool_pre_ping=True,
            pool_recycle=3600,
            hide_parameters=True,
            connect_args=_postgres_connect_args(url),
        )
    create_sqlite_file(url)
    # Mostly reads (token writes go through the writer thread): four connections, none
    # in overflow.  Each is a thread of aiosqlite's with its own page cache, and the
    # default pool (5 + 10 overflow) grew to 15 under concurrent cache misses and kept
    # 3 MiB of the worker's memory afterwards (bench/run, revocation of live tokens).
    engine = create_async_engine(
        url, hide_parameters=True, pool_size=SQLITE_READERS, max_overflow=0
    )
    pragmas = sqlite_pragmas(sqlite_synchronous)

    @event.listens_for(engine.sync_engine, "connect")
    def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    return engine
