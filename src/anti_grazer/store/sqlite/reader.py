"""One reader thread for SQLite (stdlib ``sqlite3``, ``thread``) for the reads on every
request: a token, a client, a profile.

Through the async engine each such read paid for a pool checkout and reset, a greenlet
switch, statement building and several aiosqlite thread hops, and those reads bounded
the protected GET's throughput (bench/).  Here the reads waiting together run in one read
transaction on the reader's own connection, each from a ``PreparedQuery``.  The
transaction starts after every one of them was asked for, so each sees every write
acknowledged before it (WAL readers never wait for the writer)."""

from __future__ import annotations

import sqlite3
from typing import Any

from anti_grazer.store.sql.prepared import PreparedQuery
from anti_grazer.store.sqlite.thread import SqliteThread


class SqliteReader(SqliteThread):
    """Runs read-only queries on the SQLite file ``path`` from one thread of its own."""

    thread_name = "anti-grazer-sqlite-reader"

    async def first(self, query: PreparedQuery, values: dict[str, Any]) -> Any | None:
        """The first row of ``query`` for ``values``, or None."""
        return await self.run(lambda connection: query.first(connection, values))

    async def all(self, query: PreparedQuery, values: dict[str, Any]) -> list[Any]:
        """Every row of ``query`` for ``values``."""
        return await self.run(lambda connection: query.all(connection, values))

    def _configure(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA query_only=ON")
