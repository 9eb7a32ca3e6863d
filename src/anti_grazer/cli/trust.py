"""``anti-grazer trust ...``: the external issuers trusted for workload identity
federation (``protocol.trust_admin``): a Kubernetes cluster's service-account token
issuer, GitHub Actions' OIDC issuer.  Clients are bound to them with ``anti-grazer
clients bind``."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from anti_grazer.cli.common import audited, json_option, settings_or_exit, with_stores
from anti_grazer.protocol.audit import BINDING_REMOVED, TRUST_ADDED, TRUST_REMOVED
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.errors import TemporarilyUnavailableError
from anti_grazer.protocol.jwk_set import check_jwks_uri
from anti_grazer.protocol.models import FederationBinding, TrustedIssuer
from anti_grazer.protocol.trust_admin import (
    TrustConfigError,
    distrust_issuer,
    new_trusted_issuer,
    trust_issuer,
)
from anti_grazer.store.runtime import OpenedStores

if TYPE_CHECKING:
    from joserfc.jwk import Key

_JSON = json_option("Print JSON.")


def describe_issuer(trusted: TrustedIssuer, bound: list[str]) -> dict[str, Any]:
    """What the commands print of a trusted issuer, with the ids of its bound clients."""
    return {
        "issuer": trusted.issuer,
        "audience": trusted.audience,
        "jwks_uri": trusted.jwks_uri,
        "created_at": trusted.created_at.isoformat(),
        "clients": bound,
    }


class _Reasons(logging.Handler):
    """The reasons the key fetch logged (``remote_json``: what failed, at which URL)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.reasons: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        reason, url = getattr(record, "reason", None), getattr(record, "url", None)
        if reason is not None:
            self.reasons.append(f"{reason} at {url}" if url else str(reason))


@contextmanager
def _collecting_reasons() -> Iterator[_Reasons]:
    logger = logging.getLogger("anti_grazer.remote")
    handler, propagate = _Reasons(), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False  # the reason is the command's error, not a stray log line
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


async def _fetch_keys(trusted: TrustedIssuer, timeout_seconds: float) -> list[Key]:
    """The issuer's signing keys, fetched now as the server fetches them
    (``remote_jwks.fetch_issuer_keys``); httpx is imported for this command only."""
    from anti_grazer.remote_json import JsonOverHttp  # noqa: PLC0415 - see above
    from anti_grazer.remote_jwks import fetch_issuer_keys  # noqa: PLC0415

    remote = JsonOverHttp(timeout_seconds=timeout_seconds)
    try:
        return await fetch_issuer_keys(remote, trusted)
    finally:
        await remote.aclose()


def _check_keys(trusted: TrustedIssuer, timeout_seconds: float) -> list[str]:
    """The kids of the issuer's signing keys, fetched now as the server would; a clear
    error when they cannot be."""
    from anti_grazer.remote_jwks import openid_configuration_url  # noqa: PLC0415

    where = trusted.jwks_uri or openid_configuration_url(trusted.issuer)
    with _collecting_reasons() as collected:
        try:
            keys = asyncio.run(_fetch_keys(trusted, timeout_seconds))
        except TemporarilyUnavailableError:
            reasons = "; ".join(collected.reasons) or "no usable answer"
            raise click.ClickException(
                f"cannot fetch the signing keys of {trusted.issuer} ({reasons}): the issuer "
                "must be exactly its tokens' iss, and serve its discovery document at "
                f"{where}; --no-check trusts it without fetching"
            ) from None
    if not keys:
        raise click.ClickException(f"{trusted.issuer} publishes no usable signing key at {where}")
    return [key.kid or "(no kid)" for key in keys]


@click.group()
def trust() -> None:
    """External issuers whose workload tokens authenticate bound clients (workload
    identity federation)."""


@trust.command()
@click.argument("issuer")
@click.option("--audience", required=True, help="The aud the issuer's tokens must name.")
@click.option(
    "--jwks-uri",
    default=None,
    help="Where the issuer's keys are (default: jwks_uri of "
    "ISSUER/.well-known/openid-configuration).",
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Trust it without fetching its keys now (an issuer this host cannot reach).",
)
@_JSON
def add(issuer: str, audience: str, jwks_uri: str | None, no_check: bool, as_json: bool) -> None:
    """Trust ISSUER's tokens for --audience: clients bound to it ('clients bind')
    authenticate with its tokens.  Its keys are fetched first, as the server will fetch
    them, unless --no-check."""
    settings = settings_or_exit()
    try:
        if jwks_uri is not None:
            check_jwks_uri(jwks_uri)
        trusted = new_trusted_issuer(SystemClock(), issuer, audience, jwks_uri)
    except (TrustConfigError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    kids = None if no_check else _check_keys(trusted, settings.federation_timeout_seconds)

    async def action(stores: OpenedStores) -> None:
        try:
            await trust_issuer(stores.trust, trusted)
        except TrustConfigError as error:
            raise click.ClickException(str(error)) from None
        details = {"audience": trusted.audience, "jwks_uri": trusted.jwks_uri}
        await audited(stores.audit, TRUST_ADDED, trusted.issuer, details=details)

    with_stores(action)
    if as_json:
        click.echo(json.dumps({**describe_issuer(trusted, []), "kids": kids}))
        return
    checked = "not checked" if kids is None else f"{len(kids)} signing key(s) found"
    click.echo(f"{issuer} trusted for audience {audience} ({checked})")


@trust.command(name="list")
@_JSON
def list_(as_json: bool) -> None:
    """List the trusted issuers, oldest first, with their audience and bound clients."""

    async def action(stores: OpenedStores) -> tuple[list[TrustedIssuer], list[FederationBinding]]:
        issuers, bindings = await asyncio.gather(
            stores.trust.list_issuers(), stores.trust.list_bindings()
        )
        return list(issuers), list(bindings)

    issuers, bindings = with_stores(action)
    described = [
        describe_issuer(i, [b.client_id for b in bindings if b.issuer == i.issuer]) for i in issuers
    ]
    if as_json:
        click.echo(json.dumps(described))
        return
    for item in described:
        keys = f"  jwks_uri {item['jwks_uri']}" if item["jwks_uri"] else ""
        bound = len(item["clients"])
        click.echo(f"{item['issuer']}  audience {item['audience']}{keys}  {bound} client(s)")


@trust.command()
@click.argument("issuer")
@click.option(
    "--cascade",
    is_flag=True,
    help="Also unbind every client bound to it (their workloads stop authenticating).",
)
@_JSON
def remove(issuer: str, cascade: bool, as_json: bool) -> None:
    """Stop trusting ISSUER.  Refused while clients are bound to it, unless --cascade."""

    async def action(stores: OpenedStores) -> list[str]:
        bound = [b.client_id for b in await stores.trust.list_bindings(issuer=issuer)]
        try:
            await distrust_issuer(stores.trust, issuer, with_bindings=cascade)
        except TrustConfigError as error:
            raise click.ClickException(str(error)) from None
        await audited(stores.audit, TRUST_REMOVED, issuer, details={"unbound": len(bound)})
        for client_id in bound:  # each client's trail says its workloads were cut off
            await audited(
                stores.audit,
                BINDING_REMOVED,
                client_id,
                client_id=client_id,
                details={"issuer": issuer},
            )
        return bound

    unbound = with_stores(action)
    if as_json:
        click.echo(json.dumps({"issuer": issuer, "removed": True, "unbound": unbound}))
        return
    click.echo(
        f"{issuer} no longer trusted" + (f"; unbound {', '.join(unbound)}" if unbound else "")
    )
