"""Group commit of token writes (store/postgres/inserter.py, store/sqlite/writer.py;
issue "scale and speed"): concurrent issuances share one transaction, each caller returns
only once its row is committed, and one bad row fails only its own caller.  On SQLite
and, when ``ANTI_GRAZER_TEST_POSTGRES_URL`` is set, on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.postgres.inserter import GroupCommitInserter
from anti_grazer.store.runtime import OpenedStores, open_stores
from anti_grazer.store.sql.tables import access_tokens
from anti_grazer.store.sqlite import writer as sqlite_writer
from anti_grazer.store.sqlite.thread import Batch
from tests.store.records import make_client, make_token
from tests.support import SQL_BACKENDS, fresh_database_url

CLIENT_ID = "client-a"
ROWS = 50


def token_row(record: TokenRecord) -> dict[str, Any]:
    return {
        "digest": record.digest,
        "client_id": record.client_id,
        "scope": " ".join(sorted(record.scopes)),
        "issued_at": record.issued_at,
        "expires_at": record.expires_at,
        "revoked_at": record.revoked_at,
    }


@pytest.fixture(params=SQL_BACKENDS)
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[OpenedStores]:
    """Fresh SQL stores on one backend, with client ``client-a`` registered."""
    async with open_stores(await fresh_database_url(request.param, tmp_path)) as opened:
        await opened.clients.add_client(make_client())
        yield opened


class CommitCounter:
    """Counts the transactions the engine commits."""

    def __init__(self) -> None:
        self.commits = 0

    def __call__(self, _connection: object) -> None:
        self.commits += 1


@pytest.fixture
def commits(stores: OpenedStores) -> Iterator[CommitCounter]:
    """A commit counter on the stores' engine (attached after the set-up's commits)."""
    counter = CommitCounter()
    event.listen(stores.engine.sync_engine, "commit", counter)
    yield counter
    event.remove(stores.engine.sync_engine, "commit", counter)


@pytest.fixture
def writer_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of each transaction the SQLite writer thread commits (its ``_commit``
    runs one transaction per batch, wrapped here to record the batch size)."""
    sizes: list[int] = []
    original = sqlite_writer.SqliteWriter._commit

    def counting(self: sqlite_writer.SqliteWriter, connection: Any, batch: Batch) -> None:
        sizes.append(len(batch))
        original(self, connection, batch)

    monkeypatch.setattr(sqlite_writer.SqliteWriter, "_commit", counting)
    return sizes


async def stored_digests(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        result = await connection.execute(select(access_tokens.c.digest))
        return {row.digest for row in result}


async def count_rows(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        result = await connection.execute(select(func.count()).select_from(access_tokens))
        count: int = result.scalar_one()
        return count


async def test_concurrent_inserts_share_one_transaction(
    stores: OpenedStores, commits: CommitCounter
) -> None:
    """50 concurrent inserts through the inserter are all stored, in one commit: they
    were all waiting when the first transaction began."""
    inserter = GroupCommitInserter(stores.engine, insert(access_tokens), access_tokens.c.digest)
    records = [make_token(f"token {index}") for index in range(ROWS)]
    results = await asyncio.gather(*(inserter.insert(token_row(r)) for r in records))
    assert results == [None] * ROWS
    assert commits.commits == 1
    assert await stored_digests(stores.engine) == {r.digest for r in records}


async def test_batches_are_bounded(stores: OpenedStores, commits: CommitCounter) -> None:
    """At most ``max_batch`` rows go in one transaction: 50 rows, batches of 20 → 3."""
    inserter = GroupCommitInserter(
        stores.engine, insert(access_tokens), access_tokens.c.digest, max_batch=20
    )
    records = [make_token(f"token {index}") for index in range(ROWS)]
    await asyncio.gather(*(inserter.insert(token_row(r)) for r in records))
    assert commits.commits == 3
    assert await count_rows(stores.engine) == ROWS


async def test_sequential_inserts_each_commit_at_once(
    stores: OpenedStores, commits: CommitCounter
) -> None:
    """With no concurrency there is no waiting for company: each insert is committed
    (and visible to every other connection) when it returns."""
    inserter = GroupCommitInserter(stores.engine, insert(access_tokens), access_tokens.c.digest)
    for index in range(3):
        await inserter.insert(token_row(make_token(f"token {index}")))
        assert commits.commits == index + 1
        assert await count_rows(stores.engine) == index + 1


async def test_one_bad_row_fails_only_its_own_insert(stores: OpenedStores) -> None:
    """A row breaking the foreign key fails its caller with the database's error; the
    neighbours that shared its transaction are stored all the same."""
    inserter = GroupCommitInserter(stores.engine, insert(access_tokens), access_tokens.c.digest)
    records = [
        make_token(f"token {index}", "ghost" if index == 3 else CLIENT_ID) for index in range(10)
    ]
    results = await asyncio.gather(
        *(inserter.insert(token_row(r)) for r in records), return_exceptions=True
    )
    assert [type(result) for result in results] == [
        IntegrityError if index == 3 else type(None) for index in range(10)
    ]
    assert await stored_digests(stores.engine) == {
        r.digest for index, r in enumerate(records) if index != 3
    }


async def test_store_add_token_groups_concurrent_issuances(
    stores: OpenedStores, commits: CommitCounter, writer_batches: list[int]
) -> None:
    """``SqlTokenStore.add_token``: 50 concurrent issuances are all stored (and read back
    alike), with fewer transactions than rows — one, as all were waiting together."""
    records = [make_token(f"token {index}") for index in range(ROWS)]
    await asyncio.gather(*(stores.tokens.add_token(r) for r in records))
    if stores.engine.dialect.name == "sqlite":
        assert writer_batches == [ROWS]  # the writer thread's own connection
    else:
        assert commits.commits == 1
    for record in records:
        assert await stores.tokens.get_token(record.digest) == record


async def test_store_add_token_unknown_client_fails_only_its_caller(
    stores: OpenedStores, writer_batches: list[int]
) -> None:
    """A token of an unknown client raises ``InactiveClientError`` for its own caller only;
    its batch neighbours are stored."""
    records = [
        make_token(f"token {index}", "ghost" if index == 5 else CLIENT_ID) for index in range(12)
    ]
    results = await asyncio.gather(
        *(stores.tokens.add_token(r) for r in records), return_exceptions=True
    )
    for index, result in enumerate(results):
        if index == 5:
            assert isinstance(result, InactiveClientError)
            assert result.args == ("ghost",)
        else:
            assert result is None
    assert await stored_digests(stores.engine) == {
        r.digest for index, r in enumerate(records) if index != 5
    }
    if stores.engine.dialect.name == "sqlite":
        assert writer_batches == [12]  # one attempt together, then each row alone


async def test_cancelled_caller_does_not_disturb_the_batch(stores: OpenedStores) -> None:
    """A caller that goes away (client disconnect) while its batch commits does not fail
    its neighbours; its row is committed all the same."""
    records = [make_token(f"token {index}") for index in range(5)]
    tasks = [asyncio.create_task(stores.tokens.add_token(r)) for r in records]
    await asyncio.sleep(0)  # every insert is queued
    tasks[2].cancel()
    done = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(done[2], asyncio.CancelledError)
    assert [done[i] for i in (0, 1, 3, 4)] == [None] * 4
    for _ in range(100):  # the cancelled caller's row lands with its batch
        if await count_rows(stores.engine) == 5:
            break
        await asyncio.sleep(0.01)
    assert await stored_digests(stores.engine) == {r.digest for r in records}
