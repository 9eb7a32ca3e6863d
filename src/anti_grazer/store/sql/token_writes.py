"""The token table's write statements, shared by both backends, and their SQLite form
run on the single writer thread (``sqlite_writer``)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Delete,
    Dialect,
    Insert,
    Select,
    String,
    Update,
    bindparam,
    delete,
    exists,
    insert,
    or_,
    select,
    update,
)

from anti_grazer.store.sql.prepared import Prepared
from anti_grazer.store.sql.tables import access_tokens, clients
from anti_grazer.store.sqlite.writer import SqliteWriter

# Bound names differ from column names: those are reserved in UPDATE statements.
_owner = bindparam("owner", type_=String)
# The token ``token_digest``, held by ``owner`` (or by anyone when ``owner`` is None).
_THE_TOKEN = (access_tokens.c.digest == bindparam("token_digest", type_=String)) & or_(
    _owner.is_(None), access_tokens.c.client_id == _owner
)


def insert_token_of_enabled_client() -> Insert:
    """``INSERT INTO access_tokens SELECT <row> WHERE <its client exists and is enabled>``:
    a token is stored only if its client is still enabled when the insert commits, so no
    token outlives a disable (which revokes the client's tokens) that raced its issuance."""
    names = [column.name for column in access_tokens.columns]
    values = {name: bindparam(name, type_=access_tokens.c[name].type) for name in names}
    enabled_client = exists().where(
        (clients.c.client_id == values["client_id"]) & clients.c.enabled.is_(True)
    )
    return insert(access_tokens).from_select(names, select(*values.values()).where(enabled_client))


INSERT_TOKEN = insert_token_of_enabled_client()
# Revoke (params: token_digest, owner, now); stamps only the first revocation.
REVOKE_TOKEN: Update = (
    update(access_tokens)
    .where(_THE_TOKEN & access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=access_tokens.c.revoked_at.type))
)
FIND_TOKEN: Select[Any] = select(access_tokens.c.digest).where(_THE_TOKEN)
REVOKE_CLIENT_TOKENS: Update = (
    update(access_tokens)
    .where((access_tokens.c.client_id == _owner) & access_tokens.c.revoked_at.is_(None))
    .values(revoked_at=bindparam("now", type_=access_tokens.c.revoked_at.type))
)


def purge_batch(now: datetime, batch_size: int) -> Delete:
    """Delete up to ``batch_size`` tokens expired at ``now``."""
    batch = (
        select(access_tokens.c.digest)
        .where(access_tokens.c.expires_at <= now)
        .limit(batch_size)
        # PostgreSQL: concurrent purgers (one per instance) take disjoint batches
        # instead of queueing on each other's row locks; SQLite ignores it.
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return delete(access_tokens).where(access_tokens.c.digest.in_(batch))


class SqliteTokenWrites:
    """The token writes of a SQLite database, all on its one writer thread: no two of our
    writers ever wait for each other's lock, and concurrent ones share a commit."""

    def __init__(self, path: str, dialect: Dialect, pragmas: list[str]) -> None:
        self.writer = SqliteWriter(path, pragmas)
        self.dialect = dialect
        self._insert = Prepared(INSERT_TOKEN, dialect)
        self._revoke = Prepared(REVOKE_TOKEN, dialect)
        self._find = Prepared(FIND_TOKEN, dialect)
        self._revoke_client = Prepared(REVOKE_CLIENT_TOKENS, dialect)

    async def insert(self, row: dict[str, Any]) -> bool:
        """Store the token row; False if its client is unknown or disabled."""
        sql, params = self._insert.sql, self._insert.params(row)
        stored: int = await self.writer.run(lambda c: c.execute(sql, params).rowcount)
        return stored > 0

    async def revoke(self, values: dict[str, Any]) -> bool:
        """Revoke the token; True if it exists (for that client) and now stands revoked."""
        revoke, found = self._revoke, self._find

        def operation(connection: sqlite3.Connection) -> bool:
            if connection.execute(revoke.sql, revoke.params(values)).rowcount:
                return True
            return connection.execute(found.sql, found.params(values)).fetchone() is not None

        return await self.writer.run(operation)

    async def revoke_client(self, values: dict[str, Any]) -> int:
        sql, params = self._revoke_client.sql, self._revoke_client.params(values)
        revoked: int = await self.writer.run(lambda c: c.execute(sql, params).rowcount)
        return revoked

    async def purge_batch(self, now: datetime, batch_size: int) -> int:
        prepared = Prepared(purge_batch(now, batch_size), self.dialect)
        sql, params = prepared.sql, prepared.params({})
        purged: int = await self.writer.run(lambda c: c.execute(sql, params).rowcount)
        return purged

    def close(self) -> None:
        self.writer.close()
