"""What the SQLite and PostgreSQL adapters of the ``ClientStore`` and ``TokenStore``
ports share.  Client writes run through the engine on both backends; how a row is read,
how a token is written, and who hears of a change differ, and each adapter supplies them
(``store.sqlite.stores``, ``store.postgres.stores``)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.protocol.models import (
    Client,
    ClientLimits,
    ClientSecret,
    TokenRecord,
    rotated_secrets,
)
from anti_grazer.store.errors import DuplicateClientError, UnknownClientError
from anti_grazer.store.sql.rows import (
    client_from_row,
    client_from_rows,
    client_row,
    limits_row,
    secret_from_row,
    secret_row,
    token_from_row,
)
from anti_grazer.store.sql.tables import CLIENT_LIMIT_COLUMNS, client_secrets, clients


class SqlClientStore(ABC):
    """Clients in the ``clients`` table, written through ``engine``.  An adapter reads a
    client's row (``_client_row``) and announces changes to the other server instances
    if it can (``_client_changed``, ``_client_deleted``), in the transactions that make
    them."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @abstractmethod
    async def _client_rows(self, client_id: str) -> Sequence[Any]:
        """The rows of ``CLIENT_BY_ID`` (``store.sql.statements``): none for an unknown
        client."""

    @abstractmethod
    async def _client_changed(self, connection: AsyncConnection, client_id: str) -> None:
        """Inside the transaction that creates or changes the client: tell the other
        server instances, if the backend can."""

    @abstractmethod
    async def _client_deleted(self, connection: AsyncConnection, client_id: str) -> None:
        """Inside the transaction that deletes the client (and, with it, its tokens):
        tell the other server instances, if the backend can."""

    async def get_client(self, client_id: str) -> Client | None:
        if "\x00" in client_id:  # PostgreSQL text cannot hold NUL: no stored id has one
            return None
        rows = await self._client_rows(client_id)
        return client_from_rows(rows) if rows else None

    async def add_client(self, client: Client) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(insert(clients).values(client_row(client)))
                for secret in client.secrets:
                    row = secret_row(client.client_id, secret)
                    await connection.execute(insert(client_secrets).values(row))
                await self._client_changed(connection, client.client_id)
        except IntegrityError:
            raise DuplicateClientError(client.client_id) from None

    async def update_client(self, client: Client) -> None:
        row = client_row(client)
        # The creation time is set once; the limits change through set_limits only.
        for kept in ("client_id", "created_at", *CLIENT_LIMIT_COLUMNS):
            del row[kept]
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(clients).where(clients.c.client_id == client.client_id).values(row)
            )
            await self._client_changed(connection, client.client_id)
        if result.rowcount == 0:
            raise UnknownClientError(client.client_id)

    async def set_limits(self, client_id: str, limits: ClientLimits, now: datetime) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                update(clients)
                .where(clients.c.client_id == client_id)
                .values(updated_at=now, **limits_row(limits))
            )
            await self._client_changed(connection, client_id)
        return result.rowcount > 0

    async def delete_client(self, client_id: str) -> bool:
        async with self.engine.begin() as connection:
            result = await connection.execute(
                delete(clients).where(clients.c.client_id == client_id)
            )
            await self._client_deleted(connection, client_id)
        return result.rowcount > 0

    async def add_secret(
        self, client_id: str, secret: ClientSecret, now: datetime, previous_until: datetime
    ) -> bool:
        async with self.engine.begin() as connection:
            # The client's row locked (PostgreSQL; SQLite's writer lock serialises),
            # so that two concurrent rotations cannot leave three live secrets.
            found = await connection.execute(
                select(clients.c.client_id)
                .where(clients.c.client_id == client_id)
                .with_for_update()
            )
            if found.first() is None:
                return False
            existing = await self._secrets(connection, client_id)
            kept = rotated_secrets(existing, now, previous_until)
            await connection.execute(
                delete(client_secrets).where(client_secrets.c.client_id == client_id)
            )
            for row in [secret_row(client_id, s) for s in (*kept, secret)]:
                await connection.execute(insert(client_secrets).values(row))
            await self._client_changed(connection, client_id)
        return True

    async def end_previous_secrets(self, client_id: str, now: datetime) -> int:
        async with self.engine.begin() as connection:
            existing = await self._secrets(connection, client_id)
            live = [s for s in existing if s.is_live(now)]
            kept = {s.secret_id for s in live[-1:]}
            await connection.execute(
                delete(client_secrets).where(
                    (client_secrets.c.client_id == client_id)
                    & client_secrets.c.secret_id.not_in(kept)
                )
            )
            await self._client_changed(connection, client_id)
        return max(0, len(live) - 1)

    async def record_secret_use(self, client_id: str, secret_id: str, when: datetime) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(
                update(client_secrets)
                .where(
                    (client_secrets.c.secret_id == secret_id)
                    & (client_secrets.c.client_id == client_id)
                )
                .values(last_used_at=when)
            )

    @staticmethod
    async def _secrets(connection: AsyncConnection, client_id: str) -> list[ClientSecret]:
        result = await connection.execute(
            select(client_secrets)
            .where(client_secrets.c.client_id == client_id)
            .order_by(client_secrets.c.created_at, client_secrets.c.secret_id)
        )
        return [secret_from_row(row) for row in result]

    async def list_clients(self) -> Sequence[Client]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                select(clients).order_by(clients.c.created_at, clients.c.client_id)
            )
            rows = list(result)
            secrets: dict[str, list[ClientSecret]] = {}
            for row in await connection.execute(
                select(client_secrets).order_by(
                    client_secrets.c.created_at, client_secrets.c.secret_id
                )
            ):
                secrets.setdefault(row.client_id, []).append(secret_from_row(row))
            return [client_from_row(row, tuple(secrets.get(row.client_id, ()))) for row in rows]


