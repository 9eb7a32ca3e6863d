"""The SQLite adapter of the ``ReportStore`` port: reports written through the engine with
SQLite's ``INSERT ... ON CONFLICT`` (``SqlReportStore``), one-row look-ups read on the
reader thread (``reader``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.prepared import PreparedQuery
from anti_grazer.store.sql.reports import SqlReportStore
from anti_grazer.store.sql.statements import PROFILE_BY_KEY, REPORT_BY_REPORTER
from anti_grazer.store.sqlite.reader import SqliteReader


class SqliteReportStore(SqlReportStore):
    """Reports and profiles in a SQLite file; the look-ups run on ``reader``."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader) -> None:
        super().__init__(engine)
        self._reader = reader
        self._prepared = {
            statement: PreparedQuery(statement, engine.dialect)
            for statement in (PROFILE_BY_KEY, REPORT_BY_REPORTER)
        }

    def _insert(self, table: Table) -> Any:
        return insert(table)

    async def _first_row(self, statement: Select[Any], values: dict[str, Any]) -> Any | None:
        return await self._reader.first(self._prepared[statement], values)
