"""A thread of its own with a stdlib ``sqlite3`` connection, fed in batches: the base of
the SQLite writer (``writer``) and reader (``reader``).

Through the async engine each statement paid for a pool checkout, a greenlet switch,
statement processing and several thread hops (aiosqlite runs every cursor call on its own
thread; py-spy, bench/).  Here the event loop only appends the operation to a list; once
per loop iteration that list goes to the thread, which runs everything waiting for it in
one transaction (``_commit``) and wakes the callers with one call per event loop: the
group commit of ``store.sql.group_commit``, with this thread as its committer."""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from anti_grazer.store.sql import group_commit
from anti_grazer.store.sql.group_commit import GroupCommit, Outcome, Waiter, failed, settle

T = TypeVar("T")
Operation = Callable[[sqlite3.Connection], Any]
Batch = group_commit.Batch[Operation]


class SqliteThread(GroupCommit[Operation]):
    """Runs operations on the SQLite file ``path`` (a ``file:`` URI if ``uri``) from one
    thread of its own: the committer of a ``GroupCommit`` (``store.sql.group_commit``)."""

    thread_name = "anti-grazer-sqlite"

    def __init__(self, path: str, pragmas: Sequence[str], *, uri: bool = False) -> None:
        super().__init__()
        self._path = path
        self._uri = uri
        self._pragmas = list(pragmas)
        self._batches: queue.SimpleQueue[Batch | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``operation`` on the thread's connection; return its result (or raise its
        error) once ``_process`` has settled it."""
        result: T = await self.submit(operation)
        return result

    def _hand_over(self, batch: Batch) -> None:
        self._start()
        self._batches.put(batch)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=self.thread_name, daemon=True
                )
                self._thread.start()
                self._started()

    def close(self) -> None:
        """Finish what was handed over, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._batches.put(None)
            thread.join()
            self._stopped()

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, isolation_level=None, check_same_thread=False, uri=self._uri
        )
        for pragma in self._pragmas:
            connection.execute(pragma)
        return connection

    def _run(self) -> None:
        connection = self._connect()
        try:
            self._configure(connection)
            while (batch := self._batches.get()) is not None:
                # Everything else already waiting joins this batch.
                stop = False
                while not self._batches.empty():
                    more = self._batches.get_nowait()
                    if more is None:
                        stop = True
                        break
                    batch += more
                self._process(connection, batch)
                if stop:
                    return
        finally:
            connection.close()

    def _started(self) -> None:
        """Called once the thread has started (under the start lock)."""

    def _stopped(self) -> None:
        """Called once the thread has stopped."""

    def _configure(self, connection: sqlite3.Connection) -> None:
        """Settings of the thread's own connection, before its first batch."""

    def _process(self, connection: sqlite3.Connection, batch: Batch) -> None:
        """Run ``batch`` and settle every waiter in it."""
        self._commit(connection, batch)

    def _commit(self, connection: sqlite3.Connection, batch: Batch) -> None:
        """Run ``batch`` in one transaction, then wake its callers.  An operation's error
        is its own caller's outcome only; a failure of the transaction itself is every
        caller's, and nothing of it stands."""
        try:
            self._begin(connection)
            outcomes = [self._run_one(connection, *entry) for entry in batch]
            connection.execute("COMMIT")
        except sqlite3.Error as error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = failed(batch, error)
        settle(outcomes)

    def _begin(self, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN")

    def _run_one(
        self, connection: sqlite3.Connection, operation: Operation, waiter: Waiter
    ) -> Outcome:
        try:
            return (waiter, operation(connection), None)
        except Exception as error:
            return (waiter, None, error)
