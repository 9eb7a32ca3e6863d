"""One writer thread for SQLite (stdlib ``sqlite3``, ``thread``), with group commit.

Token issuance writes one row per request and revocation one update; through the async
engine concurrent writers also queued on SQLite's single write lock with a busy handler
that backs off to 100 ms sleeps (py-spy, bench/).  Here the writer thread runs every
operation waiting for it in one transaction (each inside its own savepoint, so one failure
spoils nothing else) and one commit (one fsync with ``synchronous=FULL``), then wakes the
callers.  Nothing is acknowledged before its commit.  Statements are ``Prepared``, so rows
read back alike through the engine.  Each batch's size and time (begin to commit) go to
the metrics."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence

from anti_grazer.protocol.metrics import NO_METRICS
from anti_grazer.protocol.ports import Metrics
from anti_grazer.store.sql.group_commit import Outcome, Waiter
from anti_grazer.store.sqlite.checkpointer import WalCheckpointer
from anti_grazer.store.sqlite.thread import Batch, Operation, SqliteThread

CHECKPOINT_INTERVAL_SECONDS = 0.5
# Past this many WAL frames (pages, 4 KiB each: 64 MiB) the WAL is restarted.  Each
# restart holds the writer while it copies the last frames: a large threshold keeps
# restarts rare under full load.
WAL_RESTART_FRAMES = 16384
RESTART_TRIES = 5  # transactions in a row that try a restart SQLite says is busy
LOCK_WAIT_SECONDS = 5.0
WRITER_CACHE_KIB = 1024
LOCK_POLL_SECONDS = 0.0005
BACKEND = "sqlite"  # the label of this backend's batches in the metrics


class SqliteWriter(SqliteThread):
    """Runs write operations on the SQLite file ``path`` (a ``file:`` URI if ``uri``), each
    inside a transaction, from one thread of its own; a second thread checkpoints the WAL
    (``checkpointer``)."""

    thread_name = "anti-grazer-sqlite-writer"

    def __init__(
        self,
        path: str,
        pragmas: Sequence[str],
        *,
        uri: bool = False,
        checkpoint_interval: float = CHECKPOINT_INTERVAL_SECONDS,
        wal_restart_frames: int = WAL_RESTART_FRAMES,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        super().__init__(path, pragmas, uri=uri)
        self._metrics = metrics
        self._checkpointer = WalCheckpointer(self._connect, checkpoint_interval, wal_restart_frames)
        self._restart_tries = 0

    def _started(self) -> None:
        self._checkpointer.start()

    def _stopped(self) -> None:
        self._checkpointer.stop()

    def _restart_wal(self, connection: sqlite3.Connection) -> None:
        """Between two transactions of the writer: copy the few frames the checkpointer
        has not, so that the next commit writes from the start of the WAL again.

        A RESTART from the checkpointer's connection kept missing the short gaps between
        the writer's transactions; here there is no wait for the lock.  SQLite says busy
        at once while the checkpointer is in a pass or a reader still uses the WAL: the
        next few transactions try again, then the checkpointer's next pass decides."""
        try:
            busy, _frames, _copied = connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error:
            busy = 1
        self._restart_tries += 1
        if not busy or self._restart_tries >= RESTART_TRIES:
            self._checkpointer.restart_wanted = False
            self._restart_tries = 0

    def _configure(self, connection: sqlite3.Connection) -> None:
        connection.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer's job
        # 1 MiB of page cache, not SQLite's 2: it holds the indexes' inner pages and
        # their last leaves, where new tokens go (their keys start with the time).
        connection.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
        # Wait for the write lock ourselves (_begin): SQLite's own busy handler backs
        # off to 100 ms sleeps and kept missing the gaps between another writer's
        # transactions (a purge stalled issuance for seconds, bench/run --growth).
        connection.execute("PRAGMA busy_timeout=0")

    def _process(self, connection: sqlite3.Connection, batch: Batch) -> None:
        if self._checkpointer.restart_wanted:
            self._restart_wal(connection)
        started = time.perf_counter()
        self._commit(connection, batch)
        self._metrics.batch_committed(BACKEND, len(batch), time.perf_counter() - started)

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

    def _run_one(
        self, connection: sqlite3.Connection, operation: Operation, waiter: Waiter
    ) -> Outcome:
        """The operation inside its own savepoint: a failure undoes it and keeps the rest.
        Some errors (a full disk, I/O) make SQLite roll back the whole transaction: the
        batch then stops, and every caller in it gets that error."""
        connection.execute("SAVEPOINT operation")
        outcome = super()._run_one(connection, operation, waiter)
        error = outcome[2]
        if error is not None:
            if not connection.in_transaction and isinstance(error, sqlite3.Error):
                raise error  # _commit fails the whole batch with it
            connection.execute("ROLLBACK TO operation")
        connection.execute("RELEASE operation")
        return outcome
