"""The input types of the reports API (pydantic): every string a request brings carries
``VALID_UNICODE`` and every instant is an ``Instant``, so that the rules and the storage
never see a value they cannot hold.

- ``VALID_UNICODE``: a string of Unicode scalar values.  JSON's ``\\u`` escapes can spell a
  lone surrogate (RFC 8259 §8.2: software receiving one behaves unpredictably); it has
  no UTF-8 form, so no database stores it and no JSON answer can carry it back.
- ``Instant``: an RFC 3339 date-time (never Unix seconds) with a UTC offset naming an
  instant from ``MIN_INSTANT`` to the end of year 9999, given back in UTC.  RFC 3339
  offsets reach ±23:59, so ``9999-12-31T23:59:59-23:59`` is a valid timestamp after the
  last UTC ``datetime`` (and ``0001-01-01T00:00:00+14:00`` one before the first).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

# No report or block predates the Unix epoch (the end is the last year Python keeps).
MIN_INSTANT = datetime(1970, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "must be an instant in the years 1970 to 9999 (UTC)"


def refuse_lone_surrogates(value: object) -> object:
    """``value`` unless it is a string holding a lone surrogate (U+D800 to U+DFFF); any
    other type is left for the field's own type check."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode, without lone surrogates") from None
    return value


def utc_instant(value: datetime) -> datetime:
    """``value`` in UTC; ``ValueError`` if it has no UTC offset, or its instant is before
    ``MIN_INSTANT`` or after year 9999 in UTC (where ``astimezone`` overflows)."""
    if value.utcoffset() is None:
        raise ValueError("must have a UTC offset")
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None
    if instant < MIN_INSTANT:
        raise ValueError(OUT_OF_RANGE)
    return instant


def written_instant(value: object) -> object:
    """``value`` unless it is a number, or text that reads as one: pydantic would take it
    for Unix seconds, where the API documents RFC 3339 date-times (§5.6)."""
    numeric = isinstance(value, int | float)
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            pass
        else:
            numeric = True
    if numeric:
        raise ValueError("must be an RFC 3339 date-time with an offset, e.g. 2026-01-31T12:00:00Z")
    return value


# The last annotation of every string input (``Annotated[str, Field(...), VALID_UNICODE]``),
# so that it runs first: pydantic's length and pattern checks refuse a lone surrogate too,
# but as an unreadable ``string_unicode`` error and only when the field has such checks.
VALID_UNICODE = BeforeValidator(refuse_lone_surrogates)
Instant = Annotated[AwareDatetime, BeforeValidator(written_instant), AfterValidator(utc_instant)]
