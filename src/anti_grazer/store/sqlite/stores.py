"""The SQLite adapters of the ``ClientStore`` and ``TokenStore`` ports: every read on the
reader thread (``reader``), every token write on the writer thread (``writer``: no two of
our token writers wait for each other's lock, and concurrent ones share a commit), client
writes through the engine (``SqlClientStore``).  SQLite has no channel to tell other
processes of a change: their caches' time-to-live bounds how late they see it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.sql.audit import INSERT_EVENT, audit_row
from anti_grazer.store.sql.prepared import Prepared, PreparedQuery
from anti_grazer.store.sql.rows import token_row
from anti_grazer.store.sql.statements import (
    CLIENT_BY_ID,
    FIND_TOKEN,
    INSERT_TOKEN,
    LAST_JWT_EXPIRY,
    REVOKE_CLIENT_TOKENS,
    REVOKE_TOKEN,
    TOKEN_BY_DIGEST,
    client_revocation_values,
    purge_batch,
    revocation_values,
)
from anti_grazer.store.sql.stores import SqlClientStore, SqlTokenStore
from anti_grazer.store.sqlite.reader import SqliteReader
from anti_grazer.store.sqlite.writer import SqliteWriter

PURGE_PAUSE_SECONDS = 0.025


class SqliteClientStore(SqlClientStore):
    """Clients in a SQLite file; ``get_client`` runs on ``reader``."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader) -> None:
        super().__init__(engine)
        self._reader = reader
        self._by_id = PreparedQuery(CLIENT_BY_ID, engine.dialect)

    async def _client_rows(self, client_id: str) -> Sequence[Any]:
        return await self._reader.all(self._by_id, {"client_id": client_id})

    async def _client_changed(self, connection: AsyncConnection, client_id: str) -> None:
        """Nothing to tell: other processes see the change when their cache entry
        expires (module docstring)."""

    async def _client_deleted(self, connection: AsyncConnection, client_id: str) -> None:
        """Nothing to tell, as for a change."""


class SqliteTokenStore(SqlTokenStore):
    """Token records in a SQLite file: written on ``writer``, read on ``reader``, each
    statement compiled once for ``dialect`` (``Prepared``)."""

    def __init__(self, dialect: Dialect, reader: SqliteReader, writer: SqliteWriter) -> None:
        self._dialect = dialect
        self._reader = reader
        self._writer = writer
        self._by_digest = PreparedQuery(TOKEN_BY_DIGEST, dialect)
        self._last_jwt_expiry = PreparedQuery(LAST_JWT_EXPIRY, dialect)
        self._insert = Prepared(INSERT_TOKEN, dialect)
        self._revoke = Prepared(REVOKE_TOKEN, dialect)
        self._find = Prepared(FIND_TOKEN, dialect)
        self._record_event = Prepared(INSERT_EVENT, dialect)
        self._revoke_client = Prepared(REVOKE_CLIENT_TOKENS, dialect)

    async def add_token(self, record: TokenRecord) -> None:
        sql, params = self._insert.sql, self._insert.params(token_row(record))
        stored: int = await self._writer.run(lambda c: c.execute(sql, params).rowcount)
        if not stored:  # its client is unknown or disabled
            raise InactiveClientError(record.client_id)

    async def _token_row(self, digest: str) -> Any | None:
        return await self._reader.first(self._by_digest, {"digest": digest})

    async def _last_jwt_expiry_row(self, values: dict[str, Any]) -> Any | None:
        return await self._reader.first(self._last_jwt_expiry, values)

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        values = revocation_values(digest, client_id, now)
        revoke, found, record_event = self._revoke, self._find, self._record_event
        event = record_event.params(audit_row(audit)) if audit is not None else None

        def operation(connection: sqlite3.Connection) -> bool:
            if connection.execute(revoke.sql, revoke.params(values)).rowcount:
                if event is not None:
                    connection.execute(record_event.sql, event)
                return True
            # Already revoked, someone else's, or unknown: only the first stands revoked.
            return connection.execute(found.sql, found.params(values)).fetchone() is not None

        return await self._writer.run(operation)

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        values = client_revocation_values(client_id, now)
        sql, params = self._revoke_client.sql, self._revoke_client.params(values)
        revoked: int = await self._writer.run(lambda c: c.execute(sql, params).rowcount)
        return revoked

    async def _purge_batch(self, now: datetime, batch_size: int) -> int:
        prepared = Prepared(purge_batch(now, batch_size), self._dialect)
        sql, params = prepared.sql, prepared.params({})
        purged: int = await self._writer.run(lambda c: c.execute(sql, params).rowcount)
        return purged

    async def _between_purge_batches(self) -> None:
        # Another process (the CLI) may write to this file too: leave the write lock free
        # now and then for its token writer.
        await asyncio.sleep(PURGE_PAUSE_SECONDS)
