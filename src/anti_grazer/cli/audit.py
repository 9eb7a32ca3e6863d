"""``anti-grazer audit``: read the audit trail (``protocol.audit``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import click

from anti_grazer.cli.common import json_option, with_stores
from anti_grazer.protocol.audit import KINDS, AuditEvent
from anti_grazer.protocol.client_admin import ClientConfigError, parse_duration
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.store.runtime import OpenedStores


def _since(value: str | None) -> datetime | None:
    """An RFC 3339 instant (``2026-12-01T00:00:00Z``), or a duration back from now
    (``24h``, ``7d``)."""
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(value)
    except ValueError:
        try:
            return SystemClock().now() - parse_duration(value)
        except ClientConfigError:
            raise click.BadParameter(
                "expected an instant (2026-12-01T00:00:00Z) or a duration (24h, 7d)",
                param_hint="--since",
            ) from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


def describe_event(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": event.at.isoformat(),
        "kind": event.kind,
        "actor": event.actor,
        "subject": event.subject,
        "outcome": event.outcome,
        "client_id": event.client_id,
        "details": dict(event.details),
    }


def _line(event: AuditEvent) -> str:
    details = " ".join(f"{name}={value}" for name, value in event.details.items())
    subject = event.subject or "-"
    fields = (event.at.isoformat(), f"{event.kind:18}", event.actor, subject, event.outcome)
    return f"{'  '.join(fields)}  {details}".rstrip()


@click.group()
def audit() -> None:
    """The audit trail: administrative and security events."""


@audit.command(name="list")
@click.option("--since", default=None, help="From this instant, or this long ago (24h, 7d).")
@click.option("--client", "client_id", default=None, help="Events about this client only.")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Events of this kind only.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=1000, show_default=True, help="The newest N."
)
@json_option("Print one JSON array.")
def list_(
    since: str | None, client_id: str | None, kind: str | None, limit: int, as_json: bool
) -> None:
    """List events, oldest first (the newest --limit of them)."""
    start = _since(since)

    async def action(stores: OpenedStores) -> Sequence[AuditEvent]:
        return await stores.audit.list_events(
            since=start, client_id=client_id, kind=kind, limit=limit
        )

    events = with_stores(action)
    if as_json:
        click.echo(json.dumps([describe_event(event) for event in events]))
        return
    for event in events:
        click.echo(_line(event))
