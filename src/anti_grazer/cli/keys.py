"""``anti-grazer keys ...``: the keys that sign JWT access tokens, and their rotation
with overlap (``protocol.key_admin``): create, wait until verifiers know the new key,
activate it (the previous one is retired and stays published), delete the old one once
its tokens have expired."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

import click

from anti_grazer.cli.common import audited, json_option, settings_or_exit, with_stores
from anti_grazer.protocol.audit import (
    KEY_ACTIVATED,
    KEY_CREATED,
    KEY_DELETED,
    KEY_RETIRED,
    KEY_WITHDRAWN,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.key_admin import (
    KeyPolicy,
    SigningKeyAdminError,
    activate_key,
    create_key,
    delete_key,
    retire_key,
    withdraw_key,
)
from anti_grazer.protocol.models import ES256, SIGNING_ALGORITHMS, SigningKey
from anti_grazer.settings import Settings
from anti_grazer.store.runtime import OpenedStores

T = TypeVar("T")

_JSON = json_option("Print JSON.")


def key_policy(settings: Settings) -> KeyPolicy:
    """The delays of a rotation under ``settings``."""
    return KeyPolicy(
        max_token_ttl_seconds=settings.max_access_token_ttl_seconds,
        cache_ttl_seconds=settings.cache_ttl_seconds,
        jwks_max_age_seconds=settings.jwks_max_age_seconds,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def describe_key(key: SigningKey, now: datetime) -> dict[str, Any]:
    """What ``list`` and the other commands print of a key (never its private part)."""
    return {
        "kid": key.kid,
        "alg": key.alg,
        "state": key.state(now),
        "published": key.is_published(now),
        "created_at": key.created_at.isoformat(),
        "activated_at": _iso(key.activated_at),
        "retired_at": _iso(key.retired_at),
        "published_until": _iso(key.published_until),
    }


def _line(key: SigningKey, now: datetime) -> str:
    state = key.state(now)
    line = f"{key.kid}  {state:7}  {key.alg:5}  created {key.created_at.isoformat()}"
    if state == "retired" and key.published_until is not None:
        line += f"  published until {key.published_until.isoformat()}"
    return line


def _administer(
    operation: Callable[[OpenedStores], Awaitable[T]], kind: str, kid: Callable[[T], str]
) -> T:
    """Run ``operation`` on the configured stores and record it in the audit trail as
    ``kind`` about the key ``kid(result)``; a refusal (``SigningKeyAdminError``) is the
    command's one-line error."""

    async def action(stores: OpenedStores) -> T:
        try:
            result = await operation(stores)
        except SigningKeyAdminError as error:
            raise click.ClickException(str(error)) from None
        await audited(stores.audit, kind, kid(result))
        return result

    return with_stores(action)


@click.group()
def keys() -> None:
    """The keys that sign JWT access tokens (published at GET /oauth/jwks)."""


@keys.command(name="list")
@_JSON
def list_(as_json: bool) -> None:
    """List the signing keys, oldest first: kid, state, algorithm."""

    async def action(stores: OpenedStores) -> list[SigningKey]:
        return list(await stores.signing_keys.list_keys())

    found = with_stores(action)
    now = SystemClock().now()
    if as_json:
        click.echo(json.dumps([describe_key(key, now) for key in found]))
        return
    for key in found:
        click.echo(_line(key, now))


@keys.command()
@click.option(
    "--alg",
    type=click.Choice(SIGNING_ALGORITHMS),
    default=ES256,
    show_default=True,
    help="ES256 (P-256) or EdDSA (Ed25519).",
)
@_JSON
def create(alg: str, as_json: bool) -> None:
    """Create a key: published at once, it signs only once activated."""
    settings = settings_or_exit()

    key = _administer(
        lambda stores: create_key(
            stores.signing_keys, SystemClock(), settings.key_encryption_key_bytes, alg
        ),
        KEY_CREATED,
        lambda created: created.kid,
    )
    ready = key_policy(settings).signs_from(key).isoformat()
    if as_json:
        click.echo(json.dumps({**describe_key(key, key.created_at), "activate_after": ready}))
        return
    click.echo(f"{key.kid} created ({key.alg}): published now; activate it after {ready}")


@keys.command()
@click.argument("kid")
@click.option(
    "--force",
    is_flag=True,
    help="Activate before every verifier's cached key set can hold the key.",
)
@_JSON
def activate(kid: str, force: bool, as_json: bool) -> None:
    """Make a new key the signer; the previous one is retired and stays published until
    every token it signed has expired."""
    settings = settings_or_exit()
    clock = SystemClock()

    async def action(stores: OpenedStores) -> tuple[list[SigningKey], str | None]:
        previous = await activate_key(
            stores.signing_keys,
            clock,
            key_policy(settings),
            settings.key_encryption_key_bytes,
            kid,
            force=force,
        )
        return list(await stores.signing_keys.list_keys()), previous.kid if previous else None

    listed, retired_kid = _administer(action, KEY_ACTIVATED, lambda _: kid)
    now = clock.now()
    by_kid = {key.kid: key for key in listed}
    retired = by_kid.get(retired_kid) if retired_kid else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "activated": describe_key(by_kid[kid], now),
                    "retired": describe_key(retired, now) if retired else None,
                }
            )
        )
        return
    click.echo(f"{kid} is the active signing key")
    if retired is not None and retired.published_until is not None:
        until = retired.published_until.isoformat()
        click.echo(f"{retired.kid} retired: published until {until}, deletable after")


@keys.command()
@click.argument("kid")
@_JSON
def retire(kid: str, as_json: bool) -> None:
    """Withdraw a key that never signed (the active key is retired by activating
    another)."""
    settings = settings_or_exit()
    clock = SystemClock()

    key = _administer(
        lambda stores: retire_key(stores.signing_keys, clock, key_policy(settings), kid),
        KEY_RETIRED,
        lambda _: kid,
    )
    if as_json:
        click.echo(json.dumps(describe_key(key, clock.now())))
        return
    click.echo(f"{kid} retired: it signed nothing, so it is no longer published")


@keys.command()
@click.argument("kid")
@_JSON
def withdraw(kid: str, as_json: bool) -> None:
    """Stop publishing a compromised key now: the tokens it signed stop verifying (the
    active key: activate another first)."""
    clock = SystemClock()

    key = _administer(
        lambda stores: withdraw_key(stores.signing_keys, clock, kid), KEY_WITHDRAWN, lambda _: kid
    )
    if as_json:
        click.echo(json.dumps(describe_key(key, clock.now())))
        return
    click.echo(f"{kid} withdrawn: no longer published; the tokens it signed stop verifying")


@keys.command()
@click.argument("kid")
@_JSON
def delete(kid: str, as_json: bool) -> None:
    """Delete a key that no valid token needs (never the active key)."""
    settings = settings_or_exit()
    clock = SystemClock()

    policy = key_policy(settings)
    key = _administer(
        lambda stores: delete_key(stores.signing_keys, stores.tokens, clock, policy, kid),
        KEY_DELETED,
        lambda _: kid,
    )
    if as_json:
        click.echo(json.dumps({**describe_key(key, clock.now()), "deleted": True}))
        return
    click.echo(f"{kid} deleted")
