"""The SQLite reader thread (store/sqlite/reader.py) and its prepared queries
(store/sql/prepared.py): reads waiting together share one read transaction, each sees
every write acknowledged before it, and rows come back as the engine returns them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.store.sql.engine import sqlite_pragmas
from anti_grazer.store.sql.prepared import PreparedQuery
from anti_grazer.store.sql.rows import client_from_rows, token_from_row
from anti_grazer.store.sql.statements import CLIENT_BY_ID, TOKEN_BY_DIGEST
from anti_grazer.store.sqlite.reader import SqliteReader
from anti_grazer.store.sqlite.runtime import SqliteStores, open_sqlite_stores
from tests.clock import FrozenClock
from tests.e2e.process import sqlite_url
from tests.support import batch_sizes, register


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[SqliteStores]:
    async with open_sqlite_stores(sqlite_url(tmp_path / "reader.db")) as opened:
        yield opened


async def test_waiting_reads_share_one_transaction(
    stores: SqliteStores, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """20 concurrent lookups are one batch on the reader thread; each gets its own row."""
    batches = batch_sizes(monkeypatch, SqliteReader)
    ids = [(await register(stores.clients, clock, name=f"c{i}")).client_id for i in range(20)]
    found = await asyncio.gather(*(stores.clients.get_client(client_id) for client_id in ids))
    assert [client.client_id for client in found if client is not None] == ids
    assert batches == [20]


async def test_a_failing_read_spoils_nothing_else(stores: SqliteStores, clock: FrozenClock) -> None:
    """A read that raises fails its own caller only; its neighbours get their rows."""
    registered = await register(stores.clients, clock)
    query = PreparedQuery(CLIENT_BY_ID, stores.engine.dialect)

    def broken(connection: sqlite3.Connection) -> None:
        connection.execute("SELECT * FROM no_such_table")

    results = await asyncio.gather(
        stores.reader.first(query, {"client_id": registered.client_id}),
        stores.reader.run(broken),
        stores.reader.first(query, {"client_id": "unknown"}),
        return_exceptions=True,
    )
    assert getattr(results[0], "client_id", None) == registered.client_id
    assert isinstance(results[1], sqlite3.OperationalError)
    assert results[2] is None


async def test_a_read_sees_every_write_acknowledged_before_it(
    stores: SqliteStores, clock: FrozenClock
) -> None:
    """Read-your-writes across the writer and reader threads: a token is found by the
    first lookup after its insert returned, and a revocation by the first after it."""
    registered = await register(stores.clients, clock)
    for index in range(50):
        record = TokenRecord(
            digest=f"{index:064d}",
            client_id=registered.client_id,
            scopes=frozenset({"profiles:read"}),
            issued_at=clock.now(),
            expires_at=clock.now() + timedelta(hours=1),
        )
        await stores.tokens.add_token(record)
        assert await stores.tokens.get_token(record.digest) == record
        assert await stores.tokens.revoke_token(record.digest, None, clock.now())
        stored = await stores.tokens.get_token(record.digest)
        assert stored is not None
        assert stored.revoked_at == clock.now()


async def test_rows_read_alike_through_the_reader_and_the_engine(
    stores: SqliteStores, clock: FrozenClock
) -> None:
    """Aware datetimes, booleans, scopes: the reader's row is the engine's row."""
    registered = await register(stores.clients, clock, scope="profiles:read reports:write")
    record = TokenRecord(
        digest="d" * 64,
        client_id=registered.client_id,
        scopes=frozenset({"profiles:read", "reports:write"}),
        issued_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=90),
        revoked_at=clock.now() + timedelta(seconds=1),
    )
    await stores.tokens.add_token(record)
    async with stores.engine.connect() as connection:
        client_rows = (
            await connection.execute(CLIENT_BY_ID, {"client_id": registered.client_id})
        ).all()
        token_row = (await connection.execute(TOKEN_BY_DIGEST, {"digest": record.digest})).one()
    client = await stores.clients.get_client(registered.client_id)
    assert client is not None
    assert client == client_from_rows(client_rows)
    assert len(client.secrets) == 1
    assert client.secrets[0].created_at.tzinfo is not None
    assert client.created_at.tzinfo is not None
    assert client.enabled is True
    token = await stores.tokens.get_token(record.digest)
    assert token == token_from_row(token_row) == record


def test_the_reader_cannot_write(tmp_path: Path) -> None:
    """``query_only``: whatever runs on the reader thread leaves the file unchanged."""
    path = str(tmp_path / "ro.db")
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (k TEXT)")

    async def attempt() -> None:
        reader = SqliteReader(path, sqlite_pragmas("FULL"))
        try:
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                await reader.run(lambda connection: connection.execute("INSERT INTO t VALUES (1)"))
        finally:
            reader.close()

    asyncio.run(attempt())
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
