"""Blocklist cursors: round trip, and refusal of anything altered, forged, issued under
another key or reused elsewhere (HMAC-SHA-256, RFC 2104)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.reports.cursor import BlocklistCursors
from anti_grazer.reports.errors import InvalidCursorError
from anti_grazer.reports.models import BlockPosition
from tests.reports.helpers import b64url

KEY = bytes(range(32))
CURSORS = BlocklistCursors(KEY)
POSITION = BlockPosition(datetime(2026, 6, 1, 12, 0, 0, 1, tzinfo=UTC), "x", "grazer")


@given(
    moment=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    platform=st.text(max_size=32),
    profile_id=st.text(min_size=1, max_size=200),
    filter_platform=st.none() | st.sampled_from(["x", "facebook"]),
)
def test_a_cursor_round_trips(
    moment: datetime, platform: str, profile_id: str, filter_platform: str | None
) -> None:
    position = BlockPosition(moment, platform, profile_id)
    cursor = CURSORS.encode(position, platform=filter_platform, since=None)
    assert cursor.isascii()
    assert CURSORS.decode(cursor, platform=filter_platform, since=None) == position


def test_the_since_filter_is_compared_as_an_instant() -> None:
    since = datetime(2026, 6, 1, 12, tzinfo=UTC)
    cursor = CURSORS.encode(POSITION, platform=None, since=since)
    paris = since.astimezone(timezone(timedelta(hours=2)))
    assert CURSORS.decode(cursor, platform=None, since=paris) == POSITION
    with pytest.raises(InvalidCursorError):
        CURSORS.decode(cursor, platform=None, since=since + timedelta(microseconds=1))
    with pytest.raises(InvalidCursorError):
        CURSORS.decode(cursor, platform=None, since=None)


@given(st.text(max_size=300))
def test_arbitrary_text_is_refused_never_crashes(text: str) -> None:
    with pytest.raises(InvalidCursorError):
        CURSORS.decode(text, platform=None, since=None)


@given(index=st.integers(min_value=0), character=st.sampled_from("AQgw-_0."))
def test_any_altered_character_is_refused(index: int, character: str) -> None:
    cursor = CURSORS.encode(POSITION, platform=None, since=None)
    index %= len(cursor)
    changed = cursor[:index] + character + cursor[index + 1 :]
    if changed != cursor:
        with pytest.raises(InvalidCursorError):
            CURSORS.decode(changed, platform=None, since=None)


def checked(payload: dict[str, object], key: bytes | None = KEY) -> str:
    """A cursor for ``payload`` with the MAC under ``key`` (None: the unkeyed SHA-256
    check cursors once had, which anyone can compute), written out here rather than
    taken from the code under test."""
    raw = json.dumps(payload).encode()
    message = b"anti-grazer blocklist cursor\x00" + raw
    if key is None:
        check = hashlib.sha256(message).digest()[:12]
    else:
        check = hmac.new(key, message, hashlib.sha256).digest()[:16]
    return f"{b64url(raw)}.{b64url(check)}"


PAYLOAD = {"v": 1, "f": [None, None], "p": ["2026-06-01T14:00:00+02:00", "x", "g"]}


def test_a_cursor_with_the_keys_mac_is_decoded() -> None:
    position = BlockPosition(datetime(2026, 6, 1, 12, tzinfo=UTC), "x", "g")
    assert CURSORS.decode(checked(PAYLOAD), platform=None, since=None) == position


@pytest.mark.parametrize("key", [None, bytes(32), KEY + b"!"])
def test_a_cursor_without_the_keys_mac_is_refused(key: bytes | None) -> None:
    """Forged with the unkeyed check, or issued under another key."""
    with pytest.raises(InvalidCursorError, match="cursor check failed"):
        CURSORS.decode(checked(PAYLOAD, key), platform=None, since=None)


def test_every_holder_of_the_key_honours_its_cursors() -> None:
    """As every worker and instance does, each with its own ``BlocklistCursors``."""
    cursor = BlocklistCursors(bytes(KEY)).encode(POSITION, platform=None, since=None)
    assert CURSORS.decode(cursor, platform=None, since=None) == POSITION


def test_the_key_is_at_least_32_bytes_and_never_shown() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        BlocklistCursors(bytes(31))
    assert KEY.hex() not in repr(CURSORS)
    assert repr(KEY) not in repr(CURSORS)


@pytest.mark.parametrize(
    "blocked_at",
    [
        "0001-01-01T00:00:00+14:00",  # before the first UTC datetime
        "9999-12-31T23:59:59-23:59",  # after the last one
        "1969-12-31T23:59:59Z",
        "2026-06-01T12:00:00",  # no offset
        "2026-06-31T12:00:00Z",
        17,
    ],
)
def test_a_checked_cursor_naming_no_valid_instant_is_refused(blocked_at: object) -> None:
    """Defence in depth: the instant is checked as the API checks ``since``."""
    cursor = checked({"v": 1, "f": [None, None], "p": [blocked_at, "x", "g"]})
    with pytest.raises(InvalidCursorError, match="malformed cursor"):
        CURSORS.decode(cursor, platform=None, since=None)


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def test_unused_bits_of_the_last_base64_character_are_not_ignored() -> None:
    """Base64 decoders drop the spare low bits of a final partial group; a cursor differing
    only there decodes to the same bytes, yet is not the cursor we issued."""
    for profile_id in ["a", "ab", "abc"]:
        cursor = CURSORS.encode(
            BlockPosition(POSITION.blocked_at, "x", profile_id), platform=None, since=None
        )
        payload, _, check = cursor.partition(".")
        if len(payload) % 4:
            break
    else:
        pytest.fail("no cursor with a partial final base64 group")
    last = ALPHABET.index(payload[-1])
    twin = payload[:-1] + ALPHABET[last ^ 1] + "." + check
    with pytest.raises(InvalidCursorError):
        CURSORS.decode(twin, platform=None, since=None)
    spaced = payload[:10] + "!" + payload[10:] + "." + check
    with pytest.raises(InvalidCursorError):
        CURSORS.decode(spaced, platform=None, since=None)
