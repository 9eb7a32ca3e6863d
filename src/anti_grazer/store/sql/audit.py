"""The ``AuditStore`` port over the ``audit_events`` table, shared by both backends:
reads and purges through the engine.  ``record`` goes through the engine too on
PostgreSQL; SQLite's adapter records on its writer thread instead
(``store.sqlite.audit``), where an event joins the batch of token writes being committed
rather than queueing for the write lock behind it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.store.sql.tables import audit_events

_events = audit_events.c
# Every column but the generated id, each bound by its name.
INSERT_EVENT = insert(audit_events).values(
    {
        column.name: bindparam(column.name, type_=column.type)
        for column in audit_events.columns
        if column.name != "id"
    }
)


def audit_row(event: AuditEvent) -> dict[str, Any]:
    """The row of ``event``."""
    return {
        "at": event.at,
        "kind": event.kind,
        "actor": event.actor,
        "subject": event.subject,
        "outcome": event.outcome,
        "client_id": event.client_id,
        "details": json.dumps(dict(event.details), separators=(",", ":"), sort_keys=True),
    }


def audit_event_from_row(row: Any) -> AuditEvent:
    return AuditEvent(
        row.at,
        row.kind,
        row.actor,
        row.subject,
        row.outcome,
        row.client_id,
        json.loads(row.details),
    )


class SqlAuditStore:
    """Audit events in the ``audit_events`` table of ``engine``'s database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, event: AuditEvent) -> None:
        async with self.engine.begin() as connection:
            await connection.execute(INSERT_EVENT, audit_row(event))

    async def list_events(
        self,
        *,
        since: datetime | None = None,
        client_id: str | None = None,
        kind: str | None = None,
        limit: int = 1000,
    ) -> Sequence[AuditEvent]:
        query = select(audit_events)
        if since is not None:
            query = query.where(_events.at >= since)
        if client_id is not None:
            query = query.where(_events.client_id == client_id)
        if kind is not None:
            query = query.where(_events.kind == kind)
        newest = query.order_by(_events.at.desc(), _events.id.desc()).limit(limit)
        async with self.engine.connect() as connection:
            rows = list(await connection.execute(newest))
        return [audit_event_from_row(row) for row in reversed(rows)]

    async def purge_before(self, before: datetime) -> int:
        async with self.engine.begin() as connection:
            result = await connection.execute(delete(audit_events).where(_events.at < before))
            return result.rowcount or 0
