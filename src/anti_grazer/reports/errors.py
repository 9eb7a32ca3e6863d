"""Errors of the reports API rules."""

from __future__ import annotations

from anti_grazer.protocol.rate_limits import Usage


class InvalidCursorError(ValueError):
    """A blocklist cursor that is malformed, altered, or from a different query."""


class NewReporterLimitError(Exception):
    """A report names a reporter its client never named before, one more than its limit
    on new reporters allows today (``usage``: the limit's state)."""

    def __init__(self, usage: Usage) -> None:
        super().__init__("new reporter limit exceeded")
        self.usage = usage
