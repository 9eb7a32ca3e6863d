"""Revision 0010 gives clients limits of their own (issue 18 item 1): a client registered
before it follows the server's defaults after the upgrade, keeps its secret and tokens,
and the downgrade drops the columns without touching what references the client."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import column, insert, select, table

from anti_grazer.protocol.models import ClientLimits
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
from tests.support import SQL_BACKENDS, at, fresh_database_url, make_client, make_token

clients_0009 = table(
    "clients",
    *(column(c.name, c.type) for c in clients.columns if c.name not in CLIENT_LIMIT_COLUMNS),
)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_0010_gives_existing_clients_the_defaults_and_keeps_them_whole(
    backend: str, tmp_path: Path
) -> None:
    url = await fresh_database_url(backend, tmp_path)
    engine = create_engine(url)
    before = make_client()
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0009", down=True)
            row = client_row(before)
            row = {c.name: row[c.name] for c in clients_0009.columns}
            await connection.execute(insert(clients_0009).values(row))
            secret = secret_row(before.client_id, before.secrets[0])
            await connection.execute(insert(client_secrets).values(secret))
            await connection.execute(insert(access_tokens).values(token_row(make_token("t1"))))
        await upgrade(engine)
        async with open_stores(url) as stores:
            assert await stores.clients.get_client(before.client_id) == before
            assert before.limits == ClientLimits()
            own = ClientLimits(burst_per_minute=10, log_only=frozenset({"tokens_per_day"}))
            assert await stores.clients.set_limits(before.client_id, own, at(60))
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0009", down=True)
            columns = await connection.run_sync(client_columns)
            kept = (await connection.execute(select(clients_0009.c.client_id))).all()
            secrets = (await connection.execute(select(client_secrets.c.digest))).all()
            tokens = (await connection.execute(select(access_tokens.c.digest))).all()
        assert columns == {c.name for c in clients_0009.columns}
        assert kept == [(before.client_id,)]
        assert secrets == [(before.secrets[0].digest,)]
        assert tokens == [(make_token("t1").digest,)]
    finally:
        await engine.dispose()
