"""The system clock: wall-clock UTC time (``protocol.ports.Clock``)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Wall-clock UTC time."""

    def now(self) -> datetime:
        return datetime.now(UTC)
