"""The PostgreSQL adapter of the ``ReportStore`` port: everything through the engine, with
PostgreSQL's ``INSERT ... ON CONFLICT`` (``SqlReportStore``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert

from anti_grazer.store.postgres.stores import first_row
from anti_grazer.store.sql.reports import SqlReportStore
from anti_grazer.store.sql.statements import PROFILE_BY_KEY


class PostgresReportStore(SqlReportStore):
    """Reports and profiles in PostgreSQL."""

    def _insert(self, table: Table) -> Any:
        return insert(table)

    async def _profile_row(self, platform: str, profile_id: str) -> Any | None:
        return await first_row(
            self.engine, PROFILE_BY_KEY, {"platform": platform, "profile_id": profile_id}
        )
