"""``anti-grazer clients rotate-secret``, ``retire-secret`` and ``set-keys``: change how a
registered client authenticates."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from anti_grazer.cli.client_options import (
    JWKS_FILE,
    JWKS_URI,
    describe_keys,
    duration,
    existing,
    keys_given,
    moment,
    print_secret,
)
from anti_grazer.cli.common import audited, json_option, with_stores
from anti_grazer.protocol.audit import SECRET_RETIRED, SECRET_ROTATED
from anti_grazer.protocol.client_admin import (
    ClientConfigError,
    UnknownClientIdError,
    retire_previous_secrets,
    rotate_secret,
    set_keys,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.models import Client, ClientSecret
from anti_grazer.store.runtime import OpenedStores


@click.command(name="rotate-secret")
@click.argument("client_id")
@click.option(
    "--overlap",
    default="24h",
    show_default=True,
    metavar="DURATION",
    help="How long the previous secret keeps working (e.g. 24h, 90m; 0 ends it now).",
)
@click.option(
    "--secret-ttl",
    default=None,
    metavar="DURATION",
    help="The new secret expires after this long (default: never).",
)
@json_option()
def rotate_secret_command(
    client_id: str, overlap: str, secret_ttl: str | None, as_json: bool
) -> None:
    """Issue a new secret; the previous one keeps working for --overlap.

    At most two secrets are live: a secret older than the previous one ends at once.
    End the overlap early with 'clients retire-secret'.
    """
    overlap_for = duration(overlap, "--overlap") or timedelta(0)
    ttl = duration(secret_ttl, "--secret-ttl")

    async def action(stores: OpenedStores) -> tuple[ClientSecret, str]:
        client = await existing(stores, client_id)
        try:
            secret, value = await rotate_secret(
                stores.clients, SystemClock(), client, overlap=overlap_for, secret_ttl=ttl
            )
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None
        except UnknownClientIdError:
            raise click.ClickException(f"no client with id {client_id!r}") from None
        await audited(
            stores.audit,
            SECRET_ROTATED,
            client_id,
            client_id=client_id,
            details={
                "secret_id": secret.secret_id,
                "overlap_seconds": int(overlap_for.total_seconds()),
            },
        )
        return secret, value

    secret, value = with_stores(action)
    extra = {"secret_id": secret.secret_id, "expires_at": moment(secret.expires_at)}
    print_secret(client_id, value, as_json, extra)
    if not as_json:
        click.echo(f"secret_id:     {secret.secret_id}")
        if overlap_for:
            click.echo(f"The previous secret keeps working for {overlap}.", err=True)


@click.command(name="retire-secret")
@click.argument("client_id")
def retire_secret_command(client_id: str) -> None:
    """End a rotation's overlap now: only the newest secret still works."""

    async def action(stores: OpenedStores) -> int:
        client = await existing(stores, client_id)
        ended = await retire_previous_secrets(stores.clients, SystemClock(), client)
        if ended:
            await audited(stores.audit, SECRET_RETIRED, client_id, client_id=client_id)
        return ended

    ended = with_stores(action)
    if not ended:
        raise click.ClickException(f"{client_id} has no previous secret in its overlap")
    click.echo(f"{client_id}: the previous secret no longer works")


@click.command(name="set-keys")
@click.argument("client_id")
@JWKS_FILE
@JWKS_URI
def set_keys_command(client_id: str, jwks_file: Path | None, jwks_uri: str | None) -> None:
    """Replace the public keys of a private_key_jwt client (one of --jwks-file,
    --jwks-uri).  To rotate a key, register a set with the new key beside the old one,
    switch the client to the new key, then register the set without the old one."""
    jwks, uri = keys_given(jwks_file, jwks_uri)

    async def action(stores: OpenedStores) -> Client:
        client = await existing(stores, client_id)
        try:
            return await set_keys(stores.clients, SystemClock(), client, jwks=jwks, jwks_uri=uri)
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None

    client = with_stores(action)
    click.echo(f"{client_id}: keys replaced ({json.dumps(describe_keys(client))})")
