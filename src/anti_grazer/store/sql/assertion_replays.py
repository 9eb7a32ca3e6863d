"""The ``AssertionReplayStore`` port over the ``client_assertion_jtis`` table, the same on
SQLite and PostgreSQL, every statement through the engine: remembering is one INSERT,
whose primary-key conflict is the replay, so two instances that see the same assertion
at once cannot both accept it (the database decides)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.tables import client_assertion_jtis

_jtis = client_assertion_jtis.c


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
                batch = (
                    select(_jtis.key).where(_jtis.expires_at <= now).limit(batch_size)
                ).scalar_subquery()
                result = await connection.execute(
                    delete(client_assertion_jtis).where(_jtis.key.in_(batch))
                )
            total += result.rowcount
            if result.rowcount < batch_size:
                return total
