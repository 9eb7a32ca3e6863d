"""``anti-grazer db ...``: schema migrations, and the first signing key."""

from __future__ import annotations

import click

from anti_grazer.cli.common import audited, check_database_url, run, settings_or_exit
from anti_grazer.cli.keys import key_policy
from anti_grazer.protocol.audit import KEY_ACTIVATED, KEY_CREATED
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.key_admin import ensure_first_key
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import SigningKey
from anti_grazer.settings import Settings
from anti_grazer.store.sql.audit import SqlAuditStore
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.schema_version import current_revision, ensure_current_schema
from anti_grazer.store.sql.signing_keys import SqlSigningKeyStore


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


async def first_signing_key(settings: Settings) -> tuple[SigningKey | None, bool]:
    """On a database without any signing key, with the key-encryption key set: an ES256
    key created and activated at once.  Returns it (None when there were keys already,
    or no key-encryption key: then nothing is created) and whether the database has a
    key now.  Concurrent runs on a new database may each create one: the last activated
    signs, the others are retired and signed nothing that outlives them."""
    key_encryption_key = settings.key_encryption_key_bytes
    engine = create_engine(settings.database_url)
    try:
        store = SqlSigningKeyStore(engine)
        if key_encryption_key is None:
            return None, bool(await store.list_keys())
        policy = key_policy(settings)
        created = await ensure_first_key(store, SystemClock(), policy, key_encryption_key)
        if created is not None:
            for kind in (KEY_CREATED, KEY_ACTIVATED):
                await audited(SqlAuditStore(engine), kind, created.kid)
        return created, True
    finally:
        await engine.dispose()


@db.command(name="upgrade")
def upgrade_command() -> None:
    """Apply every pending migration to the configured database; on a database without
    signing keys, create and activate the first one (with the key-encryption key set)."""
    settings = settings_or_exit()
    check_database_url(settings.database_url)
    click.echo(f"database at revision {run(upgrade_database(settings.database_url))}")
    created, any_key = run(first_signing_key(settings))
    if created is not None:
        click.echo(f"signing key {created.kid} created and activated ({created.alg})")
    elif not any_key:
        click.echo(
            f"Note: no signing key created: {KEY_ENCRYPTION_KEY_SETTING} is not set "
            "(only JWT access tokens need one).",
            err=True,
        )
