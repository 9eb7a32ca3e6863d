"""The PostgreSQL adapters of the ``ClientStore`` and ``TokenStore`` ports: everything
through the engine (asyncpg), token inserts grouped into shared transactions
(``inserter``), and every change announced to the other server instances with ``NOTIFY``
in the transaction that makes it (``notify``), so that their caches drop it at once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.ports import InactiveClientError, Metrics
from anti_grazer.store import changes
from anti_grazer.store.postgres.inserter import GroupCommitInserter, RowRejectedError
from anti_grazer.store.postgres.notify import publish
from anti_grazer.store.sql.audit import INSERT_EVENT, audit_row
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
from anti_grazer.store.sql.tables import access_tokens


async def first_row(engine: AsyncEngine, statement: Select[Any], values: dict[str, Any]) -> Any:
    """The first row of ``statement`` for ``values``, or None."""
    async with engine.connect() as connection:
        return (await connection.execute(statement, values)).first()


class PostgresClientStore(SqlClientStore):
    """Clients in PostgreSQL; each change is announced to the other instances."""

    async def _client_rows(self, client_id: str) -> Sequence[Any]:
        async with self.engine.connect() as connection:
            return list(await connection.execute(CLIENT_BY_ID, {"client_id": client_id}))

    async def _client_changed(self, connection: AsyncConnection, client_id: str) -> None:
        # Instances that remembered the id as unknown forget it too.
        await publish(connection, changes.CLIENT, client_id)

    async def _client_deleted(self, connection: AsyncConnection, client_id: str) -> None:
        await publish(connection, changes.CLIENT, client_id)
        await publish(connection, changes.CLIENT_TOKENS, client_id)


class PostgresTokenStore(SqlTokenStore):
    """Token records in PostgreSQL.  Concurrent inserts share a transaction (group
    commit); a caller returns only once its token has committed."""

    def __init__(self, engine: AsyncEngine, metrics: Metrics = NO_METRICS) -> None:
        self.engine = engine
        self._inserter = GroupCommitInserter(
            engine, INSERT_TOKEN, access_tokens.c.digest, metrics=metrics
        )

    async def add_token(self, record: TokenRecord) -> None:
        try:
            await self._inserter.insert(token_row(record))
        except RowRejectedError:  # its client is unknown or disabled
            raise InactiveClientError(record.client_id) from None

    async def _token_row(self, digest: str) -> Any | None:
        return await first_row(self.engine, TOKEN_BY_DIGEST, {"digest": digest})

    async def _last_jwt_expiry_row(self, values: dict[str, Any]) -> Any | None:
        return await first_row(self.engine, LAST_JWT_EXPIRY, values)

    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool:
        values = revocation_values(digest, client_id, now)
        async with self.engine.begin() as connection:
            if (await connection.execute(REVOKE_TOKEN, values)).rowcount:
                if audit is not None:
                    await connection.execute(INSERT_EVENT, audit_row(audit))
                await publish(connection, changes.TOKEN, digest)
                return True
            # Already revoked, someone else's, or unknown: only the first stands revoked.
            return (await connection.execute(FIND_TOKEN, values)).first() is not None

    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                REVOKE_CLIENT_TOKENS, client_revocation_values(client_id, now)
            )
            await publish(connection, changes.CLIENT_TOKENS, client_id)
        return result.rowcount

    async def _purge_batch(self, now: datetime, batch_size: int) -> int:
        async with self.engine.begin() as connection:
            purged: int = (await connection.execute(purge_batch(now, batch_size))).rowcount
        return purged

    async def _between_purge_batches(self) -> None:
        """No pause: a purge batch locks only its own rows, and concurrent purgers (one
        per instance) skip each other's (``purge_batch``)."""
