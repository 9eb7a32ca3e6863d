"""The SQLite adapter of the ``ReportStore`` port: reports written through the engine with
SQLite's ``INSERT ... ON CONFLICT`` (``SqlReportStore``), a profile read on the reader
thread (``reader``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.prepared import PreparedQuery
from anti_grazer.store.sql.reports import SqlReportStore
from anti_grazer.store.sql.statements import PROFILE_BY_KEY
from anti_grazer.store.sqlite.reader import SqliteReader


class SqliteReportStore(SqlReportStore):
    """Reports and profiles in a SQLite file; ``get_profile`` runs on ``reader``."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader) -> None:
        super().__init__(engine)
        self._reader = reader
        self._by_key = PreparedQuery(PROFILE_BY_KEY, engine.dialect)

    def _insert(self, table: Table) -> Any:
        return insert(table)

    async def _profile_row(self, platform: str, profile_id: str) -> Any | None:
        return await self._reader.first(
            self._by_key, {"platform": platform, "profile_id": profile_id}
        )
