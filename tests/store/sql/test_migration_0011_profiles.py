"""Revision 0011 counts each profile's distinct clients from its reports (issue 18 item 7),
so that ``BLOCK_MIN_CLIENTS`` holds for profiles reported before it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import column, insert, table

from anti_grazer.store.runtime import open_stores
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.migrate import upgrade
from anti_grazer.store.sql.tables import profiles, reports
from tests.store.sql.migration_steps import migrate
from tests.support import SQL_BACKENDS, at, fresh_database_url

# The profiles table as 0010 left it.
profiles_0010 = table(
    "profiles",
    *(column(c.name, c.type) for c in profiles.columns if c.name not in ("clients", "cleared_at")),
)


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_0011_counts_the_distinct_clients_of_existing_profiles(
    backend: str, tmp_path: Path
) -> None:
    url = await fresh_database_url(backend, tmp_path)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0010", down=True)
            for client, reporter in (("a", "u1"), ("a", "u2"), ("b", "u1")):
                await connection.execute(
                    insert(reports).values(
                        platform="facebook",
                        profile_id="grazer",
                        client_id=client,
                        reporter_id=reporter,
                        reason=None,
                        created_at=at(1),
                    )
                )
            await connection.execute(
                insert(profiles_0010).values(
                    platform="facebook",
                    profile_id="grazer",
                    reporters=3,
                    first_reported_at=at(1),
                    blocked_at=None,
                )
            )
        await upgrade(engine)
        async with open_stores(url) as stores:
            profile = await stores.reports.get_profile("facebook", "grazer")
        assert profile is not None
        assert (profile.reporters, profile.clients, profile.cleared_at) == (3, 2, None)
    finally:
        await engine.dispose()
