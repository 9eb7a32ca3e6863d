"""``anti-grazer clients ...``: register and administer OAuth clients."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import click

from anti_grazer.cli.common import settings_or_exit, with_stores
from anti_grazer.protocol.client_admin import (
    ClientConfigError,
    UnknownClientIdError,
    changed_limits,
    parse_duration,
    parse_scope_option,
    register_client,
    retire_previous_secrets,
    rotate_secret,
    set_client_limits,
    set_enabled,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import (
    BURST_PER_MINUTE,
    JWT,
    LIMIT_NAMES,
    NO_CLIENT_LIMITS,
    OPAQUE,
    REQUESTS_PER_HOUR,
    TOKEN_FORMATS,
    TOKENS_PER_DAY,
    TOKENS_PER_HOUR,
    Client,
    ClientLimits,
    ClientSecret,
)
from anti_grazer.protocol.rate_limits import WINDOW_SECONDS, RateLimitPolicy
from anti_grazer.protocol.scope import render_scope
from anti_grazer.store.runtime import OpenedStores


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _describe_secret(secret: ClientSecret) -> dict[str, Any]:
    """A secret as ``clients show`` lists it: its public id and times, never its value
    or digest."""
    return {
        "secret_id": secret.secret_id,
        "created_at": secret.created_at.isoformat(),
        "expires_at": _moment(secret.expires_at),
        "last_used_at": _moment(secret.last_used_at),
    }


def _duration(value: str | None, option: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ClientConfigError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


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


def _describe_limits(own: ClientLimits, policy: RateLimitPolicy | None) -> dict[str, Any]:
    """Each limit as it holds for a client with ``own`` limits under the server's
    ``policy`` (None: rate limits off): the amount per window (None: no limit), whether
    it is enforced, only logged, or off, and whether the client has its own setting."""
    holding = {limit.name: limit for limit in policy.limits(LIMIT_NAMES, own)} if policy else {}
    described: dict[str, Any] = {}
    for name in LIMIT_NAMES:
        limit = holding.get(name)
        mode = "off" if limit is None else "enforced" if limit.enforced else "log-only"
        described[name] = {
            "limit": limit.amount if limit is not None else None,
            "window_seconds": WINDOW_SECONDS[name],
            "mode": mode,
            "own": own.amount(name) is not None or name in own.log_only | own.enforced,
        }
    return described


F = TypeVar("F", bound=Callable[..., Any])
_LIMIT = click.Choice(LIMIT_NAMES)
_LIMIT_HELP = {
    TOKENS_PER_HOUR: "Tokens the client may get per hour",
    TOKENS_PER_DAY: "Tokens the client may get per day",
    REQUESTS_PER_HOUR: "API requests the client may make per hour",
    BURST_PER_MINUTE: "API requests the client may make per minute",
}


def _limit_options(command: F) -> F:
    """The options that set a client's own limits (``create``, ``limits``)."""
    for name in reversed(LIMIT_NAMES):
        command = click.option(
            f"--{name.replace('_', '-')}",
            name,
            type=click.IntRange(min=0),
            default=None,
            metavar="N",
            help=f"{_LIMIT_HELP[name]} (0: no limit; default: RATE_LIMIT_{name.upper()}).",
        )(command)
    command = click.option(
        "--log-only",
        multiple=True,
        type=_LIMIT,
        metavar="LIMIT",
        help="Only count and log LIMIT for this client, never refuse (repeatable).",
    )(command)
    return click.option(
        "--enforce",
        multiple=True,
        type=_LIMIT,
        metavar="LIMIT",
        help="Refuse past LIMIT for this client, even where the server only logs it.",
    )(command)


