"""Audit events in a SQLite file: recorded on the writer thread (``store.sql.audit``
says why), read and purged through the engine."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.protocol.audit import AuditEvent
from anti_grazer.store.sql.audit import INSERT_EVENT, SqlAuditStore, audit_row
from anti_grazer.store.sql.prepared import Prepared
from anti_grazer.store.sqlite.writer import SqliteWriter


class SqliteAuditStore(SqlAuditStore):
    """``SqlAuditStore`` whose events are written by ``writer``."""

    def __init__(self, engine: AsyncEngine, writer: SqliteWriter) -> None:
        super().__init__(engine)
        self._writer = writer
        self._insert = Prepared(INSERT_EVENT, engine.dialect)

    async def record(self, event: AuditEvent) -> None:
        sql, params = self._insert.sql, self._insert.params(audit_row(event))
        await self._writer.run(lambda c: c.execute(sql, params))
