"""The group commit both SQL backends share (store/sql/group_commit.py): what callers
submit together is handed to the committer together, and each caller gets its own
result, its own error or its batch's failure, whichever thread settles it.  The
committers themselves are tested with their backends (tests/store/sqlite/,
tests/store/postgres/)."""

from __future__ import annotations

import asyncio
import threading

from anti_grazer.store.sql.group_commit import Batch, GroupCommit, Outcome, failed, settle


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
