"""``anti-grazer clients``: the group and a client's lifecycle (create, update, list, show,
enable, disable, delete); its other commands come from ``client_limits``,
``client_credentials`` and ``bindings``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from anti_grazer.cli.bindings import bind, describe_binding, unbind
from anti_grazer.cli.client_credentials import (
    retire_secret_command,
    rotate_secret_command,
    set_keys_command,
)
from anti_grazer.cli.client_limits import (
    describe_limits,
    given_amounts,
    limit_options,
    limits_command,
)
from anti_grazer.cli.client_options import (
    AUDIENCE,
    INTROSPECT_HELP,
    JWKS_FILE,
    JWKS_URI,
    TOKEN_TTL,
    config,
    config_async,
    default_scope_option,
    describe,
    describe_secret,
    duration,
    existing,
    keys_given,
    print_secret,
    scope_option,
    token_format_option,
    warn_without_signing,
)
from anti_grazer.cli.common import audited, json_option, settings_or_exit, with_stores
from anti_grazer.protocol.audit import (
    CLIENT_CHANGED,
    CLIENT_CREATED,
    CLIENT_DELETED,
    CLIENT_DISABLED,
    CLIENT_ENABLED,
)
from anti_grazer.protocol.client_admin import (
    ClientChanges,
    ClientOptions,
    change_client,
    changed_limits,
    parse_audiences,
    parse_scope_option,
    register_client,
    register_key_client,
    set_enabled,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.models import (
    NO_CLIENT_LIMITS,
    OPAQUE,
    PRIVATE_KEY_JWT,
    Client,
    FederationBinding,
)
from anti_grazer.protocol.scope import render_scope
from anti_grazer.store.runtime import OpenedStores


@click.group()
def clients() -> None:
    """Register and administer OAuth clients."""


@clients.command()
@click.argument("name")
@scope_option("")
@default_scope_option("")
@TOKEN_TTL
@token_format_option(OPAQUE)
@click.option("--introspect", is_flag=True, help=INTROSPECT_HELP)
@AUDIENCE
@click.option(
    "--secret-ttl",
    default=None,
    metavar="DURATION",
    help="The secret expires after this long (e.g. 90d, 24h; default: never).",
)
@JWKS_FILE
@JWKS_URI
@limit_options
@json_option()
def create(
    name: str,
    scope: str,
    default_scope: str,
    token_ttl: int | None,
    token_format: str,
    introspect: bool,
    audiences: tuple[str, ...],
    secret_ttl: str | None,
    jwks_file: Path | None,
    jwks_uri: str | None,
    log_only: tuple[str, ...],
    enforce: tuple[str, ...],
    as_json: bool,
    **limit_amounts: int | None,
) -> None:
    """Register a client and print its id and secret (shown once).

    A token request that names no scope gets the --default-scope or, when none is given,
    every scope of --scope (RFC 6749 §3.3 default).  With --token-format jwt its access
    tokens are JWTs signed by the active signing key ('anti-grazer keys').  With
    --introspect the client may ask POST /oauth/introspect about any token (RFC 7662),
    not only its own.  A token request may name any --audience as resource= (RFC 8707);
    one that names none gets a token for the first.  With --jwks-file or --jwks-uri the
    client has no secret: it authenticates with assertions signed by its private key
    (private_key_jwt).  The limit options give it limits of its own ('clients limits').
    """
    jwks, uri = keys_given(jwks_file, jwks_uri)
    if (jwks is not None or uri is not None) and secret_ttl is not None:
        raise click.UsageError("--secret-ttl is for a client with a secret, not keys")
    warn_without_signing(token_format)
    allowed = config(lambda: parse_scope_option(scope))
    default = config(lambda: parse_scope_option(default_scope))
    audience = config(lambda: parse_audiences(audiences))
    limits = config(
        lambda: changed_limits(
            NO_CLIENT_LIMITS,
            given_amounts(limit_amounts),
            log_only=log_only,
            enforced=enforce,
        )
    )
    ttl = duration(secret_ttl, "--secret-ttl")
    options = ClientOptions(
        token_ttl_seconds=token_ttl,
        token_format=token_format,
        can_introspect=introspect,
        audiences=audience,
        limits=limits,
    )
    if jwks is not None or uri is not None:
        _create_key_client(name, allowed, default, options, jwks, uri, as_json)
        return

    async def action(stores: OpenedStores) -> tuple[Client, str]:
        client, secret = await config_async(
            register_client(
                stores.clients, SystemClock(), name, allowed, default, secret_ttl=ttl, **options
            )
        )
        await audited(
            stores.audit,
            CLIENT_CREATED,
            client.client_id,
            client_id=client.client_id,
            details={"name": name, "secret_id": client.secrets[0].secret_id},
        )
        return client, secret

    client, secret = with_stores(action)
    shown = {**describe(client), "secret_id": client.secrets[0].secret_id}
    print_secret(client.client_id, secret, as_json, shown)


def _create_key_client(
    name: str,
    allowed: frozenset[str],
    default: frozenset[str],
    options: ClientOptions,
    jwks: str | None,
    jwks_uri: str | None,
    as_json: bool,
) -> None:
    async def action(stores: OpenedStores) -> Client:
        client = await config_async(
            register_key_client(
                stores.clients,
                SystemClock(),
                name,
                allowed,
                default,
                jwks=jwks,
                jwks_uri=jwks_uri,
                **options,
            )
        )
        await audited(
            stores.audit,
            CLIENT_CREATED,
            client.client_id,
            client_id=client.client_id,
            details={"name": name, "token_endpoint_auth_method": PRIVATE_KEY_JWT},
        )
        return client

    client = with_stores(action)
    if as_json:
        click.echo(json.dumps(describe(client)))
        return
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"auth method:   {PRIVATE_KEY_JWT} (no secret)")


@clients.command()
@click.argument("client_id")
@click.option("--name", default=None, help="A new name.")
@scope_option(None)
@default_scope_option(None)
@TOKEN_TTL
@click.option("--no-token-ttl", is_flag=True, help="Use the server's token lifetime.")
@token_format_option(None)
@click.option("--introspect/--no-introspect", default=None, help=INTROSPECT_HELP)
@AUDIENCE
@click.option("--no-audience", is_flag=True, help="Remove every audience.")
@json_option()
def update(
    client_id: str,
    name: str | None,
    scope: str | None,
    default_scope: str | None,
    token_ttl: int | None,
    no_token_ttl: bool,
    token_format: str | None,
    introspect: bool | None,
    audiences: tuple[str, ...],
    no_audience: bool,
    as_json: bool,
) -> None:
    """Change a client's settings: only those given change (--audience replaces every
    audience).  Tokens already issued keep theirs; new tokens follow the change."""
    if token_ttl is not None and no_token_ttl:
        raise click.UsageError("give --token-ttl or --no-token-ttl, not both")
    if audiences and no_audience:
        raise click.UsageError("give --audience or --no-audience, not both")
    changes = ClientChanges()
    if name is not None:
        changes["name"] = name
    if scope is not None:
        changes["allowed_scopes"] = config(lambda: parse_scope_option(scope))
    if default_scope is not None:
        changes["default_scopes"] = config(lambda: parse_scope_option(default_scope))
    if token_ttl is not None or no_token_ttl:
        changes["token_ttl_seconds"] = token_ttl
    if token_format is not None:
        changes["token_format"] = token_format
    if introspect is not None:
        changes["can_introspect"] = introspect
    if audiences or no_audience:
        changes["audiences"] = config(lambda: parse_audiences(audiences))
    if not changes:
        raise click.UsageError("give at least one setting to change (see --help)")
    warn_without_signing(token_format)

    async def action(stores: OpenedStores) -> Client:
        client = await existing(stores, client_id)
        changed = await config_async(
            change_client(stores.clients, SystemClock(), client, **changes)
        )
        await audited(
            stores.audit,
            CLIENT_CHANGED,
            client_id,
            client_id=client_id,
            details={"changed": " ".join(sorted(changes))},
        )
        return changed

    client = with_stores(action)
    click.echo(json.dumps(describe(client)) if as_json else f"{client_id} updated")


@clients.command(name="list")
@json_option("Print a JSON array.")
def list_(as_json: bool) -> None:
    """List the registered clients: id, state, name, allowed and default scope,
    whether it may introspect any token, and its audiences (the default first)."""

    async def action(stores: OpenedStores) -> list[Client]:
        return list(await stores.clients.list_clients())

    found = with_stores(action)
    if as_json:
        click.echo(json.dumps([describe(c) for c in found]))
        return
    for client in found:
        state = "enabled" if client.enabled else "disabled"
        scopes = f"[{render_scope(client.allowed_scopes)}]"
        default = f"default [{render_scope(client.effective_default_scopes)}]"
        introspect = "  introspect" if client.can_introspect else ""
        audiences = f"  audiences [{' '.join(client.audiences)}]" if client.audiences else ""
        keys = f"  {PRIVATE_KEY_JWT}" if client.auth_method == PRIVATE_KEY_JWT else ""
        click.echo(
            f"{client.client_id}  {state:8}  {client.name}  {scopes}  {default}"
            f"{introspect}{audiences}{keys}"
        )


@clients.command()
@click.argument("client_id")
@json_option("Print one JSON object on one line.")
def show(client_id: str, as_json: bool) -> None:
    """Show one client as JSON, indented unless --json, with its audiences, its
    authentication method, its secrets' ids, creation, expiry and last use (never a
    secret or its digest) or its keys' kids or jwks_uri, for a client bound to trusted
    issuers ('clients bind') its bindings with their claim rules, and its limits as they
    hold with this server's settings ('clients limits')."""

    async def action(stores: OpenedStores) -> tuple[Client, list[FederationBinding]]:
        client = await existing(stores, client_id)
        return client, list(await stores.trust.list_bindings(client_id=client_id))

    client, bindings = with_stores(action)
    shown = {
        **describe(client),
        "secrets": [describe_secret(s) for s in client.secrets],
        "limits": describe_limits(client.limits, settings_or_exit().rate_limit_policy),
    }
    if bindings:
        shown["bindings"] = [describe_binding(b) for b in bindings]
    click.echo(json.dumps(shown, indent=None if as_json else 2))


def _set_enabled_command(enabled: bool) -> click.Command:
    verb = "enable" if enabled else "disable"

    @click.command(
        name=verb,
        help="Enable a client." if enabled else "Disable a client and revoke every token it holds.",
    )
    @click.argument("client_id")
    def command(client_id: str) -> None:
        async def action(stores: OpenedStores) -> None:
            client = await existing(stores, client_id)
            await set_enabled(stores.clients, stores.tokens, SystemClock(), client, enabled)
            kind = CLIENT_ENABLED if enabled else CLIENT_DISABLED
            await audited(stores.audit, kind, client_id, client_id=client_id)

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
        deleted = await stores.clients.delete_client(client_id)
        if deleted:
            await audited(stores.audit, CLIENT_DELETED, client_id, client_id=client_id)
        return deleted

    if not with_stores(action):
        raise click.ClickException(f"no client with id {client_id!r}")
    click.echo(f"{client_id} deleted")


clients.add_command(limits_command)
clients.add_command(rotate_secret_command)
clients.add_command(retire_secret_command)
clients.add_command(set_keys_command)
clients.add_command(bind)
clients.add_command(unbind)
