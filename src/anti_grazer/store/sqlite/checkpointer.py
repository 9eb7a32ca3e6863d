"""The SQLite writer's WAL checkpointer: a thread of its own copies the write-ahead log
into the database file, so that the writer never stops to do it, and tells the writer
when the log may start over from its beginning.

Auto-checkpoints in the committing connection were the token path's worst latency, so the
writer turns them off (``wal_autocheckpoint=0``) and this thread runs PASSIVE checkpoints
from a connection of its own: they never block the writer.  PASSIVE checkpoints never
reset a WAL that keeps receiving commits, though: under a steady load the file grew
without end, and every commit's sync, which also recorded the file's new size, got
slower.  So once a pass has copied every frame of a WAL longer than ``restart_frames``,
the checkpointer sets ``restart_wanted`` and the writer restarts the WAL between two of
its transactions (``SqliteWriter._restart_wal``)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable


class WalCheckpointer:
    """Checkpoints the WAL every ``interval`` seconds on a connection from ``connect``,
    between ``start()`` and ``stop()`` (it may start again after a stop)."""

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], interval: float, restart_frames: int
    ) -> None:
        self._connect = connect
        self._interval = interval
        self._restart_frames = restart_frames
        # Set here, cleared by the writer once it has restarted the WAL (or given up).
        self.restart_wanted = False
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="anti-grazer-sqlite-checkpointer", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping.set()
            thread.join()

    def _run(self) -> None:
        connection = self._connect()
        try:
            while not self._stopping.wait(self._interval):
                try:
                    _busy, frames, copied = connection.execute(
                        "PRAGMA wal_checkpoint(PASSIVE)"
                    ).fetchone()
                except sqlite3.Error:  # busy or locked: the next round catches up
                    continue
                # Only once this pass copied every frame it saw: the writer then has
                # just the frames of the last moments to copy.  With a backlog (after a
                # bulk load, or while a reader held the WAL) it would have had to copy
                # it all while every write waited.
                if frames >= self._restart_frames and copied == frames:
                    self.restart_wanted = True
        finally:
            connection.close()
