"""The SQLite writer thread (store/sqlite/writer.py): operations waiting together
share one transaction, each in its own savepoint, and return after the commit."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from anti_grazer.store.sql.engine import sqlite_pragmas
from anti_grazer.store.sqlite.writer import SqliteWriter
from tests.support import batch_sizes


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = str(tmp_path / "writer.db")
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (k TEXT PRIMARY KEY)")
    return path


def rows(path: str) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[0] for row in connection.execute("SELECT k FROM t")}


def insert(key: str) -> Callable[[sqlite3.Connection], int]:
    def operation(connection: sqlite3.Connection) -> int:
        stored: int = connection.execute("INSERT INTO t VALUES (?)", (key,)).rowcount
        return stored

    return operation


async def test_waiting_operations_share_one_commit(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 concurrent operations: one transaction; each result is visible to another
    connection as soon as its caller returns."""
    batches = batch_sizes(monkeypatch, SqliteWriter)
    writer = SqliteWriter(database, sqlite_pragmas("FULL"))
    try:
        results = await asyncio.gather(*(writer.run(insert(f"k{i}")) for i in range(20)))
        assert results == [1] * 20
        assert batches == [20]
        assert rows(database) == {f"k{i}" for i in range(20)}
    finally:
        writer.close()


async def test_a_failing_operation_spoils_nothing_else(database: str) -> None:
    """A duplicate key fails its own caller with SQLite's error; its neighbours in the
    same transaction are committed."""
    writer = SqliteWriter(database, sqlite_pragmas("NORMAL"))
    try:
        await writer.run(insert("taken"))
        results = await asyncio.gather(
            writer.run(insert("a")),
            writer.run(insert("taken")),
            writer.run(insert("b")),
            return_exceptions=True,
        )
        assert results[0] == 1
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert results[2] == 1
        assert rows(database) == {"taken", "a", "b"}
    finally:
        writer.close()


async def test_an_error_that_ends_the_transaction_fails_the_whole_batch(database: str) -> None:
    """A full database makes SQLite roll back the whole transaction, not one statement:
    every caller of the batch gets that error, nothing of the batch is stored, and the
    writer carries on."""
    with sqlite3.connect(database) as connection:
        pages: int = connection.execute("PRAGMA page_count").fetchone()[0]
    full_soon = f"PRAGMA max_page_count={pages + 1}"
    writer = SqliteWriter(database, [*sqlite_pragmas("NORMAL"), full_soon])
    try:
        results = await asyncio.gather(
            writer.run(insert("before")),
            writer.run(insert("x" * 100_000)),
            writer.run(insert("after")),
            return_exceptions=True,
        )
        assert rows(database) == set()
        assert [type(result) for result in results] == [sqlite3.OperationalError] * 3
        assert all("full" in str(result) for result in results)
        assert await writer.run(insert("next")) == 1
        assert rows(database) == {"next"}
    finally:
        writer.close()


async def test_it_waits_for_another_writers_lock(database: str) -> None:
    """While another connection holds the write lock the operation waits (polling), and
    completes once the lock is released."""
    writer = SqliteWriter(database, sqlite_pragmas("NORMAL"))
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        pending: asyncio.Future[int] = asyncio.ensure_future(writer.run(insert("late")))
        await asyncio.sleep(0.2)
        assert not pending.done()
        other.execute("COMMIT")
        assert await asyncio.wait_for(pending, 2) == 1
        assert rows(database) == {"late"}
    finally:
        other.close()
        writer.close()


def wal_restarts(path: str) -> int:
    """The WAL header's checkpoint sequence number: SQLite adds one each time the WAL
    starts over from its beginning (https://sqlite.org/fileformat2.html#walformat)."""
    with open(f"{path}-wal", "rb") as wal:
        header = wal.read(16)
    return int.from_bytes(header[12:16], "big")


async def _write_steadily(writer: SqliteWriter, seconds: float) -> set[str]:
    """Insert random 200-character keys, in batches of 20, for ``seconds``; the keys."""
    written: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        keys = [secrets.token_hex(100) for _ in range(20)]
        await asyncio.gather(*(writer.run(insert(key)) for key in keys))
        written.update(keys)
    return written


@pytest.mark.parametrize(("restart_frames", "restarted"), [(64, True), (10**9, False)])
async def test_the_wal_is_restarted_under_a_steady_load(
    database: str, restart_frames: int, restarted: bool
) -> None:
    """PASSIVE checkpoints alone almost never reset a WAL that keeps receiving commits
    (only when a checkpoint happens to catch up with the writer: once in a run on a busy
    machine), so it grew without end (the second case: fewer than 10 restarts).  Past
    ``wal_restart_frames`` the WAL starts over again and again while writes keep coming,
    and every row is kept.
    (Its size on disk is its high-water mark, which one slow moment of the checkpointer
    can raise: the restarts are what this test counts.)"""
    writer = SqliteWriter(
        database,
        sqlite_pragmas("NORMAL"),
        checkpoint_interval=0.01,
        wal_restart_frames=restart_frames,
    )
    try:
        written = await _write_steadily(writer, seconds=1.5)
        restarts = wal_restarts(database)  # before the last close removes the WAL
    finally:
        writer.close()
    assert len(written) > 5000
    assert rows(database) == written
    assert (restarts >= 10) is restarted, f"{restarts} restarts for {len(written)} rows"
