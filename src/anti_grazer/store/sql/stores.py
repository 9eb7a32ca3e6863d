"""SQL adapters for the ``ClientStore`` and ``TokenStore`` ports."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.models import Client, Scopes, TokenRecord
from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.errors import DuplicateClientError, UnknownClientError
from anti_grazer.store.sql import notify
from anti_grazer.store.sql.engine import sqlite_file, sqlite_pragmas
from anti_grazer.store.sql.group_commit import GroupCommitInserter, RowRejectedError
from anti_grazer.store.sql.lookup import Lookup
from anti_grazer.store.sql.notify import publish
from anti_grazer.store.sql.sqlite_reader import SqliteReader
from anti_grazer.store.sql.tables import access_tokens, clients
from anti_grazer.store.sql.token_writes import (
    FIND_TOKEN,
    INSERT_TOKEN,
    REVOKE_CLIENT_TOKENS,
    REVOKE_TOKEN,
    SqliteTokenWrites,
    purge_batch,
)

SQLITE_PURGE_PAUSE_SECONDS = 0.025

_CLIENT_BY_ID = select(clients).where(clients.c.client_id == bindparam("client_id"))
_TOKEN_BY_DIGEST = select(access_tokens).where(access_tokens.c.digest == bindparam("digest"))


def _join(values: Scopes) -> str:
    return " ".join(sorted(values))


def _split(value: str) -> Scopes:
    return frozenset(value.split()) if value else frozenset()


def _client_row(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "secret_digest": client.secret_digest,
        "allowed_scopes": _join(client.allowed_scopes),
        "default_scopes": _join(client.default_scopes),
        "grant_types": _join(client.grant_types),
        "token_ttl_seconds": client.token_ttl_seconds,
        "enabled": client.enabled,
        "created_at": client.created_at,
        "updated_at": client.updated_at,
    }


def _client_from_row(row: Any) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        secret_digest=row.secret_digest,
        allowed_scopes=_split(row.allowed_scopes),
        default_scopes=_split(row.default_scopes),
        grant_types=_split(row.grant_types),
        token_ttl_seconds=row.token_ttl_seconds,
        enabled=row.enabled,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _token_from_row(row: Any) -> TokenRecord:
    return TokenRecord(
        digest=row.digest,
        client_id=row.client_id,
        scopes=_split(row.scope),
        issued_at=row.issued_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


class SqlClientStore:
    """Clients in the ``clients`` table; ``get_client`` runs on ``reader`` if given."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader | None = None) -> None:
        self.engine = engine
        self._by_id = Lookup(_CLIENT_BY_ID, engine, reader)

    async def get_client(self, client_id: str) -> Client | None:
        if "\x00" in client_id:  # PostgreSQL text cannot hold NUL: no stored id has one
            return None
        row = await self._by_id({"client_id": client_id})
        return _client_from_row(row) if row is not None else None

    async def add_client(self, client: Client) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(clients).values(_client_row(client)))
                # Instances that remembered the id as unknown forget it.
                await publish(connection, notify.CLIENT, client.client_id)
        except IntegrityError:
            raise DuplicateClientError(client.client_id) from None

    async def update_client(self, client: Client) -> None:
        row = _client_row(client)
        del row["client_id"], row["created_at"]
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(clients).where(clients.c.client_id == client.client_id).values(row)
            )
            await publish(connection, notify.CLIENT, client.client_id)
        if result.rowcount == 0:
            raise UnknownClientError(client.client_id)

    async def delete_client(self, client_id: str) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(clients).where(clients.c.client_id == client_id)
            )
            await publish(connection, notify.CLIENT, client_id)
            await publish(connection, notify.CLIENT_TOKENS, client_id)
        return result.rowcount > 0

    async def list_clients(self) -> Sequence[Client]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(clients).order_by(clients.c.created_at, clients.c.client_id)
            )
            return [_client_from_row(row) for row in result]


class SqlTokenStore:
    """Access token records in the ``access_tokens`` table, keyed by digest.

    Writes are grouped: on SQLite they all run on one writer thread, on PostgreSQL token
    inserts share transactions (group commit); either way a caller returns only once its
    write has committed.  ``get_token`` runs on ``reader`` if given."""

    def __init__(
        self,
        engine: AsyncEngine,
        sqlite_synchronous: str = "FULL",
        *,
        reader: SqliteReader | None = None,
    ) -> None:
        self.engine = engine
        self._by_digest = Lookup(_TOKEN_BY_DIGEST, engine, reader)
        path = sqlite_file(engine.url.render_as_string(hide_password=False))
        self._sqlite = (
            SqliteTokenWrites(path, engine.dialect, list(sqlite_pragmas(sqlite_synchronous)))
            if engine.dialect.name == "sqlite" and path is not None
            else None
        )
        self._inserter = GroupCommitInserter(engine, INSERT_TOKEN, access_tokens.c.digest)

    def close(self) -> None:
        """Stop the SQLite writer thread, once what it was given is committed."""
        if self._sqlite is not None:
            self._sqlite.close()

    async def add_token(self, record: TokenRecord) -> None:
        row = {
            "digest": record.digest,
            "client_id": record.client_id,
            "scope": _join(record.scopes),
            "issued_at": record.issued_at,
            "expires_at": record.expires_at,
            "revoked_at": record.revoked_at,
        }
        if self._sqlite is not None:
            if not await self._sqlite.insert(row):
                raise InactiveClientError(record.client_id)
            return
        try:
            await self._inserter.insert(row)
        except RowRejectedError:
            raise InactiveClientError(record.client_id) from None

    async def get_token(self, digest: str) -> TokenRecord | None:
        row = await self._by_digest({"digest": digest})
        return _token_from_row(row) if row is not None else None

    async def revoke_token(self, digest: str, client_id: str | None, now: datetime) -> bool:
        values = {"token_digest": digest, "owner": client_id, "now": now}
        if self._sqlite is not None:
            return await self._sqlite.revoke(values)
        async with self.engine.begin() as connection:
            if (await connection.execute(REVOKE_TOKEN, values)).rowcount:
                await publish(connection, notify.TOKEN, digest)
                return True
            # Already revoked, someone else's, or unknown: only the first stands revoked.
            return (await connection.execute(FIND_TOKEN, values)).first() is not None

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        values = {"owner": client_id, "now": now}
        if self._sqlite is not None:
            return await self._sqlite.revoke_client(values)
        async with self.engine.begin() as connection:
            result = await connection.execute(REVOKE_CLIENT_TOKENS, values)
            await publish(connection, notify.CLIENT_TOKENS, client_id)
        return result.rowcount

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        total = 0
        while True:
            if self._sqlite is not None:
                purged = await self._sqlite.purge_batch(now, batch_size)
            else:
                async with self.engine.begin() as connection:
                    purged = (await connection.execute(purge_batch(now, batch_size))).rowcount
            total += purged
            if purged < batch_size:
                return total
            if self._sqlite is not None:
                # Another process (the CLI) may write to this file too: leave the write
                # lock free now and then for its token writer.
                await asyncio.sleep(SQLITE_PURGE_PAUSE_SECONDS)
