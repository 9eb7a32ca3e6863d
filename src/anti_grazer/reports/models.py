"""The values of the reports API: reports, profiles as stored and as shown, blocklist pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# The longest profile or reporter id, and report reason, the API accepts and the store keeps.
MAX_ID_LENGTH = 200
MAX_REASON_LENGTH = 1000


class ProfileStatus(StrEnum):
    """Where a profile stands: never reported, reported by too few, or blocked."""

    CLEAR = "clear"
    REPORTED = "reported"
    BLOCKED = "blocked"


@dataclass(frozen=True, slots=True)
class Report:
    """One reporter's report of one profile, made through one client.

    A reporter is the pair (``client_id``, ``reporter_id``): the client's own id for its
    user.  There is at most one report per reporter and profile.
    """

    client_id: str
    reporter_id: str
    platform: str
    profile_id: str
    reason: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """The stored report, and whether this call created it (else it already existed)."""

    report: Report
    created: bool


@dataclass(frozen=True, slots=True)
class ProfileRecord:
    """What is stored of a reported profile: its distinct reporters and the distinct
    clients they came through (since it was last cleared), when (if ever) it was
    blocked, and when an operator last cleared it."""

    platform: str
    profile_id: str
    reporters: int
    first_reported_at: datetime
    blocked_at: datetime | None = None
    clients: int = 0
    cleared_at: datetime | None = None


@dataclass(frozen=True, slots=True, order=True)
class BlockPosition:
    """A place in the blocklist, which runs newest block first (then platform and profile
    id, descending): the last profile of a page."""

    blocked_at: datetime
    platform: str
    profile_id: str


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A profile as the API shows it."""

    platform: str
    profile_id: str
    reporters: int
    status: ProfileStatus
    blocked_at: datetime | None


@dataclass(frozen=True, slots=True)
class BlockedProfile:
    """One entry of the blocklist."""

    platform: str
    profile_id: str
    blocked_at: datetime


@dataclass(frozen=True, slots=True)
class BlocklistPage:
    """A page of the blocklist and the cursor of the next one (None on the last page)."""

    items: Sequence[BlockedProfile]
    next_cursor: str | None
