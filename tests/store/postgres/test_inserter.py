"""PostgreSQL's group-commit inserter (store/postgres/inserter.py; issue "scale and
speed"): concurrent inserts share one transaction, batches are bounded, each caller
returns only once its row is committed, and one bad row fails only its own caller.  The
inserter needs nothing of PostgreSQL but an async engine: these tests run on SQLite too,
and on PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL`` is set."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from anti_grazer.store.postgres.inserter import GroupCommitInserter
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.rows import token_row
from anti_grazer.store.sql.tables import access_tokens
from tests.support import (
    CommitCounter,
    count_tokens,
    make_token,
    stored_digests,
)

CLIENT_ID = "client-a"
ROWS = 50


async def test_concurrent_inserts_share_one_transaction(
    sql_stores: OpenedStores, commits: CommitCounter
) -> None:
    """50 concurrent inserts through the inserter are all stored, in one commit: they
    were all waiting when the first transaction began."""
    inserter = GroupCommitInserter(sql_stores.engine, insert(access_tokens), access_tokens.c.digest)
    records = [make_token(f"token {index}") for index in range(ROWS)]
    results = await asyncio.gather(*(inserter.insert(token_row(r)) for r in records))
    assert results == [None] * ROWS
    assert commits.commits == 1
    assert await stored_digests(sql_stores.engine) == {r.digest for r in records}


async def test_batches_are_bounded(sql_stores: OpenedStores, commits: CommitCounter) -> None:
    """At most ``max_batch`` rows go in one transaction: 50 rows, batches of 20 → 3."""
    inserter = GroupCommitInserter(
        sql_stores.engine, insert(access_tokens), access_tokens.c.digest, max_batch=20
    )
    records = [make_token(f"token {index}") for index in range(ROWS)]
    await asyncio.gather(*(inserter.insert(token_row(r)) for r in records))
    assert commits.commits == 3
    assert await count_tokens(sql_stores.engine) == ROWS


async def test_sequential_inserts_each_commit_at_once(
    sql_stores: OpenedStores, commits: CommitCounter
) -> None:
    """With no concurrency there is no waiting for company: each insert is committed
    (and visible to every other connection) when it returns."""
    inserter = GroupCommitInserter(sql_stores.engine, insert(access_tokens), access_tokens.c.digest)
    for index in range(3):
        await inserter.insert(token_row(make_token(f"token {index}")))
        assert commits.commits == index + 1
        assert await count_tokens(sql_stores.engine) == index + 1


async def test_one_bad_row_fails_only_its_own_insert(sql_stores: OpenedStores) -> None:
    """A row breaking the foreign key fails its caller with the database's error; the
    neighbours that shared its transaction are stored all the same."""
    inserter = GroupCommitInserter(sql_stores.engine, insert(access_tokens), access_tokens.c.digest)
    records = [
        make_token(f"token {index}", "ghost" if index == 3 else CLIENT_ID) for index in range(10)
    ]
    results = await asyncio.gather(
        *(inserter.insert(token_row(r)) for r in records), return_exceptions=True
    )
    assert [type(result) for result in results] == [
        IntegrityError if index == 3 else type(None) for index in range(10)
    ]
    assert await stored_digests(sql_stores.engine) == {
        r.digest for index, r in enumerate(records) if index != 3
    }
