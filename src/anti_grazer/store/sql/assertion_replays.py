"""The ``AssertionReplayStore`` port over the ``client_assertion_jtis`` table through the
engine (the PostgreSQL adapter; SQLite's writes on its writer thread,
``store.sqlite.assertion_replays``): remembering is one INSERT, whose primary-key
conflict is the replay, so two instances that see the same assertion at once cannot
both accept it (the database decides)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.statements import purge_assertions_batch
from anti_grazer.store.sql.tables import client_assertion_jtis


class SqlAssertionReplayStore:
    """Used client assertions in ``engine``'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def remember(self, key: str, expires_at: datetime) -> bool:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    insert(client_assertion_jtis).values(key=key, expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        total = 0
        while True:
            async with self.engine.begin() as connection:
                result = await connection.execute(purge_assertions_batch(now, batch_size))
            total += result.rowcount
            if result.rowcount < batch_size:
                return total
