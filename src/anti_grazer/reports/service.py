"""The rules of the reports API: who may report what, when a profile is blocked, what its
status is, and how the blocklist pages.  Framework-free: the routes only translate HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from anti_grazer.protocol.ports import Clock
from anti_grazer.reports.cursor import BlocklistCursors
from anti_grazer.reports.errors import NewReporterLimitError
from anti_grazer.reports.models import (
    BlockedProfile,
    BlocklistPage,
    BlockPosition,
    ProfileRecord,
    ProfileStatus,
    ProfileView,
    Report,
    ReportOutcome,
)
from anti_grazer.reports.ports import ReporterQuota, ReportStore

REPORTS_WRITE_SCOPE = "reports:write"
PROFILES_READ_SCOPE = "profiles:read"
SCOPE_DESCRIPTIONS = {
    REPORTS_WRITE_SCOPE: "Report profiles as grazers.",
    PROFILES_READ_SCOPE: "Read profiles' status and the blocklist.",
}

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    """The configurable rules: the platforms reports may name, and how many distinct
    reporters, through how many distinct clients, block a profile."""

    platforms: frozenset[str]
    block_threshold: int
    min_clients: int = 1

    @classmethod
    def of(
        cls, platforms: Iterable[str], block_threshold: int, min_clients: int = 1
    ) -> ReportPolicy:
        if block_threshold < 1:
            raise ValueError("block_threshold must be at least 1")
        if min_clients < 1:
            raise ValueError("min_clients must be at least 1")
        return cls(frozenset(platforms), block_threshold, min_clients)

    def is_known_platform(self, platform: str) -> bool:
        return platform in self.platforms


def profile_status(record: ProfileRecord | None) -> ProfileStatus:
    """Blocked while a block time is stored (by its reports, or by an operator), else
    reported while it has reporters, clear otherwise (never reported, or cleared)."""
    if record is None:
        return ProfileStatus.CLEAR
    if record.blocked_at is not None:
        return ProfileStatus.BLOCKED
    return ProfileStatus.REPORTED if record.reporters else ProfileStatus.CLEAR


class ReportService:
    """Reports, profiles and the blocklist over a ``ReportStore``; ``cursors`` issues and
    checks the blocklist's cursors; ``quota`` counts each client's new reporters (None:
    they are not limited)."""

    def __init__(
        self,
        store: ReportStore,
        clock: Clock,
        policy: ReportPolicy,
        cursors: BlocklistCursors,
        quota: ReporterQuota | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy
        self.cursors = cursors
        self.quota = quota

    async def report(
        self,
        client_id: str,
        *,
        reporter_id: str,
        platform: str,
        profile_id: str,
        reason: str | None,
    ) -> ReportOutcome:
        """Record that ``reporter_id`` of ``client_id`` reports the profile as a grazer.

        Idempotent: a repeat returns the first report (its reason and time) with
        ``created`` false.  A reporter the client never named before is counted against
        its limit on new reporters: past it, ``NewReporterLimitError`` and nothing is
        stored (its known reporters still report).  The inputs are expected to have
        passed the API's validation.
        """
        if not self.policy.is_known_platform(platform):
            raise ValueError(f"unknown platform {platform!r}")
        if self.quota is not None and not await self.store.has_reporter(client_id, reporter_id):
            usage = await self.quota.new_reporter(client_id)
            if usage is not None and usage.refused:
                raise NewReporterLimitError(usage)
        report = Report(
            client_id=client_id,
            reporter_id=reporter_id,
            platform=platform,
            profile_id=profile_id,
            reason=reason,
            created_at=self.clock.now(),
        )
        return await self.store.add_report(
            report, self.policy.block_threshold, self.policy.min_clients
        )

    async def profile(self, platform: str, profile_id: str) -> ProfileView:
        """The profile's status; a profile never reported is ``clear``."""
        record = await self.store.get_profile(platform, profile_id)
        status = profile_status(record)
        return ProfileView(
            platform=platform,
            profile_id=profile_id,
            reporters=record.reporters if record is not None else 0,
            status=status,
            blocked_at=record.blocked_at if record is not None else None,
        )

    async def blocklist(
        self,
        *,
        platform: str | None = None,
        since: datetime | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> BlocklistPage:
        """One page of blocked profiles, newest block first; ``cursor`` (from the previous
        page, same filters) continues where it ended.  Raises ``InvalidCursorError``."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
        after: BlockPosition | None = None
        if cursor is not None:
            after = self.cursors.decode(cursor, platform=platform, since=since)
        records = await self.store.list_blocked(
            platform=platform, since=since, after=after, limit=limit + 1
        )
        page = [
            BlockedProfile(r.platform, r.profile_id, r.blocked_at)
            for r in records[:limit]
            if r.blocked_at is not None
        ]
        next_cursor = None
        if len(records) > limit and page:
            last = page[-1]
            next_cursor = self.cursors.encode(
                BlockPosition(last.blocked_at, last.platform, last.profile_id),
                platform=platform,
                since=since,
            )
        return BlocklistPage(page, next_cursor)
