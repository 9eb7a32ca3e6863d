"""Column types shared by the tables: timezone-aware UTC timestamps on every backend."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator


def _in_utc(value: datetime) -> datetime:
    """The aware instant ``value`` in UTC; a naive datetime names no instant, and one whose
    offset carries it past year 1 or 9999 has no UTC ``datetime`` (both ``ValueError``;
    the API refuses such input before it gets here)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(
            "datetime given to a UTC column is outside the years 1-9999 in UTC"
        ) from None


def sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware instant as SQLite stores it: naive UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff``,
    the text SQLAlchemy's SQLite ``DATETIME`` writes."""
    if value is None:
        return None
    return _in_utc(value).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC instants; returns aware ``datetime`` objects (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, ``sqlite_utc_text`` in one call instead of ``process_bind_param``
        followed by ``DATETIME``'s ``%``-formatting: every token stored binds two such
        values, on the token path (tests/store/sql/test_types.py checks both give the same
        text)."""
        if dialect.name == "sqlite":
            return sqlite_utc_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = _in_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
