"""The PostgreSQL adapter of the ``ReportStore`` port: everything through the engine, with
PostgreSQL's ``INSERT ... ON CONFLICT`` (``SqlReportStore``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, Table
from sqlalchemy.dialects.postgresql import insert

from anti_grazer.store.postgres.stores import first_row
from anti_grazer.store.sql.reports import SqlReportStore


class PostgresReportStore(SqlReportStore):
    """Reports and profiles in PostgreSQL."""

    def _insert(self, table: Table) -> Any:
        return insert(table)

    async def _first_row(self, statement: Select[Any], values: dict[str, Any]) -> Any | None:
        return await first_row(self.engine, statement, values)
