"""Group commit, shared by both SQL backends: writes that wait together run as one batch
in one transaction, and each caller is woken with its own outcome once that transaction
has ended, never before its commit: nothing is acknowledged before it is durable.

``GroupCommit`` is what both backends share:

- collecting: callers queue their operation on their event loop (``submit``); once per
  loop iteration, everything queued meanwhile goes to the backend's committer together
  (``_hand_over``);
- the committer runs one batch at a time, and what it is handed while a batch commits
  goes into the next one: there is no timer, so an idle server adds no latency and a busy
  one pays one commit per batch instead of one per write;
- settling (``settle``): every caller of a batch gets its own result, its own error, or
  the failure of the whole transaction (``failed``), with one wake-up per event loop from
  whichever thread ran the batch.  A caller that went away (cancelled) is skipped; what
  it asked for stands all the same.

What each backend does itself, and why it is not shared:

- where a batch runs.  SQLite's committer is a thread with a stdlib ``sqlite3``
  connection (``store.sqlite.thread``): ``sqlite3`` blocks, and the thread starts the next
  batch as soon as a commit ends, without waiting for the event loop to hand it over.
  PostgreSQL's is a task on the event loop (``store.postgres.inserter``): asyncpg is
  asynchronous and its connections belong to the loop.
- how one failing write is kept from failing its neighbours.  SQLite runs each operation
  inside a savepoint of its own: statements run in process, so a savepoint costs no round
  trip.  On PostgreSQL every statement is a round trip to the server, so a batch is one
  ``executemany`` (one round trip for the batch, not one per row), which fails as a
  whole: a failed batch is retried row by row, each row in a transaction of its own."""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

Op = TypeVar("Op")
# A caller waiting for its outcome: its event loop and its future.
Waiter = tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]
Batch = list[tuple[Op, Waiter]]
# A caller and what it gets: a result, or an error (the result is then None).
Outcome = tuple[Waiter, Any, BaseException | None]


class GroupCommit(ABC, Generic[Op]):
    """Collects the operations of concurrent callers and hands them, batch by batch, to
    a committer (``_hand_over``) that runs each batch in one transaction and ``settle``-s
    it."""

    def __init__(self) -> None:
        self._pending: Batch[Op] = []
        self._handover_scheduled = False

    async def submit(self, operation: Op) -> Any:
        """Queue ``operation``; return its result (or raise its error) once the committer
        has settled it."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()
        self._pending.append((operation, (loop, done)))
        if not self._handover_scheduled:
            self._handover_scheduled = True
            loop.call_soon(self._hand_over_pending)
        return await done

    def _hand_over_pending(self) -> None:
        batch, self._pending = self._pending, []
        self._handover_scheduled = False
        self._hand_over(batch)

    @abstractmethod
    def _hand_over(self, batch: Batch[Op]) -> None:
        """Give ``batch`` to the committer, which runs it after what it was given before
        (together with it, if that has not started yet) and settles it."""


def failed(batch: Batch[Op], error: BaseException) -> list[Outcome]:
    """The outcomes of a batch whose transaction failed: every caller gets ``error``."""
    return [(waiter, None, error) for _, waiter in batch]


def settle(outcomes: Iterable[Outcome]) -> None:
    """Wake each caller with its outcome: directly on the running event loop, and with one
    thread-safe call per event loop from any other thread (the SQLite threads)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Any]]] = {}
    for (loop, done), result, error in outcomes:
        by_loop.setdefault(loop, []).append((done, result, error))
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:  # a committer thread: no event loop runs here
        running = None
    for loop, settled in by_loop.items():
        if loop is running:
            _resolve(settled)
        else:
            loop.call_soon_threadsafe(_resolve, settled)


def _resolve(settled: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for done, result, error in settled:
        if done.done():  # the caller was cancelled; what it asked for stands all the same
            continue
        if error is None:
            done.set_result(result)
        else:
            done.set_exception(error)
