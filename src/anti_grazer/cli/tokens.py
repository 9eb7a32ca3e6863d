"""``anti-grazer tokens ...``: revoke a token, purge expired ones."""

from __future__ import annotations

import sys

import click

from anti_grazer.cli.common import operator, with_stores
from anti_grazer.protocol.audit import TOKEN_REVOKED, AuditTrail
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.protocol.tokens import token_id
from anti_grazer.store.runtime import OpenedStores

PURGE_BATCH_SIZE = 1_000
READ_STDIN = "-"  # the TOKEN argument that means "read it from standard input"


@click.group()
def tokens() -> None:
    """Administer issued access tokens."""


@tokens.command()
@click.argument("token")
def revoke(token: str) -> None:
    """Revoke an access token, opaque or JWT, whichever client holds it.

    Give ``-`` to read the token from standard input, out of the shell history and the
    process list."""
    if token == READ_STDIN:
        token = sys.stdin.readline().strip()
    digest = presented_token_digest(token)
    if digest is None:
        raise click.ClickException(
            "that is not an Anti Grazer access token (bad format or checksum)"
        )

    async def action(stores: OpenedStores) -> bool:
        record = await stores.tokens.get_token(digest)
        if record is None:
            return False
        if record.revoked_at is not None:
            return True
        trail = AuditTrail(stores.audit, SystemClock())
        event = trail.event(
            TOKEN_REVOKED, operator(), record.jti or token_id(digest), client_id=record.client_id
        )
        # The event is stored in the revocation's own transaction, as at /oauth/revoke.
        if await stores.tokens.revoke_token(digest, None, event.at, event):
            trail.logged(event)
        return True

    if not with_stores(action):
        raise click.ClickException("no such token (unknown or already purged)")
    click.echo("token revoked")


@tokens.command(name="purge-expired")
@click.option(
    "--batch-size", type=click.IntRange(min=1), default=PURGE_BATCH_SIZE, show_default=True
)
def purge_expired(batch_size: int) -> None:
    """Delete expired tokens, in batches so that issuance is never blocked for long, and
    forget the used client assertions (their jti) that expired, as the server's janitor
    does."""

    async def action(stores: OpenedStores) -> tuple[int, int]:
        now = SystemClock().now()
        purged = await stores.tokens.purge_expired(now, batch_size)
        return purged, await stores.assertion_replays.purge_expired(now, batch_size)

    purged, forgotten = with_stores(action)
    used = f"; forgot {forgotten} used assertions" if forgotten else ""
    click.echo(f"purged {purged} expired tokens{used}")
