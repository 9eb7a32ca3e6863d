"""Errors of the reports API rules."""


class InvalidCursorError(ValueError):
    """A blocklist cursor that is malformed, altered, or from a different query."""
