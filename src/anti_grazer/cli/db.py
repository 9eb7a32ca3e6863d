"""``anti-grazer db ...``: schema migrations."""

from __future__ import annotations

import click

from anti_grazer.cli.common import check_database_url, run, settings_or_exit
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.schema_version import current_revision, ensure_current_schema


@click.group()
def db() -> None:
    """Database schema."""


async def upgrade_database(database_url: str) -> str | None:
    """Apply every pending migration to the database at ``database_url``; its revision.
    Alembic is imported only when a migration is pending: ``serve`` calls this too, and
    the server then keeps what it imported for as long as it runs."""
    engine = create_engine(database_url)
    try:
        await ensure_current_schema(engine, migrate=True)
        return await current_revision(engine)
    finally:
        await engine.dispose()


@db.command(name="upgrade")
def upgrade_command() -> None:
    """Apply every pending migration to the configured database."""
    settings = settings_or_exit()
    check_database_url(settings.database_url)
    click.echo(f"database at revision {run(upgrade_database(settings.database_url))}")
