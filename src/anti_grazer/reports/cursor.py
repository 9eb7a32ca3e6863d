"""Blocklist cursors: opaque, checked tokens naming the last profile of a page and the
filters of the query they continue.

A cursor is ``base64url(payload) "." base64url(check)`` where ``check`` is a truncated
SHA-256 of the payload.  Any alteration, truncation or reuse with other filters is
refused (``InvalidCursorError``) instead of silently paging wrong.  The check is not keyed:
a cursor is not a secret, and a forged one could only name a place in a list its holder
may read in full anyway; an unkeyed check also keeps cursors valid across workers and
instances without a shared key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import UTC, datetime

import orjson

from anti_grazer.reports.errors import InvalidCursorError
from anti_grazer.reports.inputs import utc_instant
from anti_grazer.reports.models import BlockPosition

_VERSION = 1
_CHECK_LABEL = b"anti-grazer blocklist cursor\x00"
_CHECK_BYTES = 12
MAX_CURSOR_LENGTH = 2048


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _check(payload: bytes) -> bytes:
    return hashlib.sha256(_CHECK_LABEL + payload).digest()[:_CHECK_BYTES]


def _filters(platform: str | None, since: datetime | None) -> list[str | None]:
    return [platform, since.astimezone(UTC).isoformat() if since is not None else None]


def encode_cursor(position: BlockPosition, *, platform: str | None, since: datetime | None) -> str:
    """The cursor continuing a query with these filters after ``position``."""
    payload = orjson.dumps(
        {
            "v": _VERSION,
            "f": _filters(platform, since),
            "p": [
                position.blocked_at.astimezone(UTC).isoformat(),
                position.platform,
                position.profile_id,
            ],
        }
    )
    return f"{_b64encode(payload)}.{_b64encode(_check(payload))}"


def decode_cursor(cursor: str, *, platform: str | None, since: datetime | None) -> BlockPosition:
    """The position ``cursor`` names; raises ``InvalidCursorError`` unless it is intact and
    was issued for the same filters."""
    if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise InvalidCursorError("malformed cursor")
    encoded_payload, dot, encoded_check = cursor.partition(".")
    try:
        payload = _b64decode(encoded_payload)
        check = _b64decode(encoded_check)
    except (binascii.Error, ValueError):
        raise InvalidCursorError("malformed cursor") from None
    # Only the canonical encoding: base64 decoding ignores stray characters and the
    # unused bits of the last one, which would let altered text through.
    canonical = _b64encode(payload) == encoded_payload and _b64encode(check) == encoded_check
    if not dot or not canonical or not hmac.compare_digest(check, _check(payload)):
        raise InvalidCursorError("cursor check failed")
    try:
        data = orjson.loads(payload)
        version, filters, (blocked_at_text, position_platform, profile_id) = (
            data["v"],
            data["f"],
            data["p"],
        )
        blocked_at = utc_instant(datetime.fromisoformat(blocked_at_text))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise InvalidCursorError("malformed cursor") from None
    if version != _VERSION or filters != _filters(platform, since):
        raise InvalidCursorError("cursor issued for another query")
    if not isinstance(position_platform, str) or not isinstance(profile_id, str):
        raise InvalidCursorError("malformed cursor")
    return BlockPosition(blocked_at, position_platform, profile_id)
