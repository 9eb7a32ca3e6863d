"""The group commit both SQL backends share (store/sql/group_commit.py; issue "scale and
speed"): what callers submit together is handed to the committer together, and each
caller gets its own result, its own error or its batch's failure, whichever thread
settles it.  Then through the token stores of both backends (SQLite's writer thread,
PostgreSQL's inserter, when ``ANTI_GRAZER_TEST_POSTGRES_URL`` is set): concurrent
issuances share one transaction, and each caller returns only once its row is committed.
The committers themselves are tested with their backends (tests/store/sqlite/,
tests/store/postgres/)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.group_commit import Batch, GroupCommit, Outcome, failed, settle
from anti_grazer.store.sqlite.writer import SqliteWriter
from tests.support import (
    CommitCounter,
    batch_sizes,
    count_tokens,
    make_token,
    stored_digests,
)

CLIENT_ID = "client-a"
ROWS = 50


class RecordingCommitter(GroupCommit[int]):
    """A committer that records each batch it is handed and settles it at once: every
    operation's result is its double, and a negative one fails with a ``ValueError``."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[int]] = []

    def _hand_over(self, batch: Batch[int]) -> None:
        self.batches.append([operation for operation, _ in batch])
        settle(self.outcomes(batch))

    @staticmethod
    def outcomes(batch: Batch[int]) -> list[Outcome]:
        return [
            (waiter, None, ValueError(operation))
            if operation < 0
            else (waiter, 2 * operation, None)
            for operation, waiter in batch
        ]


class ThreadCommitter(RecordingCommitter):
    """Settles each batch from a thread of its own, as the SQLite threads do."""

    def _hand_over(self, batch: Batch[int]) -> None:
        self.batches.append([operation for operation, _ in batch])
        thread = threading.Thread(target=settle, args=(self.outcomes(batch),))
        thread.start()
        thread.join()


class FailingCommitter(RecordingCommitter):
    """Every batch fails as a whole (its transaction did)."""

    def _hand_over(self, batch: Batch[int]) -> None:
        self.batches.append([operation for operation, _ in batch])
        settle(failed(batch, RuntimeError("the transaction failed")))


async def test_what_is_submitted_together_is_handed_over_together() -> None:
    """Ten callers in one loop iteration: one batch of ten, in their order; each caller
    gets its own result; a later caller starts a batch of its own."""
    committer = RecordingCommitter()
    assert await asyncio.gather(*(committer.submit(n) for n in range(10))) == [
        2 * n for n in range(10)
    ]
    assert await committer.submit(7) == 14
    assert committer.batches == [list(range(10)), [7]]


async def test_an_operations_error_is_its_callers_only() -> None:
    committer = RecordingCommitter()
    results = await asyncio.gather(
        committer.submit(1), committer.submit(-1), committer.submit(2), return_exceptions=True
    )
    assert results[0] == 2
    assert isinstance(results[1], ValueError)
    assert results[1].args == (-1,)
    assert results[2] == 4


async def test_a_failed_transaction_fails_every_caller_of_its_batch() -> None:
    committer = FailingCommitter()
    results = await asyncio.gather(*(committer.submit(n) for n in range(3)), return_exceptions=True)
    assert [type(result) for result in results] == [RuntimeError] * 3
    assert all(str(result) == "the transaction failed" for result in results)


async def test_a_batch_settled_from_another_thread_wakes_its_callers() -> None:
    committer = ThreadCommitter()
    assert await asyncio.gather(*(committer.submit(n) for n in range(5))) == [0, 2, 4, 6, 8]
    assert committer.batches == [[0, 1, 2, 3, 4]]


async def test_a_cancelled_caller_is_skipped_and_its_neighbours_settled() -> None:
    """A caller that went away before its batch was settled does not keep the others
    from their results (settling a cancelled future would raise)."""
    committer = RecordingCommitter()
    tasks = [asyncio.create_task(committer.submit(n)) for n in range(3)]
    await asyncio.sleep(0)  # every operation is queued, none handed over yet
    tasks[1].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[1], asyncio.CancelledError)
    assert (done[0], done[2]) == (0, 4)
    assert committer.batches == [[0, 1, 2]]


# -- through the token stores of both backends -------------------------------------------


@pytest.fixture
def writer_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each transaction the SQLite writer thread commits."""
    return batch_sizes(monkeypatch, SqliteWriter)


async def test_store_add_token_groups_concurrent_issuances(
    sql_stores: OpenedStores, commits: CommitCounter, writer_batches: list[int]
) -> None:
    """``add_token`` of both token stores: 50 concurrent issuances are all stored (and read
    back alike), with fewer transactions than rows — one, as all were waiting together."""
    records = [make_token(f"token {index}") for index in range(ROWS)]
    await asyncio.gather(*(sql_stores.tokens.add_token(r) for r in records))
    if sql_stores.engine.dialect.name == "sqlite":
        assert writer_batches == [ROWS]  # the writer thread's own connection
    else:
        assert commits.commits == 1
    for record in records:
        assert await sql_stores.tokens.get_token(record.digest) == record


async def test_store_add_token_unknown_client_fails_only_its_caller(
    sql_stores: OpenedStores, writer_batches: list[int]
) -> None:
    """A token of an unknown client raises ``InactiveClientError`` for its own caller only;
    its batch neighbours are stored."""
    records = [
        make_token(f"token {index}", "ghost" if index == 5 else CLIENT_ID) for index in range(12)
    ]
    results = await asyncio.gather(
        *(sql_stores.tokens.add_token(r) for r in records), return_exceptions=True
    )
    for index, result in enumerate(results):
        if index == 5:
            assert isinstance(result, InactiveClientError)
            assert result.args == ("ghost",)
        else:
            assert result is None
    assert await stored_digests(sql_stores.engine) == {
        r.digest for index, r in enumerate(records) if index != 5
    }
    if sql_stores.engine.dialect.name == "sqlite":
        assert writer_batches == [12]  # one transaction: only the ghost's savepoint undone


async def test_cancelled_caller_does_not_disturb_the_batch(sql_stores: OpenedStores) -> None:
    """A caller that goes away (client disconnect) while its batch commits does not fail
    its neighbours; its row is committed all the same."""
    records = [make_token(f"token {index}") for index in range(5)]
    tasks = [asyncio.create_task(sql_stores.tokens.add_token(r)) for r in records]
    await asyncio.sleep(0)  # every insert is queued
    tasks[2].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert [done[i] for i in (0, 1, 3, 4)] == [None] * 4
    for _ in range(100):  # the cancelled caller's row lands with its batch
        if await count_tokens(sql_stores.engine) == 5:
            break
        await asyncio.sleep(0.01)
    assert await stored_digests(sql_stores.engine) == {r.digest for r in records}
