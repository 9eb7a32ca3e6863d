"""SQL adapter for the ``ReportStore`` port: a report and its profile's reporter count
change in one transaction; ``INSERT ... ON CONFLICT`` (SQLite and PostgreSQL) makes a
repeated or racing report resolve to the one stored row."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report, ReportOutcome
from anti_grazer.store.sql.lookup import Lookup
from anti_grazer.store.sql.tables import profiles, reports
from anti_grazer.store.sql.types import UTCDateTime
from anti_grazer.store.sqlite.reader import SqliteReader

_REPORT_KEY = [reports.c.platform, reports.c.profile_id, reports.c.client_id, reports.c.reporter_id]
_PROFILE_KEY = [profiles.c.platform, profiles.c.profile_id]
_PROFILE_BY_KEY = select(profiles).where(
    (profiles.c.platform == bindparam("platform"))
    & (profiles.c.profile_id == bindparam("profile_id"))
)


def _report_from_row(row: Any) -> Report:
    return Report(
        client_id=row.client_id,
        reporter_id=row.reporter_id,
        platform=row.platform,
        profile_id=row.profile_id,
        reason=row.reason,
        created_at=row.created_at,
    )


def _profile_from_row(row: Any) -> ProfileRecord:
    return ProfileRecord(
        platform=row.platform,
        profile_id=row.profile_id,
        reporters=row.reporters,
        first_reported_at=row.first_reported_at,
        blocked_at=row.blocked_at,
    )


class SqlReportStore:
    """Reports in the ``reports`` table; counts and blocks in ``profiles``.
    ``get_profile`` runs on ``reader`` if given."""

    def __init__(self, engine: AsyncEngine, reader: SqliteReader | None = None) -> None:
        self.engine = engine
        self._profile_by_key = Lookup(_PROFILE_BY_KEY, engine, reader)
        dialect = engine.dialect.name
        if dialect not in ("postgresql", "sqlite"):
            raise ValueError(f"unsupported database {dialect!r} (SQLite or PostgreSQL)")
        # The engine's own dialect only: PostgreSQL's is 2 MiB of RSS a worker on SQLite.
        self._insert: Any = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert

    async def add_report(self, report: Report, block_threshold: int) -> ReportOutcome:
        async with self.engine.begin() as connection:
            inserted = await connection.execute(
                self._insert(reports)
                .values(
                    platform=report.platform,
                    profile_id=report.profile_id,
                    client_id=report.client_id,
                    reporter_id=report.reporter_id,
                    reason=report.reason,
                    created_at=report.created_at,
                )
                .on_conflict_do_nothing(index_elements=_REPORT_KEY)
                .returning(reports.c.id)
            )
            if inserted.first() is None:
                return ReportOutcome(await self._stored_report(connection, report), created=False)
            await self._count_reporter(connection, report, block_threshold)
        return ReportOutcome(report, created=True)

    async def _stored_report(self, connection: AsyncConnection, report: Report) -> Report:
        # The conflicting row is committed: PostgreSQL's ON CONFLICT waited for it, and
        # each READ COMMITTED statement sees what was committed before it began.
        result = await connection.execute(
            select(reports).where(
                (reports.c.platform == report.platform)
                & (reports.c.profile_id == report.profile_id)
                & (reports.c.client_id == report.client_id)
                & (reports.c.reporter_id == report.reporter_id)
            )
        )
        row = result.first()
        if row is None:
            raise RuntimeError("a conflicting report is not visible")
        return _report_from_row(row)

    async def _count_reporter(
        self, connection: AsyncConnection, report: Report, block_threshold: int
    ) -> None:
        now = literal(report.created_at, UTCDateTime())
        reaches_threshold = profiles.c.reporters + 1 >= block_threshold
        upsert = (
            self._insert(profiles)
            .values(
                platform=report.platform,
                profile_id=report.profile_id,
                reporters=1,
                first_reported_at=report.created_at,
                blocked_at=report.created_at if block_threshold <= 1 else None,
            )
            .on_conflict_do_update(
                index_elements=_PROFILE_KEY,
                set_={
                    "reporters": profiles.c.reporters + 1,
                    "blocked_at": case(
                        (and_(profiles.c.blocked_at.is_(None), reaches_threshold), now),
                        else_=profiles.c.blocked_at,
                    ),
                },
            )
        )
        await connection.execute(upsert)

    async def get_profile(self, platform: str, profile_id: str) -> ProfileRecord | None:
        row = await self._profile_by_key({"platform": platform, "profile_id": profile_id})
        return _profile_from_row(row) if row is not None else None

    async def list_blocked(
        self,
        *,
        platform: str | None,
        since: datetime | None,
        after: BlockPosition | None,
        limit: int,
    ) -> Sequence[ProfileRecord]:
        query = select(profiles).where(profiles.c.blocked_at.is_not(None))
        if platform is not None:
            query = query.where(profiles.c.platform == platform)
        if since is not None:
            query = query.where(profiles.c.blocked_at >= since)
        if after is not None:
            query = query.where(
                or_(
                    profiles.c.blocked_at < after.blocked_at,
                    (profiles.c.blocked_at == after.blocked_at)
                    & (profiles.c.platform < after.platform),
                    (profiles.c.blocked_at == after.blocked_at)
                    & (profiles.c.platform == after.platform)
                    & (profiles.c.profile_id < after.profile_id),
                )
            )
        query = query.order_by(
            profiles.c.blocked_at.desc(), profiles.c.platform.desc(), profiles.c.profile_id.desc()
        ).limit(limit)
        async with self.engine.connect() as connection:
            result = await connection.execute(query)
            return [_profile_from_row(row) for row in result]
