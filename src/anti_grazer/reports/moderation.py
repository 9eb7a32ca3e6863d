"""Moderation: what an operator does to one profile (``anti-grazer profiles``), over the
``ReportStore``.  Clearing deletes the profile's reports (judged wrong), so that only
reports made after it count towards a new block; blocking and unblocking set or lift
the block and keep the reports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from anti_grazer.protocol.ports import Clock
from anti_grazer.reports.models import ProfileRecord, Report
from anti_grazer.reports.ports import ReportStore

SHOWN_REPORTS = 50


@dataclass(frozen=True, slots=True)
class ProfileFile:
    """A profile as an operator reviews it: its record (None: never reported nor
    moderated) and its newest reports."""

    record: ProfileRecord | None
    reports: Sequence[Report]


class Moderation:
    def __init__(self, store: ReportStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def show(self, platform: str, profile_id: str) -> ProfileFile:
        record = await self.store.get_profile(platform, profile_id)
        reports = await self.store.list_reports(platform, profile_id, SHOWN_REPORTS)
        return ProfileFile(record, reports)

    async def clear(self, platform: str, profile_id: str) -> int:
        """Delete the profile's reports and lift its block; how many reports went."""
        return await self.store.clear_profile(platform, profile_id, self.clock.now())

    async def block(self, platform: str, profile_id: str) -> ProfileRecord:
        now = self.clock.now()
        record = await self.store.get_profile(platform, profile_id)
        if record is not None and record.blocked_at is not None:
            return record  # blocked already: its block time stands
        return await self.store.set_blocked(platform, profile_id, now, now)

    async def unblock(self, platform: str, profile_id: str) -> ProfileRecord | None:
        """Lift the block (None: the profile was never reported nor blocked)."""
        if await self.store.get_profile(platform, profile_id) is None:
            return None
        return await self.store.set_blocked(platform, profile_id, None, self.clock.now())
