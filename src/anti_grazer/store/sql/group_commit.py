"""Group commit: concurrent inserts share one transaction (and one fsync).

Each caller waits until the transaction holding its row has committed, so nothing is
acknowledged before it is durable.  There is no timer: while one batch commits, new rows
queue up and go together in the next, so an idle server adds no latency and a busy one
pays one commit per batch instead of one per row."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine


class GroupCommitInserter:
    """Inserts rows into ``table`` in batches of at most ``max_batch`` per transaction."""

    def __init__(self, engine: AsyncEngine, table: Table, max_batch: int = 256) -> None:
        self.engine = engine
        self.statement = insert(table)
        self.max_batch = max_batch
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def insert(self, row: dict[str, Any]) -> None:
        """Insert ``row``; return once its transaction has committed (or raise its error)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_all())
        await done

    async def _flush_all(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(self.statement, [row for row, _ in batch])
            except Exception as error:  # each waiter gets the batch's failure
                if len(batch) > 1:
                    # One bad row must not fail its neighbours: retry them one by one.
                    await self._insert_each(batch)
                    continue
                _settle(batch, error)
            else:
                _settle(batch, None)

    async def _insert_each(self, batch: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        for row, done in batch:
            try:
                async with self.engine.begin() as connection:
                    await connection.execute(self.statement, [row])
            except Exception as error:
                _settle([(row, done)], error)
            else:
                _settle([(row, done)], None)


def _settle(
    batch: list[tuple[dict[str, Any], asyncio.Future[None]]], error: Exception | None
) -> None:
    for _, done in batch:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
