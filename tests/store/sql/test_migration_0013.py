"""Revision 0013 (issue 18 item 7): clients get their own limit on new reporters per day
(none: the server's default), and reports an index by client and reporter; both go on
the way down, the clients and reports untouched."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.store.runtime import open_stores
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.migrate import upgrade
from anti_grazer.store.sql.tables import reports
from tests.store.sql.migration_steps import client_columns, index_names, migrate
from tests.support import SQL_BACKENDS, at, fresh_database_url, make_client

INDEX = "ix_reports_client_reporter"


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_0013_adds_the_limit_and_the_index_and_takes_them_back(
    backend: str, tmp_path: Path
) -> None:
    url = await fresh_database_url(backend, tmp_path)
    client = make_client()
    async with open_stores(url) as stores:
        await stores.clients.add_client(client)
        own = ClientLimits(new_reporters_per_day=7)
        assert await stores.clients.set_limits(client.client_id, own, at(1))
        stored = await stores.clients.get_client(client.client_id)
        assert stored is not None
        assert stored.limits == own
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            assert INDEX in await connection.run_sync(index_names, "reports")
            await connection.run_sync(migrate, "0012", down=True)
            assert "new_reporters_per_day" not in await connection.run_sync(client_columns)
            assert INDEX not in await connection.run_sync(index_names, "reports")
            await connection.execute(
                insert(reports).values(
                    platform="facebook",
                    profile_id="grazer",
                    client_id=client.client_id,
                    reporter_id="user-1",
                    reason=None,
                    created_at=at(2),
                )
            )
        await upgrade(engine)
        async with engine.connect() as connection:
            assert INDEX in await connection.run_sync(index_names, "reports")
            kept = (await connection.execute(select(reports.c.reporter_id))).all()
        assert kept == [("user-1",)]
        async with open_stores(url) as stores:
            found = await stores.clients.get_client(client.client_id)
            assert found is not None
            assert found.limits == ClientLimits()  # back to the server's default
            assert await stores.reports.has_reporter(client.client_id, "user-1")
    finally:
        await engine.dispose()
