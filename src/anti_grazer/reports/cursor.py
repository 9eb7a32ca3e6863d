"""Blocklist cursors: opaque tokens naming the last profile of a page and the filters of
the query they continue, authenticated with a keyed MAC.

A cursor is ``base64url(payload) "." base64url(mac)`` where ``mac`` is the HMAC-SHA-256
(RFC 2104) of the payload under the cursor key, truncated to its first 128 bits (RFC 2104
§5; HMAC-SHA-256-128 of RFC 4868 §2.3 does the same).  Any alteration, truncation or reuse
with other filters is refused (``InvalidCursorError``) instead of silently paging wrong,
and without the key nobody can make a cursor the server did not issue: an unkeyed check
would let anyone write one naming any position, any instant included.  Every worker and
instance holds the same key (``Settings.cursor_key``, else one kept in the database;
``web/app.py`` hands it in), so a cursor issued by one is honoured by all.
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
_MAC_LABEL = b"anti-grazer blocklist cursor\x00"
_MAC_BYTES = 16
# RFC 2104 §3: a key shorter than the hash output (32 bytes) weakens the MAC.
MIN_KEY_BYTES = 32
MAX_CURSOR_LENGTH = 2048


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _filters(platform: str | None, since: datetime | None) -> list[str | None]:
    return [platform, since.astimezone(UTC).isoformat() if since is not None else None]


class BlocklistCursors:
    """Issues and checks blocklist cursors under one key, which it never shows (its
    ``repr`` is the default one, without the key)."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise ValueError(f"a cursor key has at least {MIN_KEY_BYTES} bytes")
        self._key = key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.digest(self._key, _MAC_LABEL + payload, hashlib.sha256)[:_MAC_BYTES]

    def encode(
        self, position: BlockPosition, *, platform: str | None, since: datetime | None
    ) -> str:
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
        return f"{_b64encode(payload)}.{_b64encode(self._mac(payload))}"

    def decode(self, cursor: str, *, platform: str | None, since: datetime | None) -> BlockPosition:
        """The position ``cursor`` names; raises ``InvalidCursorError`` unless this key
        issued it, unaltered, for the same filters."""
        if len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
            raise InvalidCursorError("malformed cursor")
        encoded_payload, dot, encoded_mac = cursor.partition(".")
        try:
            payload = _b64decode(encoded_payload)
            mac = _b64decode(encoded_mac)
        except (binascii.Error, ValueError):
            raise InvalidCursorError("malformed cursor") from None
        # Only the canonical encoding: base64 decoding ignores stray characters and the
        # unused bits of the last one, which would let altered text through.
        canonical = _b64encode(payload) == encoded_payload and _b64encode(mac) == encoded_mac
        if not dot or not canonical or not hmac.compare_digest(mac, self._mac(payload)):
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