class SqlTokenStore(ABC):
    """Access token records in the ``access_tokens`` table, keyed by digest.  An adapter
    writes them (``add_token`` returns only once the token is committed, in a transaction
    that found its client enabled), reads a record's row (``_token_row``) and deletes a
    batch of expired ones (``_purge_batch``, ``_between_purge_batches``)."""

    @abstractmethod
    async def add_token(self, record: TokenRecord) -> None: ...

    @abstractmethod
    async def revoke_token(
        self,
        digest: str,
        client_id: str | None,
        now: datetime,
        audit: AuditEvent | None = None,
    ) -> bool: ...

    @abstractmethod
    async def revoke_client_tokens(self, client_id: str, now: datetime) -> int: ...

    @abstractmethod
    async def _token_row(self, digest: str) -> Any | None:
        """The row of ``TOKEN_BY_DIGEST`` (``store.sql.statements``), or None."""

    @abstractmethod
    async def _purge_batch(self, now: datetime, batch_size: int) -> int:
        """Delete up to ``batch_size`` tokens expired at ``now`` in one transaction;
        return how many went."""

    @abstractmethod
    async def _between_purge_batches(self) -> None:
        """After a full batch, before the next one."""

    @abstractmethod
    async def _last_jwt_expiry_row(self, values: dict[str, Any]) -> Any | None:
        """The row of ``LAST_JWT_EXPIRY`` (``store.sql.statements``) for ``values``."""

    async def get_token(self, digest: str) -> TokenRecord | None:
        row = await self._token_row(digest)
        return token_from_row(row) if row is not None else None

    async def last_jwt_expiry(
        self, issued_from: datetime, issued_until: datetime
    ) -> datetime | None:
        values = {"issued_from": issued_from, "issued_until": issued_until}
        row = await self._last_jwt_expiry_row(values)
        last: datetime | None = None if row is None else row.last_expiry
        return last

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        if batch_size <= 0:
            raise ValueError("batch_size must be positive")
        total = 0
        while True:
            purged = await self._purge_batch(now, batch_size)
            total += purged
            if purged < batch_size:
                return total
            await self._between_purge_batches()