def _given_amounts(**amounts: int | None) -> dict[str, int]:
    return {name: amount for name, amount in amounts.items() if amount is not None}


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
@click.option(
    "--secret-ttl",
    default=None,
    metavar="DURATION",
    help="The secret expires after this long (e.g. 90d, 24h; default: never).",
)
@_limit_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def create(
    name: str,
    scope: str,
    default_scope: str,
    token_ttl: int | None,
    token_format: str,
    introspect: bool,
    secret_ttl: str | None,
    tokens_per_hour: int | None,
    tokens_per_day: int | None,
    requests_per_hour: int | None,
    burst_per_minute: int | None,
    log_only: tuple[str, ...],
    enforce: tuple[str, ...],
    as_json: bool,
) -> None:
    """Register a client and print its id and secret (shown once).

    A token request that names no scope gets the --default-scope or, when none is given,
    every scope of --scope (RFC 6749 §3.3 default).  With --token-format jwt its access
    tokens are JWTs signed by the active signing key ('anti-grazer keys').  With
    --introspect the client may ask POST /oauth/introspect about any token (RFC 7662),
    not only its own.  The limit options give it limits of its own ('clients limits').
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
        amounts = _given_amounts(
            tokens_per_hour=tokens_per_hour,
            tokens_per_day=tokens_per_day,
            requests_per_hour=requests_per_hour,
            burst_per_minute=burst_per_minute,
        )
        limits = changed_limits(NO_CLIENT_LIMITS, amounts, log_only=log_only, enforced=enforce)
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None
    ttl = _duration(secret_ttl, "--secret-ttl")

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
                secret_ttl=ttl,
                limits=limits,
            )
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None

    client, secret = with_stores(action)
    shown = {**_describe(client), "secret_id": client.secrets[0].secret_id}
    _print_secret(client.client_id, secret, as_json, shown)


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
    """Show one client as JSON, indented unless --json, with its secrets' ids,
    creation, expiry and last use (never a secret or its digest), and its limits as
    they hold with this server's settings ('clients limits')."""

    async def action(stores: OpenedStores) -> Client:
        return await _existing(stores, client_id)

    client = with_stores(action)
    shown = {
        **_describe(client),
        "secrets": [_describe_secret(s) for s in client.secrets],
        "limits": _describe_limits(client.limits, settings_or_exit().rate_limit_policy),
    }
    click.echo(json.dumps(shown, indent=None if as_json else 2))


@clients.command(name="limits")
@click.argument("client_id")
@_limit_options
@click.option(
    "--reset",
    multiple=True,
    type=_LIMIT,
    metavar="LIMIT",
    help="Back to the server's default amount and mode for LIMIT (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on one line.")
def limits_command(
    client_id: str,
    tokens_per_hour: int | None,
    tokens_per_day: int | None,
    requests_per_hour: int | None,
    burst_per_minute: int | None,
    log_only: tuple[str, ...],
    enforce: tuple[str, ...],
    reset: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show, or change, a client's own rate limits and token quotas.

    Each limit is the client's own amount or the server's default (RATE_LIMIT_*), and
    enforced (refused past it with 429) or log-only (counted and logged as
    rate_limit_exceeded, never refused: how a limit is rolled out).  Prints every limit
    as it holds with this server's settings.
    """
    amounts = _given_amounts(
        tokens_per_hour=tokens_per_hour,
        tokens_per_day=tokens_per_day,
        requests_per_hour=requests_per_hour,
        burst_per_minute=burst_per_minute,
    )
    changing = bool(amounts or log_only or enforce or reset)

    async def action(stores: OpenedStores) -> Client:
        client = await _existing(stores, client_id)
        if not changing:
            return client
        try:
            limits = changed_limits(
                client.limits, amounts, log_only=log_only, enforced=enforce, reset=reset
            )
            return await set_client_limits(stores.clients, SystemClock(), client, limits)
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None
        except UnknownClientIdError:
            raise click.ClickException(f"no client with id {client_id!r}") from None

    client = with_stores(action)
    shown = {
        "client_id": client.client_id,
        "limits": _describe_limits(client.limits, settings_or_exit().rate_limit_policy),
    }
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
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def rotate_secret_command(
    client_id: str, overlap: str, secret_ttl: str | None, as_json: bool
) -> None:
    """Issue a new secret; the previous one keeps working for --overlap.

    At most two secrets are live: a secret older than the previous one ends at once.
    End the overlap early with 'clients retire-secret'.
    """
    overlap_for = _duration(overlap, "--overlap") or timedelta(0)
    ttl = _duration(secret_ttl, "--secret-ttl")

    async def action(stores: OpenedStores) -> tuple[ClientSecret, str]:
        client = await _existing(stores, client_id)
        try:
            return await rotate_secret(
                stores.clients, SystemClock(), client, overlap=overlap_for, secret_ttl=ttl
            )
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None
        except UnknownClientIdError:
            raise click.ClickException(f"no client with id {client_id!r}") from None

    secret, value = with_stores(action)
    extra = {"secret_id": secret.secret_id, "expires_at": _moment(secret.expires_at)}
    _print_secret(client_id, value, as_json, extra)
    if not as_json:
        click.echo(f"secret_id:     {secret.secret_id}")
        if overlap_for:
            click.echo(f"The previous secret keeps working for {overlap}.", err=True)


@clients.command(name="retire-secret")
@click.argument("client_id")
def retire_secret_command(client_id: str) -> None:
    """End a rotation's overlap now: only the newest secret still works."""

    async def action(stores: OpenedStores) -> int:
        client = await _existing(stores, client_id)
        return await retire_previous_secrets(stores.clients, SystemClock(), client)

    ended = with_stores(action)
    if not ended:
        raise click.ClickException(f"{client_id} has no previous secret in its overlap")
    click.echo(f"{client_id}: the previous secret no longer works")
