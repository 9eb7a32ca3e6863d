"""``anti-grazer clients bind`` and ``clients unbind``: a client authenticated by its
workloads' platform tokens (workload identity federation, ``protocol.trust_admin``)."""

from __future__ import annotations

import json
from typing import Any

import click

from anti_grazer.cli.common import audited, json_option, with_stores
from anti_grazer.protocol.audit import BINDING_ADDED, BINDING_REMOVED
from anti_grazer.protocol.claim_rules import render_claim_rules
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.models import FederationBinding
from anti_grazer.protocol.trust_admin import TrustConfigError, bind_client, unbind_client
from anti_grazer.store.runtime import OpenedStores


def describe_binding(binding: FederationBinding) -> dict[str, Any]:
    """A binding as the commands print it."""
    return {
        "client_id": binding.client_id,
        "issuer": binding.issuer,
        "claims": dict(binding.claims),
        "created_at": binding.created_at.isoformat(),
    }


@click.command()
@click.argument("client_id")
@click.option("--issuer", required=True, help="A trusted issuer ('anti-grazer trust add').")
@click.option(
    "--claim",
    "claims",
    multiple=True,
    required=True,
    metavar="NAME=PATTERN",
    help="A claim the token must have, equal to PATTERN, where * stands for any run of "
    "characters (':' and '/' included). Repeatable: every rule must match.",
)
@click.option("--replace", is_flag=True, help="Replace the rules of an existing binding.")
@json_option()
def bind(
    client_id: str, issuer: str, claims: tuple[str, ...], replace: bool, as_json: bool
) -> None:
    """Let the tokens of ISSUER whose claims match every --claim authenticate CLIENT_ID,
    sent as its client_assertion with client_id: no secret.

    \b
    Kubernetes:      --claim sub=system:serviceaccount:prod:*
    GitHub Actions:  --claim repository=org/app --claim ref=refs/heads/main
    """

    async def action(stores: OpenedStores) -> FederationBinding:
        try:
            binding = await bind_client(
                stores.trust, SystemClock(), client_id, issuer, claims, replace=replace
            )
        except TrustConfigError as error:
            raise click.ClickException(str(error)) from None
        details = {"issuer": issuer, "claims": render_claim_rules(binding.claims)}
        await audited(stores.audit, BINDING_ADDED, client_id, client_id=client_id, details=details)
        return binding

    binding = with_stores(action)
    if as_json:
        click.echo(json.dumps(describe_binding(binding)))
        return
    rules = " ".join(f"{name}={pattern}" for name, pattern in binding.claims)
    click.echo(f"{client_id} bound to {issuer}: {rules}")


@click.command()
@click.argument("client_id")
@click.option("--issuer", required=True, help="The issuer to unbind it from.")
@json_option()
def unbind(client_id: str, issuer: str, as_json: bool) -> None:
    """Stop ISSUER's tokens from authenticating CLIENT_ID."""

    async def action(stores: OpenedStores) -> None:
        try:
            await unbind_client(stores.trust, client_id, issuer)
        except TrustConfigError as error:
            raise click.ClickException(str(error)) from None
        details = {"issuer": issuer}
        await audited(
            stores.audit, BINDING_REMOVED, client_id, client_id=client_id, details=details
        )

    with_stores(action)
    if as_json:
        click.echo(json.dumps({"client_id": client_id, "issuer": issuer, "unbound": True}))
        return
    click.echo(f"{client_id} unbound from {issuer}")
