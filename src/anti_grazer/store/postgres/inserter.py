"""Group commit: concurrent inserts share one transaction (and one fsync).

Each caller waits until the transaction holding its row has committed, so nothing is
acknowledged before it is durable.  There is no timer: while one batch commits, new rows
queue up and go together in the next, so an idle server adds no latency and a busy one
pays one commit per batch instead of one per row."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Column, Insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Batch = list[tuple[dict[str, Any], asyncio.Future[None]]]


class RowRejectedError(Exception):
    """A conditional insert (``INSERT ... SELECT ... WHERE``) stored nothing for this row."""


class GroupCommitInserter:
    """Runs an insert statement for batches of rows, at most ``max_batch`` per
    transaction.  The statement may be conditional: a row it did not store (its ``key``
    value is not found in the table afterwards) fails with ``RowRejectedError``."""

    def __init__(
        self, engine: AsyncEngine, statement: Insert, key: Column[Any], max_batch: int = 256
    ) -> None:
        self.engine = engine
        self.statement = statement
        self.key = key
        self.max_batch = max_batch
        self._pending: Batch = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, row: dict[str, Any]) -> None:
        """Insert ``row``; return once its transaction has committed (or raise its error)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        await done

    async def _flush_all(self) -> None:
        batch: Batch = []
        try:
            while self._pending:
                batch = self._pending[: self.max_batch]
                del self._pending[: self.max_batch]
                await self._flush(batch)
        except BaseException:
            # Cancelled (shutdown) or worse: no caller may wait forever.
            waiting, self._pending = batch + self._pending, []
            _settle(waiting, RuntimeError("the insert was abandoned"))
            raise

    async def _flush(self, batch: Batch) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(self.statement, [row for row, _ in batch])
                stored = await self._stored_keys(connection, batch)
        except Exception as error:  # each waiter gets the batch's failure
            if len(batch) > 1:
                # One bad row must not fail its neighbours: retry them one by one.
                await self._insert_each(batch)
                return
            _settle(batch, error)
        else:
            self._settle_stored(batch, stored)

    async def _stored_keys(self, connection: AsyncConnection, batch: Batch) -> set[Any]:
        keys = [row[self.key.name] for row, _ in batch]
        result = await connection.execute(select(self.key).where(self.key.in_(keys)))
        return set(result.scalars())

    def _settle_stored(self, batch: Batch, stored: set[Any]) -> None:
        for row, done in batch:
            rejected = row[self.key.name] not in stored
            _settle([(row, done)], RowRejectedError() if rejected else None)

    async def _insert_each(self, batch: Batch) -> None:
        for row, done in batch:
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(self.statement, [row])
                    stored = await self._stored_keys(connection, [(row, done)])
            except Exception as error:
                _settle([(row, done)], error)
            else:
                self._settle_stored([(row, done)], stored)


def _settle(batch: Batch, error: Exception | None) -> None:
    for _, done in batch:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
