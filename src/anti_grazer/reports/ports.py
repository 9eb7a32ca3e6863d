"""The storage interface the reports API needs; adapters live in ``anti_grazer.store``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from anti_grazer.protocol.rate_limits import Usage
from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report, ReportOutcome


class ReportStore(Protocol):
    """Reports, and per profile the count of distinct reporters and the block time."""

    async def add_report(
        self, report: Report, block_threshold: int, min_clients: int = 1
    ) -> ReportOutcome:
        """Store ``report`` unless its reporter (client and reporter id) has already
        reported that profile, in which case return the stored report, unchanged.

        A new report counts one more reporter for the profile in the same transaction
        (and one more client if its client had reported none), and blocks it
        (``blocked_at = report.created_at``) when the reporters reach ``block_threshold``
        and the clients ``min_clients``; only an operator lifts a block.  Safe under
        concurrent calls: a repeated report racing itself resolves to one stored report.
        """
        ...

    async def has_reporter(self, client_id: str, reporter_id: str) -> bool:
        """Whether a stored report names the reporter ``reporter_id`` of ``client_id`` (a
        cleared profile's reports are gone, and with them what they told)."""
        ...

    async def clear_profile(self, platform: str, profile_id: str, now: datetime) -> int:
        """An operator found the profile wrongly reported: its reports are deleted, its
        counts start again from zero, its block is lifted, and ``cleared_at`` is
        ``now``.  Returns how many reports went (0, and nothing changes, for a profile
        never reported)."""
        ...

    async def set_blocked(
        self, platform: str, profile_id: str, blocked_at: datetime | None, now: datetime
    ) -> ProfileRecord:
        """An operator blocks the profile (at ``blocked_at``; a profile never reported
        gets a record with no reporter) or lifts its block (None); its reports stay."""
        ...

    async def list_reports(self, platform: str, profile_id: str, limit: int) -> Sequence[Report]:
        """The profile's newest ``limit`` reports, oldest first."""
        ...

    async def get_profile(self, platform: str, profile_id: str) -> ProfileRecord | None:
        """The profile's record, or None if it has never been reported."""
        ...

    async def list_blocked(
        self,
        *,
        platform: str | None,
        since: datetime | None,
        after: BlockPosition | None,
        limit: int,
    ) -> Sequence[ProfileRecord]:
        """Up to ``limit`` blocked profiles, newest block first (ties: platform, then
        profile id, descending), only of ``platform`` if given, only blocked at or after
        ``since`` if given, and only those strictly after the position ``after``."""
        ...


class ReporterQuota(Protocol):
    """Each client's limit on the new distinct reporters its reports name per day
    (``protocol.throttle.Throttle``)."""

    async def new_reporter(self, client_id: str) -> Usage | None:
        """Count one reporter ``client_id`` never named before; its usage of the limit
        (None when nothing was counted)."""
        ...
