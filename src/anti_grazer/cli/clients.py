"""``anti-grazer clients ...``: register and administer OAuth clients."""

from __future__ import annotations

import json
from typing import Any

import click

from anti_grazer.cli.common import settings_or_exit, with_stores
from anti_grazer.protocol.client_admin import (
    ClientConfigError,
    parse_scope_option,
    register_client,
    rotate_secret,
    set_enabled,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import JWT, OPAQUE, TOKEN_FORMATS, Client
from anti_grazer.protocol.scope import render_scope
from anti_grazer.store.runtime import OpenedStores


def _describe(client: Client) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scope": render_scope(client.allowed_scopes),
        "default_scope": render_scope(client.effective_default_scopes),
        "token_ttl_seconds": client.token_ttl_seconds,
        "enabled": client.enabled,
        "introspect": client.can_introspect,
        "created_at": client.created_at.isoformat(),
        "updated_at": client.updated_at.isoformat(),
        "token_format": client.token_format,
    }


async def _existing(stores: OpenedStores, client_id: str) -> Client:
    client = await stores.clients.get_client(client_id)
    if client is None:
        raise click.ClickException(f"no client with id {client_id!r}")
    return client


def _print_secret(client_id: str, secret: str, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        click.echo(json.dumps({**extra, "client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is shown only once and cannot be recovered.", err=True)


@click.group()
def clients() -> None:
    """Register and administer OAuth clients."""


@clients.command()
@click.argument("name")
@click.option("--scope", "scope", default="", help='Allowed scopes, space-separated: "a b".')
@click.option(
    "--default-scope",
    default="",
    help="Scopes granted when a request names none (default: all of --scope).",
)
@click.option("--token-ttl", type=click.IntRange(min=1), default=None, help="Token lifetime (s).")
@click.option(
    "--token-format",
    type=click.Choice(TOKEN_FORMATS),
    default=OPAQUE,
    show_default=True,
    help="Opaque access tokens, or JWT access tokens (RFC 9068).",
)
@click.option(
    "--introspect",
    is_flag=True,
    help="A resource server: may introspect any token (others see only their own).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(
    name: str,
    scope: str,
    default_scope: str,
    token_ttl: int | None,
    token_format: str,
    introspect: bool,
    as_json: bool,
) -> None:
    """Register a client and print its id and secret (shown once).

    A token request that names no scope gets the --default-scope or, when none is given,
    every scope of --scope (RFC 6749 §3.3 default).  With --token-format jwt its access
    tokens are JWTs signed by the active signing key ('anti-grazer keys').  With
    --introspect the client may ask POST /oauth/introspect about any token (RFC 7662),
    not only its own.
    """
    if token_format == JWT and settings_or_exit().key_encryption_key is None:
        click.echo(
            f"Warning: {KEY_ENCRYPTION_KEY_SETTING} is not set: the server cannot sign this "
            "client's JWT access tokens (its token requests get server_error) until it is "
            "set and a signing key is active.",
            err=True,
        )
    try:
        allowed = parse_scope_option(scope)
        default = parse_scope_option(default_scope)
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None

    async def action(stores: OpenedStores) -> tuple[Client, str]:
        try:
            return await register_client(
                stores.clients,
                SystemClock(),
                name,
                allowed,
                default,
                token_ttl,
                token_format,
                can_introspect=introspect,
            )
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None

    client, secret = with_stores(action)
    _print_secret(client.client_id, secret, as_json, _describe(client))


@clients.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(as_json: bool) -> None:
    """List the registered clients: id, state, name, allowed and default scope, and
    whether it may introspect any token."""

    async def action(stores: OpenedStores) -> list[Client]:
        return list(await stores.clients.list_clients())

    found = with_stores(action)
    if as_json:
        click.echo(json.dumps([_describe(c) for c in found]))
        return
    for client in found:
        state = "enabled" if client.enabled else "disabled"
        scopes = f"[{render_scope(client.allowed_scopes)}]"
        default = f"default [{render_scope(client.effective_default_scopes)}]"
        introspect = "  introspect" if client.can_introspect else ""
        click.echo(f"{client.client_id}  {state:8}  {client.name}  {scopes}  {default}{introspect}")


@clients.command()
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on one line.")
def show(client_id: str, as_json: bool) -> None:
    """Show one client as JSON (never its secret), indented unless --json."""

    async def action(stores: OpenedStores) -> Client:
        return await _existing(stores, client_id)

    click.echo(json.dumps(_describe(with_stores(action)), indent=None if as_json else 2))


def _set_enabled_command(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.command(
        name=verb,
        help="Enable a client." if enabled else "Disable a client and revoke every token it holds.",
    )
    @click.argument("client_id")
    def command(client_id: str) -> None:
        async def action(stores: OpenedStores) -> None:
            client = await _existing(stores, client_id)
            await set_enabled(stores.clients, stores.tokens, SystemClock(), client, enabled)

        with_stores(action)
        click.echo(f"{client_id} {verb}d")

    return command


clients.add_command(_set_enabled_command(True))
clients.add_command(_set_enabled_command(False))


@clients.command()
@click.argument("client_id")
def delete(client_id: str) -> None:
    """Delete a client and every token issued to it."""

    async def action(stores: OpenedStores) -> bool:
        return await stores.clients.delete_client(client_id)

    if not with_stores(action):
        raise click.ClickException(f"no client with id {client_id!r}")
    click.echo(f"{client_id} deleted")


@clients.command(name="rotate-secret")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_secret_command(client_id: str, as_json: bool) -> None:
    """Replace a client's secret; the old one stops working at once."""

    async def action(stores: OpenedStores) -> str:
        return await rotate_secret(
            stores.clients, SystemClock(), await _existing(stores, client_id)
        )

    _print_secret(client_id, with_stores(action), as_json, {})
