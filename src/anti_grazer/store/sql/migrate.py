"""Alembic migrations run from code: ``anti-grazer db upgrade`` and server start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock key held while migrating, so that concurrent ``db upgrade``
# runs (several instances deploying at once) apply each migration exactly once.
MIGRATION_LOCK_KEY = 0x616E7469_67726172  # "antigrar"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest migration's revision id."""
    return ScriptDirectory.from_config(_config()).get_current_head()


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Held to the end of the transaction: a concurrent run waits here, then finds the
        # schema current (read committed) and has nothing left to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    command.upgrade(_config(connection), "head")


async def upgrade(engine: AsyncEngine) -> None:
    """Apply every pending migration, in one transaction (PostgreSQL's DDL is
    transactional: a failed migration leaves the schema as it was)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
