"""In-memory reference ``ReportStore``: the same contract as the SQL adapter, for tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report, ReportOutcome

_ReportKey = tuple[str, str, str, str]


def _position(record: ProfileRecord) -> BlockPosition:
    assert record.blocked_at is not None
    return BlockPosition(record.blocked_at, record.platform, record.profile_id)


class MemoryReportStore:
    """Reports keyed by (client, reporter, platform, profile); profiles by (platform, id).

    Every method runs without awaiting, so each is atomic on the event loop.
    """

    def __init__(self) -> None:
        self._reports: dict[_ReportKey, Report] = {}
        self._profiles: dict[tuple[str, str], ProfileRecord] = {}

    async def add_report(
        self, report: Report, block_threshold: int, min_clients: int = 1
    ) -> ReportOutcome:
        key = (report.client_id, report.reporter_id, report.platform, report.profile_id)
        existing = self._reports.get(key)
        if existing is not None:
            return ReportOutcome(existing, created=False)
        self._reports[key] = report
        profile_key = (report.platform, report.profile_id)
        profile = self._profiles.get(profile_key) or ProfileRecord(
            report.platform, report.profile_id, 0, report.created_at
        )
        reporters = profile.reporters + 1
        clients = len({r.client_id for r in self._reports_of(*profile_key)})
        blocked_at = profile.blocked_at
        if blocked_at is None and reporters >= block_threshold and clients >= min_clients:
            blocked_at = report.created_at
        self._profiles[profile_key] = replace(
            profile, reporters=reporters, clients=clients, blocked_at=blocked_at
        )
        return ReportOutcome(report, created=True)

    async def has_reporter(self, client_id: str, reporter_id: str) -> bool:
        return any(
            (r.client_id, r.reporter_id) == (client_id, reporter_id) for r in self._reports.values()
        )

    def _reports_of(self, platform: str, profile_id: str) -> list[Report]:
        return [
            r
            for r in self._reports.values()
            if (r.platform, r.profile_id) == (platform, profile_id)
        ]

    async def clear_profile(self, platform: str, profile_id: str, now: datetime) -> int:
        profile = self._profiles.get((platform, profile_id))
        if profile is None:
            return 0
        gone = [
            key
            for key, r in self._reports.items()
            if (r.platform, r.profile_id) == (platform, profile_id)
        ]
        for key in gone:
            del self._reports[key]
        self._profiles[(platform, profile_id)] = replace(
            profile, reporters=0, clients=0, blocked_at=None, cleared_at=now
        )
        return len(gone)

    async def set_blocked(
        self, platform: str, profile_id: str, blocked_at: datetime | None, now: datetime
    ) -> ProfileRecord:
        profile = self._profiles.get((platform, profile_id)) or ProfileRecord(
            platform, profile_id, 0, now
        )
        profile = replace(profile, blocked_at=blocked_at)
        self._profiles[(platform, profile_id)] = profile
        return profile

    async def list_reports(self, platform: str, profile_id: str, limit: int) -> Sequence[Report]:
        found = sorted(self._reports_of(platform, profile_id), key=lambda r: r.created_at)
        return found[-limit:]

    async def get_profile(self, platform: str, profile_id: str) -> ProfileRecord | None:
        return self._profiles.get((platform, profile_id))

    async def list_blocked(
        self,
        *,
        platform: str | None,
        since: datetime | None,
        after: BlockPosition | None,
        limit: int,
    ) -> Sequence[ProfileRecord]:
        blocked = [
            record
            for record in self._profiles.values()
            if record.blocked_at is not None
            and (platform is None or record.platform == platform)
            and (since is None or record.blocked_at >= since)
            and (after is None or _position(record) < after)
        ]
        blocked.sort(key=_position, reverse=True)
        return blocked[:limit]
