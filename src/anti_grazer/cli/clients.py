"""``anti-grazer clients ...``: register and administer OAuth clients."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from anti_grazer.cli.bindings import bind, describe_binding, unbind
from anti_grazer.cli.common import audited, settings_or_exit, with_stores
from anti_grazer.protocol.audit import (
    CLIENT_CHANGED,
    CLIENT_CREATED,
    CLIENT_DELETED,
    CLIENT_DISABLED,
    CLIENT_ENABLED,
    SECRET_RETIRED,
    SECRET_ROTATED,
)
from anti_grazer.protocol.client_admin import (
    ClientChanges,
    ClientConfigError,
    UnknownClientIdError,
    change_client,
    changed_limits,
    parse_audiences,
    parse_duration,
    parse_scope_option,
    register_client,
    register_key_client,
    retire_previous_secrets,
    rotate_secret,
    set_client_limits,
    set_enabled,
    set_keys,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.jwk_set import registered_kids
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import (
    BURST_PER_MINUTE,
    JWT,
    LIMIT_NAMES,
    NEW_REPORTERS_PER_DAY,
    NO_CLIENT_LIMITS,
    OPAQUE,
    PRIVATE_KEY_JWT,
    REQUESTS_PER_HOUR,
    TOKEN_FORMATS,
    TOKENS_PER_DAY,
    TOKENS_PER_HOUR,
    Client,
    ClientLimits,
    ClientSecret,
    FederationBinding,
)
from anti_grazer.protocol.rate_limits import WINDOW_SECONDS, RateLimitPolicy
from anti_grazer.protocol.scope import render_scope
from anti_grazer.store.runtime import OpenedStores

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


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
        "audiences": list(client.audiences),
        "token_endpoint_auth_method": client.auth_method,
        **_describe_keys(client),
    }


def _describe_keys(client: Client) -> dict[str, Any]:
    """A ``private_key_jwt`` client's keys as shown: the kids of its registered JWK Set
    (never the keys themselves), or its ``jwks_uri``; nothing for a secret's client."""
    if client.jwks is not None:
        return {"jwks_kids": list(registered_kids(client.jwks))}
    if client.jwks_uri is not None:
        return {"jwks_uri": client.jwks_uri}
    return {}


def _keys_given(jwks_file: Path | None, jwks_uri: str | None) -> tuple[str | None, str | None]:
    """The JWK Set's text from ``--jwks-file``, or the ``--jwks-uri``: one of the two."""
    if jwks_file is not None and jwks_uri is not None:
        raise click.UsageError("give --jwks-file or --jwks-uri, not both")
    if jwks_file is None:
        return None, jwks_uri
    try:
        return jwks_file.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {jwks_file}: {type(error).__name__}") from None


_JWKS_FILE = click.option(
    "--jwks-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JWK Set (JSON) of the client's public keys: it authenticates with "
    "private_key_jwt (RFC 7523) and has no secret.",
)
_JWKS_URI = click.option(
    "--jwks-uri",
    default=None,
    metavar="URL",
    help="Where the client publishes its JWK Set (https; http only to a loopback host): "
    "it authenticates with private_key_jwt and has no secret.",
)


def _config(parse: Callable[[], T]) -> T:
    """``parse()``, its ``ClientConfigError`` as the command's one-line error."""
    try:
        return parse()
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None


def _warn_without_signing(token_format: str | None) -> None:
    if token_format == JWT and settings_or_exit().key_encryption_key is None:
        click.echo(
            f"Warning: {KEY_ENCRYPTION_KEY_SETTING} is not set: the server cannot sign this "
            "client's JWT access tokens (its token requests get server_error) until it is "
            "set and a signing key is active.",
            err=True,
        )


# The settings ``create`` takes and ``update`` changes, each defined once: ``update``
# passes no default, so an option it is not given changes nothing.
def _scope_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--scope", "scope", default=default, help='Allowed scopes, space-separated: "a b".'
    )


def _default_scope_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--default-scope",
        default=default,
        help="Scopes granted when a request names none (default: all of --scope).",
    )


_TOKEN_TTL = click.option(
    "--token-ttl", type=click.IntRange(min=1), default=None, help="Token lifetime (s)."
)
_AUDIENCE = click.option(
    "--audience",
    "audiences",
    multiple=True,
    metavar="URI",
    help="An audience the client may ask for with resource= (RFC 8707: an absolute URI, "
    "no fragment or query); repeat for several; the first is its default.",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


def _token_format_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--token-format",
        type=click.Choice(TOKEN_FORMATS),
        default=default,
        show_default=default is not None,
        help="Opaque access tokens, or JWT access tokens (RFC 9068).",
    )


