"""The SQLite adapter of the ``AssertionReplayStore`` port: every write on the writer
thread, as the token writes (``store.sqlite.stores``), so that a token request's
assertion and its token share the batch's one commit (through the engine, each would
pay a transaction and a disk flush of its own).  ``INSERT OR IGNORE``: a key already
there, by this process or another, inserts nothing, and that is the replay."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import Dialect, bindparam, insert

from anti_grazer.store.sql.prepared import Prepared
from anti_grazer.store.sql.statements import purge_assertions_batch
from anti_grazer.store.sql.tables import client_assertion_jtis
from anti_grazer.store.sqlite.stores import PURGE_PAUSE_SECONDS
from anti_grazer.store.sqlite.writer import SqliteWriter

_INSERT_IF_ABSENT = (
    insert(client_assertion_jtis)
    .prefix_with("OR IGNORE")
    .values(key=bindparam("key"), expires_at=bindparam("expires_at"))
)


class SqliteAssertionReplayStore:
    """Used client assertions in a SQLite file, written on ``writer``."""

    def __init__(self, dialect: Dialect, writer: SqliteWriter) -> None:
        self._dialect = dialect
        self._writer = writer
        self._insert = Prepared(_INSERT_IF_ABSENT, dialect)

    async def remember(self, key: str, expires_at: datetime) -> bool:
        sql = self._insert.sql
        params = self._insert.params({"key": key, "expires_at": expires_at})
        added: int = await self._writer.run(lambda c: c.execute(sql, params).rowcount)
        return added == 1

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        prepared = Prepared(purge_assertions_batch(now, batch_size), self._dialect)
        sql, params = prepared.sql, prepared.params({})
        total = 0
        while True:
            purged: int = await self._writer.run(lambda c: c.execute(sql, params).rowcount)
            total += purged
            if purged < batch_size:
                return total
            await asyncio.sleep(PURGE_PAUSE_SECONDS)  # the write lock free for others
