"""The storage interface the reports API needs; adapters live in ``anti_grazer.store``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report, ReportOutcome


class ReportStore(Protocol):
    """Reports, and per profile the count of distinct reporters and the block time."""

    async def add_report(self, report: Report, block_threshold: int) -> ReportOutcome:
        """Store ``report`` unless its reporter (client and reporter id) has already
        reported that profile, in which case return the stored report, unchanged.

        A new report counts one more reporter for the profile in the same transaction,
        and blocks it (``blocked_at = report.created_at``) when the count reaches
        ``block_threshold``; a block, once set, never changes.  Safe under concurrent
        calls: a repeated report racing itself resolves to one stored report.
        """
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