_INTROSPECT_HELP = "A resource server: may introspect any token (others see only their own)."


async def _config_async(pending: Awaitable[T]) -> T:
    """``await pending``, its ``ClientConfigError`` as the command's one-line error."""
    try:
        return await pending
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None


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


_LIMIT = click.Choice(LIMIT_NAMES)
_LIMIT_HELP = {
    TOKENS_PER_HOUR: "Tokens the client may get per hour",
    TOKENS_PER_DAY: "Tokens the client may get per day",
    REQUESTS_PER_HOUR: "API requests the client may make per hour",
    BURST_PER_MINUTE: "API requests the client may make per minute",
    NEW_REPORTERS_PER_DAY: "Reporters the client may name for the first time per day",
}


def _limit_options(command: F) -> F:
    """The options that set a client's own limits (``create``, ``limits``): one amount
    per limit, which the command takes as ``**limit_amounts``, and the modes."""
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


def _given_amounts(amounts: Mapping[str, int | None]) -> dict[str, int]:
    """The limit options given (``_limit_options``: one per ``LIMIT_NAMES``)."""
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
@_scope_option("")
@_default_scope_option("")
@_TOKEN_TTL
@_token_format_option(OPAQUE)
@click.option("--introspect", is_flag=True, help=_INTROSPECT_HELP)
@_AUDIENCE
@click.option(
    "--secret-ttl",
    default=None,
    metavar="DURATION",
    help="The secret expires after this long (e.g. 90d, 24h; default: never).",
)
@_JWKS_FILE
@_JWKS_URI
@_limit_options
@_JSON
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
    jwks, uri = _keys_given(jwks_file, jwks_uri)
    if (jwks is not None or uri is not None) and secret_ttl is not None:
        raise click.UsageError("--secret-ttl is for a client with a secret, not keys")
    _warn_without_signing(token_format)
    allowed = _config(lambda: parse_scope_option(scope))
    default = _config(lambda: parse_scope_option(default_scope))
    audience = _config(lambda: parse_audiences(audiences))
    limits = _config(
        lambda: changed_limits(
            NO_CLIENT_LIMITS,
            _given_amounts(limit_amounts),
            log_only=log_only,
            enforced=enforce,
        )
    )
    ttl = _duration(secret_ttl, "--secret-ttl")
    if jwks is not None or uri is not None:
        settings = ClientSettings(
            allowed, default, token_ttl, token_format, introspect, audience, limits
        )
        _create_key_client(name, settings, jwks, uri, as_json)
        return

    async def action(stores: OpenedStores) -> tuple[Client, str]:
        client, secret = await _config_async(
            register_client(
                stores.clients,
                SystemClock(),
                name,
                allowed,
                default,
                token_ttl,
                token_format,
                can_introspect=introspect,
                secret_ttl=ttl,
                audiences=audience,
                limits=limits,
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
    shown = {**_describe(client), "secret_id": client.secrets[0].secret_id}
    _print_secret(client.client_id, secret, as_json, shown)


@dataclass(frozen=True)
class ClientSettings:
    """What ``create`` registers besides the name and the credentials."""

    allowed: frozenset[str]
    default: frozenset[str]
    token_ttl: int | None
    token_format: str
    introspect: bool
    audiences: tuple[str, ...]
    limits: ClientLimits


def _create_key_client(
    name: str, settings: ClientSettings, jwks: str | None, jwks_uri: str | None, as_json: bool
) -> None:
    async def action(stores: OpenedStores) -> Client:
        client = await _config_async(
            register_key_client(
                stores.clients,
                SystemClock(),
                name,
                settings.allowed,
                settings.default,
                settings.token_ttl,
                settings.token_format,
                can_introspect=settings.introspect,
                jwks=jwks,
                jwks_uri=jwks_uri,
                audiences=settings.audiences,
                limits=settings.limits,
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
        click.echo(json.dumps(_describe(client)))
        return
    click.echo(f"client_id:     {client.client_id}")
    click.echo(f"auth method:   {PRIVATE_KEY_JWT} (no secret)")


@clients.command()
@click.argument("client_id")
@click.option("--name", default=None, help="A new name.")
@_scope_option(None)
@_default_scope_option(None)
@_TOKEN_TTL
@click.option("--no-token-ttl", is_flag=True, help="Use the server's token lifetime.")
@_token_format_option(None)
@click.option("--introspect/--no-introspect", default=None, help=_INTROSPECT_HELP)
@_AUDIENCE
@click.option("--no-audience", is_flag=True, help="Remove every audience.")
@_JSON
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
        changes["allowed_scopes"] = _config(lambda: parse_scope_option(scope))
    if default_scope is not None:
        changes["default_scopes"] = _config(lambda: parse_scope_option(default_scope))
    if token_ttl is not None or no_token_ttl:
        changes["token_ttl_seconds"] = token_ttl
    if token_format is not None:
        changes["token_format"] = token_format
    if introspect is not None:
        changes["can_introspect"] = introspect
    if audiences or no_audience:
        changes["audiences"] = _config(lambda: parse_audiences(audiences))
    if not changes:
        raise click.UsageError("give at least one setting to change (see --help)")
    _warn_without_signing(token_format)

    async def action(stores: OpenedStores) -> Client:
        client = await _existing(stores, client_id)
        changed = await _config_async(
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
    click.echo(json.dumps(_describe(client)) if as_json else f"{client_id} updated")


@clients.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
def list_(as_json: bool) -> None:
    """List the registered clients: id, state, name, allowed and default scope,
    whether it may introspect any token, and its audiences (the default first)."""

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
        audiences = f"  audiences [{' '.join(client.audiences)}]" if client.audiences else ""
        keys = f"  {PRIVATE_KEY_JWT}" if client.auth_method == PRIVATE_KEY_JWT else ""
        click.echo(
            f"{client.client_id}  {state:8}  {client.name}  {scopes}  {default}"
            f"{introspect}{audiences}{keys}"
        )


@clients.command()
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on one line.")
def show(client_id: str, as_json: bool) -> None:
    """Show one client as JSON, indented unless --json, with its audiences, its
    authentication method, its secrets' ids, creation, expiry and last use (never a
    secret or its digest) or its keys' kids or jwks_uri, for a client bound to trusted
    issuers ('clients bind') its bindings with their claim rules, and its limits as they
    hold with this server's settings ('clients limits')."""

    async def action(stores: OpenedStores) -> tuple[Client, list[FederationBinding]]:
        client = await _existing(stores, client_id)
        return client, list(await stores.trust.list_bindings(client_id=client_id))

    client, bindings = with_stores(action)
    shown = {
        **_describe(client),
        "secrets": [_describe_secret(s) for s in client.secrets],
        "limits": _describe_limits(client.limits, settings_or_exit().rate_limit_policy),
    }
    if bindings:
        shown["bindings"] = [describe_binding(b) for b in bindings]
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
    log_only: tuple[str, ...],
    enforce: tuple[str, ...],
    reset: tuple[str, ...],
    as_json: bool,
    **limit_amounts: int | None,
) -> None:
    """Show, or change, a client's own rate limits and token quotas.

    Each limit is the client's own amount or the server's default (RATE_LIMIT_*), and
    enforced (refused past it with 429) or log-only (counted and logged as
    rate_limit_exceeded, never refused: how a limit is rolled out).  Prints every limit
    as it holds with this server's settings.
    """
    amounts = _given_amounts(limit_amounts)
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
        ended = await retire_previous_secrets(stores.clients, SystemClock(), client)
        if ended:
            await audited(stores.audit, SECRET_RETIRED, client_id, client_id=client_id)
        return ended

    ended = with_stores(action)
    if not ended:
        raise click.ClickException(f"{client_id} has no previous secret in its overlap")
    click.echo(f"{client_id}: the previous secret no longer works")


@clients.command(name="set-keys")
@click.argument("client_id")
@_JWKS_FILE
@_JWKS_URI
def set_keys_command(client_id: str, jwks_file: Path | None, jwks_uri: str | None) -> None:
    """Replace the public keys of a private_key_jwt client (one of --jwks-file,
    --jwks-uri).  To rotate a key, register a set with the new key beside the old one,
    switch the client to the new key, then register the set without the old one."""
    jwks, uri = _keys_given(jwks_file, jwks_uri)

    async def action(stores: OpenedStores) -> Client:
        client = await _existing(stores, client_id)
        try:
            return await set_keys(stores.clients, SystemClock(), client, jwks=jwks, jwks_uri=uri)
        except ClientConfigError as error:
            raise click.ClickException(str(error)) from None

    client = with_stores(action)
    click.echo(f"{client_id}: keys replaced ({json.dumps(_describe_keys(client))})")


clients.add_command(bind)
clients.add_command(unbind)
