"""``anti-grazer clients limits``: a client's own rate limits and token quotas, and the
options that set them (also taken by ``clients create``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import click

from anti_grazer.cli.client_options import existing
from anti_grazer.cli.common import json_option, settings_or_exit, with_stores
from anti_grazer.protocol.client_admin import (
    ClientConfigError,
    UnknownClientIdError,
    changed_limits,
    set_client_limits,
)
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.models import (
    BURST_PER_MINUTE,
    LIMIT_NAMES,
    NEW_REPORTERS_PER_DAY,
    REQUESTS_PER_HOUR,
    TOKENS_PER_DAY,
    TOKENS_PER_HOUR,
    Client,
    ClientLimits,
)
from anti_grazer.protocol.rate_limits import WINDOW_SECONDS, RateLimitPolicy
from anti_grazer.store.runtime import OpenedStores

F = TypeVar("F", bound=Callable[..., Any])


def describe_limits(own: ClientLimits, policy: RateLimitPolicy | None) -> dict[str, Any]:
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


def limit_options(command: F) -> F:
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


def given_amounts(amounts: Mapping[str, int | None]) -> dict[str, int]:
    """The limit options given (``limit_options``: one per ``LIMIT_NAMES``)."""
    return {name: amount for name, amount in amounts.items() if amount is not None}


@click.command(name="limits")
@click.argument("client_id")
@limit_options
@click.option(
    "--reset",
    multiple=True,
    type=_LIMIT,
    metavar="LIMIT",
    help="Back to the server's default amount and mode for LIMIT (repeatable).",
)
@json_option("Print one JSON object on one line.")
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
    amounts = given_amounts(limit_amounts)
    changing = bool(amounts or log_only or enforce or reset)

    async def action(stores: OpenedStores) -> Client:
        client = await existing(stores, client_id)
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
        "limits": describe_limits(client.limits, settings_or_exit().rate_limit_policy),
    }
    click.echo(json.dumps(shown, indent=None if as_json else 2))
