"""UTCDateTime (store/sql/types.py): aware instants in, aware UTC instants out, and on
SQLite the very text SQLAlchemy's own ``DATETIME`` would have stored."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import Column, MetaData, Table, create_engine, insert, select
from sqlalchemy.dialects import sqlite

from anti_grazer.store.sql.types import UTCDateTime, sqlite_utc_text

SQLITE = sqlite.dialect()
OFFSETS = st.integers(min_value=-23 * 60 + 1, max_value=23 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
# Instants whose UTC form is still a valid datetime whatever the offset.
INSTANTS = st.datetimes(
    min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=OFFSETS
)


def composed_text(value: datetime) -> str:
    """What SQLAlchemy stores on SQLite for the value: ``process_bind_param``, then the
    ``DATETIME`` implementation's own bind processor."""
    naive = UTCDateTime().process_bind_param(value, SQLITE)
    processor = sqlite.DATETIME().bind_processor(SQLITE)  # type: ignore[no-untyped-call]
    assert processor is not None
    text: str = processor(naive)
    return text


@given(INSTANTS)
@example(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # no microseconds: still six digits
@example(datetime(999, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=-1))))  # year < 1000
def test_the_sqlite_text_is_sqlalchemys(value: datetime) -> None:
    assert sqlite_utc_text(value) == composed_text(value)


def test_the_sqlite_bind_processor_is_the_one_call() -> None:
    assert UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE) is sqlite_utc_text


def test_none_stays_none_and_a_naive_datetime_is_refused() -> None:
    assert sqlite_utc_text(None) is None
    with pytest.raises(ValueError, match="naive datetime"):
        sqlite_utc_text(datetime(2026, 11, 28, 12, 0))


def test_the_engine_stores_utc_text_and_reads_back_the_aware_instant(tmp_path: Path) -> None:
    path = tmp_path / "types.db"
    table = Table("t", MetaData(), Column("at", UTCDateTime))
    engine = create_engine(f"sqlite:///{path}")
    paris = timezone(timedelta(hours=1))
    value = datetime(2026, 11, 28, 13, 0, 0, 250, tzinfo=paris)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(insert(table), {"at": value})
        read_back = connection.execute(select(table.c.at)).scalar_one()
    engine.dispose()
    assert read_back == value
    assert read_back.tzinfo is UTC
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT at FROM t").fetchone() == ("2026-11-28 12:00:00.000250",)


@pytest.mark.parametrize(
    "value",
    [
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    ],
)
def test_an_instant_with_no_utc_datetime_is_a_value_error(value: datetime) -> None:
    """Its offset carries it past year 9999 or before year 1: a clear ``ValueError``, not
    the ``OverflowError`` of ``astimezone``, both as SQLite text and as a bound value."""
    message = "outside the years 1-9999 in UTC"
    with pytest.raises(ValueError, match=message):
        sqlite_utc_text(value)
    with pytest.raises(ValueError, match=message):
        UTCDateTime().process_bind_param(value, SQLITE)
