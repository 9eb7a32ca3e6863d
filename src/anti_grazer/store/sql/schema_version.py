"""Which schema a database is at, read without Alembic.

Every server worker checks the schema when it starts; importing Alembic (and Mako) for
that cost each worker 10 MiB of resident memory (bench/run), so the check reads Alembic's
``alembic_version`` table itself and compares it with ``SCHEMA_REVISION``.  Alembic is
imported only when a migration has to run (``migrate``)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

# The newest migration in ``migrations/versions``; a test keeps the two equal.
SCHEMA_REVISION = "0003"

_alembic_version = Table(
    "alembic_version", MetaData(), Column("version_num", String(32), primary_key=True)
)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    async with engine.connect() as connection:
        has_table = await connection.run_sync(
            lambda sync: inspect(sync).has_table(_alembic_version.name)
        )
        if not has_table:
            return None
        return (await connection.execute(select(_alembic_version.c.version_num))).scalar()
