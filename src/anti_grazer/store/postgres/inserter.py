"""PostgreSQL's group commit of token inserts: concurrent inserts share one transaction
(and one commit), through the shared ``GroupCommit`` (``store.sql.group_commit``).

The committer is a task on the event loop (asyncpg's connections belong to it): it runs
one batch at a time, at most ``max_batch`` rows, as one ``executemany`` in one
transaction, so a batch costs one round trip to the server, not one per row.  Each caller
waits until the transaction holding its row has committed, so nothing is acknowledged
before it is durable.  An ``executemany`` fails as a whole: a failed batch is retried row
by row, each row in a transaction of its own, so that one bad row fails only its own
caller.  Each batch's size and time go to the metrics."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import Column, Insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import Metrics
from anti_grazer.store.sql import group_commit
from anti_grazer.store.sql.group_commit import GroupCommit, Outcome, failed, settle

Row = dict[str, Any]
Batch = group_commit.Batch[Row]
BACKEND = "postgresql"  # the label of this backend's batches in the metrics


class RowRejectedError(Exception):
    """A conditional insert (``INSERT ... SELECT ... WHERE``) stored nothing for this row."""


class GroupCommitInserter(GroupCommit[Row]):
    """Runs an insert statement for batches of rows, at most ``max_batch`` per
    transaction.  The statement may be conditional: a row it did not store (its ``key``
    value is not found in the table afterwards) fails with ``RowRejectedError``."""

    def __init__(
        self,
        engine: AsyncEngine,
        statement: Insert,
        key: Column[Any],
        max_batch: int = 256,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        super().__init__()
        self.metrics = metrics
        self.engine = engine
        self.statement = statement
        self.key = key
        self.max_batch = max_batch
        self._queued: Batch = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, row: Row) -> None:
        """Insert ``row``; return once its transaction has committed (or raise its error)."""
        await self.submit(row)

    def _hand_over(self, batch: Batch) -> None:
        self._queued += batch
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())

    async def _flush_all(self) -> None:
        batch: Batch = []
        try:
            while self._queued:
                batch = self._queued[: self.max_batch]
                del self._queued[: self.max_batch]
                started = time.perf_counter()
                await self._flush(batch)
                self.metrics.batch_committed(BACKEND, len(batch), time.perf_counter() - started)
        except BaseException:
            # Cancelled (shutdown) or worse: no caller may wait forever.
            waiting, self._queued = batch + self._queued, []
            settle(failed(waiting, RuntimeError("the insert was abandoned")))
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
            settle(failed(batch, error))
        else:
            settle(self._outcomes(batch, stored))

    async def _stored_keys(self, connection: AsyncConnection, batch: Batch) -> set[Any]:
        keys = [row[self.key.name] for row, _ in batch]
        result = await connection.execute(select(self.key).where(self.key.in_(keys)))
        return set(result.scalars())

    def _outcomes(self, batch: Batch, stored: set[Any]) -> list[Outcome]:
        """Each row's outcome: stored, or rejected by the statement's condition."""
        return [
            (waiter, None, None if row[self.key.name] in stored else RowRejectedError())
            for row, waiter in batch
        ]

    async def _insert_each(self, batch: Batch) -> None:
        for entry in batch:
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(self.statement, [entry[0]])
                    stored = await self._stored_keys(connection, [entry])
            except Exception as error:
                settle(failed([entry], error))
            else:
                settle(self._outcomes([entry], stored))
