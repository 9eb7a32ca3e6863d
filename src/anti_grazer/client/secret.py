"""A client secret held so that it never shows: no ``repr``, ``str`` or format of it
prints the value (a secret must not reach a log line, an error or a traceback)."""

from __future__ import annotations

from typing import Final

MASK: Final = "********"


class Secret:
    """A secret string that masks itself; ``reveal()`` is the one way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not value:
            raise ValueError("the client secret is empty")
        self._value = value

    def reveal(self) -> str:
        """The value itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, _spec: str) -> str:
        return MASK
