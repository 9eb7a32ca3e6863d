"""Which schema a database is at, read without Alembic, and the check every opening of
the stores makes (``ensure_current_schema``).

Every server worker checks the schema when it starts; importing Alembic (and Mako) for
that made each worker's resident memory much larger (bench/run), so the check reads
Alembic's ``alembic_version`` table itself and compares it with ``SCHEMA_REVISION``.
Alembic is imported only when a migration has to run (``migrate``)."""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

# The newest migration in ``migrations/versions``; a test keeps the two equal.
SCHEMA_REVISION = "0013"

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


def schema_problem(revision: str | None) -> str | None:
    """None when ``revision`` (``current_revision``) is the code's schema, else what is
    wrong with it, for an operator."""
    if revision == SCHEMA_REVISION:
        return None
    if revision is None:
        return f"empty database: run 'anti-grazer db upgrade' (needs {SCHEMA_REVISION})"
    return f"at revision {revision}, this server needs {SCHEMA_REVISION}"


class SchemaNotCurrentError(RuntimeError):
    """The database has not been migrated to the code's schema."""


async def ensure_current_schema(engine: AsyncEngine, *, migrate: bool) -> None:
    """Return if the database is at ``SCHEMA_REVISION``; else migrate it if ``migrate``
    (SQLite migrates itself), or raise ``SchemaNotCurrentError``."""
    if await current_revision(engine) == SCHEMA_REVISION:
        return
    if not migrate:
        raise SchemaNotCurrentError(
            "The database schema is not current: run 'anti-grazer db upgrade'"
        )
    # Imported here, not at the top: Alembic is needed only to migrate (module docstring).
    from anti_grazer.store.sql.migrate import upgrade  # noqa: PLC0415

    await upgrade(engine)
