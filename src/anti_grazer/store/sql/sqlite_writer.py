"""Group commit for SQLite on a writer thread of its own (stdlib ``sqlite3``).

Token issuance writes one row per request; through the async engine each insert paid
for a pool checkout, a greenlet switch, statement processing and several thread hops,
which cost more than everything else on the token path together (py-spy, bench/).  Here
the event loop only appends the row to a list; once per loop iteration that list goes to
the writer thread, which inserts all rows waiting for it in one transaction and one
commit (fsync with ``synchronous=FULL``), then wakes their callers.  Nothing is
acknowledged before its commit.  Values are converted exactly as SQLAlchemy converts
them (the columns' own bind processors), so rows read back alike through the engine."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Column, Dialect, Insert

from anti_grazer.store.sql.group_commit import RowRejectedError

CHECKPOINT_INTERVAL_SECONDS = 0.5
LOCK_WAIT_SECONDS = 5.0
LOCK_POLL_SECONDS = 0.0005

Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]
Batch = list[tuple[tuple[Any, ...], Waiter]]


class SqliteGroupWriter:
    """Inserts rows into ``table`` of the SQLite file ``path`` from a writer thread."""

    def __init__(
        self,
        path: str,
        statement: Insert,
        key: Column[Any],
        dialect: Dialect,
        pragmas: Sequence[str],
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)  # SQLite's "?" placeholders, in positiontup's order
        self.columns: list[str] = list(compiled.positiontup or ())
        self._processors: list[Callable[[Any], Any] | None] = [
            compiled.binds[name].type.bind_processor(dialect) for name in self.columns
        ]
        # A conditional statement may store fewer rows than given: which, tells the key.
        self._key_index = self.columns.index(key.name)
        self._key_sql = f"SELECT {key.name} FROM {key.table.name} WHERE {key.name} IN "  # noqa: S608
        self._path = path
        self._pragmas = list(pragmas)
        self._pending: Batch = []
        self._handover_scheduled = False
        self._batches: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def _values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(
            processor(row[name]) if processor is not None else row[name]
            for name, processor in zip(self.columns, self._processors, strict=True)
        )

    async def insert(self, row: dict[str, Any]) -> None:
        """Insert ``row``; return once its transaction has committed (or raise its error,
        e.g. ``sqlite3.IntegrityError`` for a broken foreign key)."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((self._values(row), (loop, done)))
        if not self._handover_scheduled:
            self._handover_scheduled = True
            loop.call_soon(self._hand_over)
        await done

    def _hand_over(self) -> None:
        batch, self._pending = self._pending, []
        self._handover_scheduled = False
        self._start()
        self._batches.put(batch)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._stopping.clear()
                self._thread = threading.Thread(
                    target=self._run, name="anti-grazer-sqlite-writer", daemon=True
                )
                self._checkpointer = threading.Thread(
                    target=self._checkpoint_periodically,
                    name="anti-grazer-sqlite-checkpointer",
                    daemon=True,
                )
                self._thread.start()
                self._checkpointer.start()

    def close(self) -> None:
        """Finish what was handed over, then stop the threads."""
        with self._lock:
            thread, self._thread = self._thread, None
            checkpointer, self._checkpointer = self._checkpointer, None
        if thread is not None:
            self._batches.put(None)
            thread.join()
        if checkpointer is not None:
            self._stopping.set()
            checkpointer.join()

    def _checkpoint_periodically(self) -> None:
        """Copy the WAL into the database file from a connection of its own: the writer
        never stops to checkpoint (auto-checkpoints in the committing connection were the
        token path's worst latency), and PASSIVE checkpoints never block it."""
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            for pragma in self._pragmas:
                connection.execute(pragma)
            while not self._stopping.wait(CHECKPOINT_INTERVAL_SECONDS):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:  # busy or locked: the next round catches up
                    continue
        finally:
            connection.close()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            for pragma in self._pragmas:
                connection.execute(pragma)
            connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
            # Wait for the write lock ourselves (_begin): SQLite's own busy handler backs
            # off to 100 ms sleeps and kept missing the gaps between another writer's
            # transactions (a purge stalled issuance for seconds, bench/run --growth).
            connection.execute("PRAGMA busy_timeout=0")
            while (batch := self._batches.get()) is not None:
                # Everything else already waiting joins this transaction.
                stop = False
                while not self._batches.empty():
                    more = self._batches.get_nowait()
                    if more is None:
                        stop = True
                        break
                    batch += more
                self._commit(connection, batch)
                if stop:
                    return
        finally:
            connection.close()

    def _begin(self, connection: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, polling for the write lock every 0.5 ms, up to 5 s."""
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL_SECONDS)

    def _commit(self, connection: sqlite3.Connection, batch: Batch) -> None:
        try:
            self._begin(connection)
            stored = connection.executemany(self.sql, [values for values, _ in batch]).rowcount
            rejected = self._rejected(connection, batch) if stored < len(batch) else set()
            connection.execute("COMMIT")
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            # One bad row must not fail its neighbours: each alone, in its own transaction.
            for values, waiter in batch:
                try:
                    self._begin(connection)
                    stored = connection.execute(self.sql, values).rowcount
                    connection.execute("COMMIT")
                except sqlite3.Error as error:
                    if connection.in_transaction:
                        connection.execute("ROLLBACK")
                    _wake([waiter], error)
                else:
                    _wake([waiter], None if stored else RowRejectedError())
        else:
            _wake(
                [waiter for values, waiter in batch if values[self._key_index] not in rejected],
                None,
            )
            _wake(
                [waiter for values, waiter in batch if values[self._key_index] in rejected],
                RowRejectedError(),
            )

    def _rejected(self, connection: sqlite3.Connection, batch: Batch) -> set[Any]:
        """The keys of ``batch`` the conditional insert did not store."""
        keys = [values[self._key_index] for values, _ in batch]
        placeholders = "(" + ", ".join("?" for _ in keys) + ")"
        found = {row[0] for row in connection.execute(self._key_sql + placeholders, keys)}
        return set(keys) - found


def _wake(waiters: list[Waiter], error: Exception | None) -> None:
    """Resolve the callers' futures, with one wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for loop, done in waiters:
        by_loop.setdefault(loop, []).append(done)
    for loop, futures in by_loop.items():
        loop.call_soon_threadsafe(_settle, futures, error)


def _settle(futures: list[asyncio.Future[None]], error: Exception | None) -> None:
    for done in futures:
        if done.done():  # the caller was cancelled; its row is stored all the same
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
