"""Revision 0009 gives clients their audiences (RFC 8707 resource indicators, issue 17
item 4): a client registered before it has none, so its tokens are what they were; the
downgrade removes the column and keeps every client and token."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import column, insert, select, table

from anti_grazer.store.runtime import open_stores
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.migrate import upgrade
from anti_grazer.store.sql.rows import client_row, secret_row, token_row
from anti_grazer.store.sql.tables import (
    CLIENT_LIMIT_COLUMNS,
    access_tokens,
    client_secrets,
    clients,
)
from tests.store.sql.migration_steps import client_columns, migrate
from tests.support import SQL_BACKENDS, fresh_database_url, make_client, make_token

# The clients table as 0008 left it: without audiences (nor 0010's limits).
clients_0008 = table(
    "clients",
    *(
        column(c.name, c.type)
        for c in clients.columns
        if c.name not in ("audiences", *CLIENT_LIMIT_COLUMNS)
    ),
)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_0009_gives_existing_clients_no_audience(backend: str, tmp_path: Path) -> None:
    url = await fresh_database_url(backend, tmp_path)
    engine = create_engine(url)
    before = make_client()
    token = make_token("t1")
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0008", down=True)
            row = client_row(before)
            await connection.execute(
                insert(clients_0008).values({c.name: row[c.name] for c in clients_0008.columns})
            )
            for secret in before.secrets:
                await connection.execute(
                    insert(client_secrets).values(secret_row(before.client_id, secret))
                )
            await connection.execute(insert(access_tokens).values(token_row(token)))
        await upgrade(engine)
        async with open_stores(url) as stores:
            assert await stores.clients.get_client(before.client_id) == before
            assert before.audiences == ()
            assert await stores.tokens.get_token(token.digest) == token
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0008", down=True)
            assert "audiences" not in await connection.run_sync(client_columns)
            ids = (await connection.execute(select(clients_0008.c.client_id))).all()
            digests = (await connection.execute(select(access_tokens.c.digest))).all()
        assert ids == [(before.client_id,)]
        assert digests == [(token.digest,)]
    finally:
        await engine.dispose()
