"""What the ``anti-grazer clients ...`` commands share: their options, reading them, and
how a client and its secrets are printed."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click

from anti_grazer.cli.common import settings_or_exit
from anti_grazer.protocol.client_admin import ClientConfigError, parse_duration
from anti_grazer.protocol.jwk_set import registered_kids
from anti_grazer.protocol.key_ring import KEY_ENCRYPTION_KEY_SETTING
from anti_grazer.protocol.models import JWT, TOKEN_FORMATS, Client, ClientSecret
from anti_grazer.protocol.scope import render_scope
from anti_grazer.store.runtime import OpenedStores

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def describe_secret(secret: ClientSecret) -> dict[str, Any]:
    """A secret as ``clients show`` lists it: its public id and times, never its value
    or digest."""
    return {
        "secret_id": secret.secret_id,
        "created_at": secret.created_at.isoformat(),
        "expires_at": moment(secret.expires_at),
        "last_used_at": moment(secret.last_used_at),
    }


def duration(value: str | None, option: str) -> timedelta | None:
    if value is None:
        return None
    try:
        return parse_duration(value)
    except ClientConfigError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def describe(client: Client) -> dict[str, Any]:
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
        **describe_keys(client),
    }


def describe_keys(client: Client) -> dict[str, Any]:
    """A ``private_key_jwt`` client's keys as shown: the kids of its registered JWK Set
    (never the keys themselves), or its ``jwks_uri``; nothing for a secret's client."""
    if client.jwks is not None:
        return {"jwks_kids": list(registered_kids(client.jwks))}
    if client.jwks_uri is not None:
        return {"jwks_uri": client.jwks_uri}
    return {}


def keys_given(jwks_file: Path | None, jwks_uri: str | None) -> tuple[str | None, str | None]:
    """The JWK Set's text from ``--jwks-file``, or the ``--jwks-uri``: one of the two."""
    if jwks_file is not None and jwks_uri is not None:
        raise click.UsageError("give --jwks-file or --jwks-uri, not both")
    if jwks_file is None:
        return None, jwks_uri
    try:
        return jwks_file.read_text(encoding="utf-8"), None
    except (OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"cannot read {jwks_file}: {type(error).__name__}") from None


JWKS_FILE = click.option(
    "--jwks-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A JWK Set (JSON) of the client's public keys: it authenticates with "
    "private_key_jwt (RFC 7523) and has no secret.",
)
JWKS_URI = click.option(
    "--jwks-uri",
    default=None,
    metavar="URL",
    help="Where the client publishes its JWK Set (https; http only to a loopback host): "
    "it authenticates with private_key_jwt and has no secret.",
)


def config(parse: Callable[[], T]) -> T:
    """``parse()``, its ``ClientConfigError`` as the command's one-line error."""
    try:
        return parse()
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None


def warn_without_signing(token_format: str | None) -> None:
    if token_format == JWT and settings_or_exit().key_encryption_key is None:
        click.echo(
            f"Warning: {KEY_ENCRYPTION_KEY_SETTING} is not set: the server cannot sign this "
            "client's JWT access tokens (its token requests get server_error) until it is "
            "set and a signing key is active.",
            err=True,
        )


# The settings ``create`` takes and ``update`` changes, each defined once: ``update``
# passes no default, so an option it is not given changes nothing.
def scope_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--scope", "scope", default=default, help='Allowed scopes, space-separated: "a b".'
    )


def default_scope_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--default-scope",
        default=default,
        help="Scopes granted when a request names none (default: all of --scope).",
    )


TOKEN_TTL = click.option(
    "--token-ttl", type=click.IntRange(min=1), default=None, help="Token lifetime (s)."
)
AUDIENCE = click.option(
    "--audience",
    "audiences",
    multiple=True,
    metavar="URI",
    help="An audience the client may ask for with resource= (RFC 8707: an absolute URI, "
    "no fragment or query); repeat for several; the first is its default.",
)


def token_format_option(default: str | None) -> Callable[[F], F]:
    return click.option(
        "--token-format",
        type=click.Choice(TOKEN_FORMATS),
        default=default,
        show_default=default is not None,
        help="Opaque access tokens, or JWT access tokens (RFC 9068).",
    )


INTROSPECT_HELP = "A resource server: may introspect any token (others see only their own)."


async def config_async(pending: Awaitable[T]) -> T:
    """``await pending``, its ``ClientConfigError`` as the command's one-line error."""
    try:
        return await pending
    except ClientConfigError as error:
        raise click.ClickException(str(error)) from None


async def existing(stores: OpenedStores, client_id: str) -> Client:
    client = await stores.clients.get_client(client_id)
    if client is None:
        raise click.ClickException(f"no client with id {client_id!r}")
    return client


def print_secret(client_id: str, secret: str, as_json: bool, extra: dict[str, Any]) -> None:
    if as_json:
        click.echo(json.dumps({**extra, "client_id": client_id, "client_secret": secret}))
        return
    click.echo(f"client_id:     {client_id}")
    click.echo(f"client_secret: {secret}")
    click.echo("Store the secret now: it is shown only once and cannot be recovered.", err=True)
