"""The ``AssertionReplayStore`` port over the ``assertion_replay`` table, the same on
SQLite and PostgreSQL: an assertion's key is remembered by inserting it, and its primary
key makes the insert the atomic check (of concurrent inserts of one key, on any
instance, one commits and the others fail)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.tables import assertion_replay

_replay = assertion_replay.c


class SqlAssertionReplayStore:
    """Used assertions' keys in ``engine``'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def remember(self, key: str, expires_at: datetime) -> bool:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(assertion_replay).values(key=key, expires_at=expires_at)
                )
        except IntegrityError:  # remembered already: a replay
            return False
        return True

    async def purge_expired(self, now: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(assertion_replay).where(_replay.expires_at <= now)
            )
        return result.rowcount
