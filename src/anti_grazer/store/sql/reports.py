"""What the SQLite and PostgreSQL adapters of the ``ReportStore`` port share: a report and
its profile's reporter count change in one transaction through the engine, and
``INSERT ... ON CONFLICT`` (each backend's own) makes a repeated or racing report resolve
to the one stored row.  Each adapter (``store.sqlite.reports``, ``store.postgres.reports``)
supplies its dialect's ``INSERT`` and how the one-row look-ups are read."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Select,
    Table,
    and_,
    case,
    delete,
    distinct,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report, ReportOutcome
from anti_grazer.store.sql.rows import profile_from_row, report_from_row
from anti_grazer.store.sql.statements import PROFILE_BY_KEY, REPORT_BY_REPORTER
from anti_grazer.store.sql.tables import profiles, reports
from anti_grazer.store.sql.types import UTCDateTime

_REPORT_KEY = [reports.c.platform, reports.c.profile_id, reports.c.client_id, reports.c.reporter_id]
_PROFILE_KEY = [profiles.c.platform, profiles.c.profile_id]


class SqlReportStore(ABC):
    """Reports in the ``reports`` table; counts and blocks in ``profiles``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @abstractmethod
    def _insert(self, table: Table) -> Any:
        """The dialect's ``INSERT`` into ``table``, the one with ``ON CONFLICT`` clauses."""

    @abstractmethod
    async def _first_row(self, statement: Select[Any], values: dict[str, Any]) -> Any | None:
        """The first row of ``statement`` (one of ``store.sql.statements``) for
        ``values``, or None."""

    async def has_reporter(self, client_id: str, reporter_id: str) -> bool:
        values = {"client_id": client_id, "reporter_id": reporter_id}
        return await self._first_row(REPORT_BY_REPORTER, values) is not None

    async def add_report(
        self, report: Report, block_threshold: int, min_clients: int = 1
    ) -> ReportOutcome:
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
            await self._count_reporter(connection, report, block_threshold, min_clients)
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
        return report_from_row(row)

    async def _count_reporter(
        self,
        connection: AsyncConnection,
        report: Report,
        block_threshold: int,
        min_clients: int,
    ) -> None:
        now = literal(report.created_at, UTCDateTime())
        # The distinct clients of the profile's reports, this new one included.
        clients = (
            select(func.count(distinct(reports.c.client_id)))
            .where(
                (reports.c.platform == report.platform)
                & (reports.c.profile_id == report.profile_id)
            )
            .scalar_subquery()
        )
        reaches_threshold = and_(
            profiles.c.reporters + 1 >= block_threshold, clients >= min_clients
        )
        first_blocks = block_threshold <= 1 and min_clients <= 1
        upsert = (
            self._insert(profiles)
            .values(
                platform=report.platform,
                profile_id=report.profile_id,
                reporters=1,
                clients=1,
                first_reported_at=report.created_at,
                blocked_at=report.created_at if first_blocks else None,
            )
            .on_conflict_do_update(
                index_elements=_PROFILE_KEY,
                set_={
                    "reporters": profiles.c.reporters + 1,
                    "clients": clients,
                    "blocked_at": case(
                        (and_(profiles.c.blocked_at.is_(None), reaches_threshold), now),
                        else_=profiles.c.blocked_at,
                    ),
                },
            )
        )
        await connection.execute(upsert)

    async def clear_profile(self, platform: str, profile_id: str, now: datetime) -> int:
        the_profile = (profiles.c.platform == platform) & (profiles.c.profile_id == profile_id)
        its_reports = (reports.c.platform == platform) & (reports.c.profile_id == profile_id)
        async with self.engine.begin() as connection:
            found = await connection.execute(
                update(profiles)
                .where(the_profile)
                .values(reporters=0, clients=0, blocked_at=None, cleared_at=now)
            )
            if not found.rowcount:
                return 0
            deleted = await connection.execute(delete(reports).where(its_reports))
            return deleted.rowcount or 0

    async def set_blocked(
        self, platform: str, profile_id: str, blocked_at: datetime | None, now: datetime
    ) -> ProfileRecord:
        async with self.engine.begin() as connection:
            await connection.execute(
                self._insert(profiles)
                .values(
                    platform=platform,
                    profile_id=profile_id,
                    reporters=0,
                    clients=0,
                    first_reported_at=now,
                    blocked_at=blocked_at,
                )
                .on_conflict_do_update(index_elements=_PROFILE_KEY, set_={"blocked_at": blocked_at})
            )
            row = (
                await connection.execute(
                    select(profiles).where(
                        (profiles.c.platform == platform) & (profiles.c.profile_id == profile_id)
                    )
                )
            ).one()
        return profile_from_row(row)

    async def list_reports(self, platform: str, profile_id: str, limit: int) -> Sequence[Report]:
        query = (
            select(reports)
            .where((reports.c.platform == platform) & (reports.c.profile_id == profile_id))
            .order_by(reports.c.created_at.desc(), reports.c.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = list(await connection.execute(query))
        return [report_from_row(row) for row in reversed(rows)]

    async def get_profile(self, platform: str, profile_id: str) -> ProfileRecord | None:
        row = await self._first_row(
            PROFILE_BY_KEY, {"platform": platform, "profile_id": profile_id}
        )
        return profile_from_row(row) if row is not None else None

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
            return [profile_from_row(row) for row in result]
