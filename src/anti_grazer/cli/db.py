"""``anti-grazer db ...``: schema migrations."""

from __future__ import annotations

import click

from anti_grazer.cli.common import check_database_url, run, settings_or_exit
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.schema_version import current_revision


@click.group()
def db() -> None:
    """Database schema."""


@db.command(name="upgrade")
def upgrade_command() -> None:
    """Apply every pending migration to the configured database."""
    settings = settings_or_exit()
    check_database_url(settings.database_url)

    # Imported here: ``anti-grazer serve`` loads this module too, and needs no Alembic.
    from anti_grazer.store.sql.migrate import upgrade  # noqa: PLC0415

    async def go() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    click.echo(f"database at revision {run(go())}")
