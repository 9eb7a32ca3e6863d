"""Keys the server makes for itself, kept in the ``server_keys`` table so that every
worker and instance on the database uses the same one: the first to need a key generates
it, all others read it."""

from __future__ import annotations

import secrets

from sqlalchemy import Select, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.tables import server_keys

KEY_BYTES = 32


def _key_named(name: str) -> Select[bytes]:
    return select(server_keys.c.secret).where(server_keys.c.name == name)


async def shared_key(engine: AsyncEngine, name: str) -> bytes:
    """The key called ``name``; when there is none yet, ``KEY_BYTES`` random bytes are
    stored first.  Processes starting together may all try: the primary key keeps the
    first insert, and every one then reads that."""
    async with engine.connect() as connection:
        stored = (await connection.execute(_key_named(name))).scalar()
    if stored is not None:
        return stored
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(server_keys).values(name=name, secret=secrets.token_bytes(KEY_BYTES))
            )
    except IntegrityError:
        pass  # another process stored it first
    async with engine.connect() as connection:
        return (await connection.execute(_key_named(name))).scalar_one()
