"""The ``SigningKeyStore`` port over the ``signing_keys`` table, the same on SQLite and
PostgreSQL: every statement through the engine (keys change a few times a year and are
read once per cache period, so no reader thread nor group commit is worth its code)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.models import SigningKey
from anti_grazer.store.errors import DuplicateSigningKeyError
from anti_grazer.store.sql.rows import signing_key_from_row, signing_key_row
from anti_grazer.store.sql.tables import signing_keys

_keys = signing_keys.c
_ACTIVE = _keys.activated_at.is_not(None) & _keys.retired_at.is_(None)


class SqlSigningKeyStore:
    """Signing keys in the ``signing_keys`` table of ``engine``'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add_key(self, key: SigningKey) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(signing_keys).values(signing_key_row(key)))
        except IntegrityError:
            raise DuplicateSigningKeyError(key.kid) from None

    async def list_keys(self) -> Sequence[SigningKey]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(signing_keys).order_by(_keys.created_at, _keys.kid)
            )
            return [signing_key_from_row(row) for row in result]

    async def activate_key(self, kid: str, now: datetime, retired_until: datetime) -> bool:
        async with self.engine.begin() as connection:
            # Every key row locked (PostgreSQL; SQLite has one writer): two activations
            # run one after the other, and the second retires the first's key.
            states = {
                row.kid: row
                for row in await connection.execute(
                    select(_keys.kid, _keys.activated_at, _keys.retired_at).with_for_update()
                )
            }
            key = states.get(kid)
            if key is None or key.retired_at is not None:
                return False
            if key.activated_at is not None:
                return True
            await connection.execute(
                update(signing_keys)
                .where(_ACTIVE & (_keys.kid != kid))
                .values(retired_at=now, published_until=retired_until)
            )
            await connection.execute(
                update(signing_keys).where(_keys.kid == kid).values(activated_at=now)
            )
        return True

    async def retire_key(self, kid: str, now: datetime, published_until: datetime) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(signing_keys)
                # Never the active key, even if it became so since the caller looked.
                .where((_keys.kid == kid) & _keys.retired_at.is_(None))
                .where(_keys.activated_at.is_(None))
                .values(retired_at=now, published_until=published_until)
            )
        return result.rowcount > 0

    async def withdraw_key(self, kid: str, now: datetime) -> bool:
        async with self.engine.begin() as connection:
            found = await connection.execute(
                select(_keys.published_until).where(
                    (_keys.kid == kid) & _keys.retired_at.is_not(None)
                )
            )
            row = found.first()
            if row is None:
                return False
            if row.published_until is None or row.published_until > now:
                await connection.execute(
                    update(signing_keys).where(_keys.kid == kid).values(published_until=now)
                )
        return True

    async def delete_key(self, kid: str) -> bool:
        async with self.engine.begin() as connection:
            # Never the active key, even if it became so since the caller looked.
            active = _keys.activated_at.is_not(None) & _keys.retired_at.is_(None)
            result = await connection.execute(
                delete(signing_keys).where((_keys.kid == kid) & ~active)
            )
        return result.rowcount > 0
