"""Opaque credentials: access tokens, client secrets and client ids, and their digests.

Format (DESIGN.md §4.2): a recognisable prefix, 256 random bits in base62 and a CRC32
checksum in base62, e.g. ``ag_cs_<43 chars><6 chars>``.  Secret scanners find them by the
prefix; a malformed or mistyped token fails the checksum without a storage lookup.
Storage keeps only SHA-2 digests: the values carry 256 bits of entropy, so a fast hash is
safe and brute force is hopeless (DESIGN.md §4.1).

An access token also starts with its issue time, ``ag_at_<8 chars><43 chars><6 chars>``
(milliseconds since the epoch in fixed-width base62, which sorts like the number).  It is
stored under that time followed by its SHA-224 digest, 64 characters.  Tokens
issued one after the other then have neighbouring keys in the database's index, as UUIDv7
keys do: an insert writes the index's last page instead of a random one, and a purge of the
oldest tokens deletes whole pages.  The time is no secret: the client knows when it got
the token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import zlib
from base64 import urlsafe_b64encode
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from anti_grazer.protocol.models import MAX_LIVE_SECRETS

ACCESS_TOKEN_PREFIX = "ag_at_"
CLIENT_SECRET_PREFIX = "ag_cs_"
CLIENT_ID_PREFIX = "ag_ci_"
SECRET_ID_PREFIX = "ag_sid_"
SECRET_DIGEST_SCHEME = "sha256$"

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_RANDOM_CHARS = 43  # 62**43 > 2**256
_CHECKSUM_CHARS = 6  # 62**6 > 2**32
_BODY_CHARS = _RANDOM_CHARS + _CHECKSUM_CHARS
_TIME_CHARS = 8  # 62**8 milliseconds since 1970 last until the year 8888
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_ACCESS_TOKEN_LENGTH = len(ACCESS_TOKEN_PREFIX) + _TIME_CHARS + _BODY_CHARS


def _base62(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


_VALUE_OF = {char: value for value, char in enumerate(_ALPHABET)}


def _from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _VALUE_OF[char]
    return number


def _checksum(checked: str) -> str:
    return _base62(zlib.crc32(checked.encode("ascii")), _CHECKSUM_CHARS)


# Random bytes map onto the alphabet with bytes.translate: the 248 values below 4 * 62
# map to one character each (4 values per character: uniform), the 8 above are dropped.
_UNIFORM_BYTES = 4 * len(_ALPHABET)
_TO_ALPHABET = bytes(ord(_ALPHABET[value % 62]) for value in range(_UNIFORM_BYTES)).ljust(256)
_OUT_OF_RANGE = bytes(range(_UNIFORM_BYTES, 256))


def _random_base62(length: int) -> str:
    """``length`` characters drawn uniformly from the base62 alphabet (5.95 bits each)."""
    drawn = b""
    while len(drawn) < length:
        drawn += secrets.token_bytes(length + 8).translate(_TO_ALPHABET, _OUT_OF_RANGE)
    return drawn[:length].decode("ascii")


def _generate(prefix: str, checked: str = "") -> str:
    """``prefix``, ``checked`` and 256 random bits, then the checksum of all but the prefix."""
    body = checked + _random_base62(_RANDOM_CHARS)
    return prefix + body + _checksum(body)


def _has_valid_checksum(value: str, prefix: str, length: int) -> bool:
    if len(value) != length or not value.startswith(prefix):
        return False
    body = value[len(prefix) :]
    if not body.isascii() or not body.isalnum():
        return False
    # Decoding the checksum costs a third of encoding the CRC; neither is secret.
    checked, checksum = body[:-_CHECKSUM_CHARS], body[-_CHECKSUM_CHARS:]
    return _from_base62(checksum) == zlib.crc32(checked.encode("ascii"))


def _time_stamp(moment: datetime) -> str:
    """``moment`` (aware) in milliseconds since the epoch, fixed-width base62."""
    return _base62((moment - _EPOCH) // _MILLISECOND, _TIME_CHARS)


def generate_access_token(issued_at: datetime) -> str:
    """A new opaque access token, ``ag_at_...``, stamped with ``issued_at`` (aware)."""
    return _generate(ACCESS_TOKEN_PREFIX, _time_stamp(issued_at))


def is_well_formed_access_token(token: str) -> bool:
    """True if ``token`` has our prefix, length, alphabet and a matching checksum."""
    return _has_valid_checksum(token, ACCESS_TOKEN_PREFIX, _ACCESS_TOKEN_LENGTH)


def access_token_digest(token: str) -> str:
    """The 64 characters under which an access token is stored: its issue time (8) and
    its SHA-224 hex digest (56)."""
    issued = token[len(ACCESS_TOKEN_PREFIX) : len(ACCESS_TOKEN_PREFIX) + _TIME_CHARS]
    return issued + hashlib.sha224(token.encode("utf-8")).hexdigest()


def jwt_access_token_digest(token: str, issued_at: int) -> str:
    """The 64 characters under which a JWT access token is stored: like an opaque
    token's, its issue time (its ``iat``, seconds since the epoch) and the SHA-224 hex
    digest of the whole token, signature included (so only the very token we issued
    finds its record)."""
    stamp = _time_stamp(_EPOCH + timedelta(seconds=issued_at))
    return stamp + hashlib.sha224(token.encode("utf-8")).hexdigest()


def generate_jti() -> str:
    """A new JWT ID (RFC 7519 §4.1.7): 22 base62 characters, 128 random bits."""
    return _random_base62(22)


# The label that sets token ids apart from every other hash of a digest.
_TOKEN_ID_LABEL = b"anti-grazer token id\x00"


def token_id(digest: str) -> str:
    """The stable, public identifier of the token stored under ``digest``: the ``jti``
    of its introspection (RFC 7662 §2.2, RFC 7519 §4.1.7), 43 base64url characters.

    SHA-256 of the digest under a label of its own: the same on every instance with no
    column to store, unique as the digest is, and it does not give the digest away (the
    storage key cannot be computed back from it, and the digest, like the token, has 256
    bits of entropy to guess).  Nothing is authenticated with it, so no key is needed."""
    hashed = hashlib.sha256(_TOKEN_ID_LABEL + digest.encode("ascii")).digest()
    return urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def generate_client_secret() -> str:
    """A new server-generated client secret, ``ag_cs_...`` (256 random bits)."""
    return _generate(CLIENT_SECRET_PREFIX)


def generate_client_id() -> str:
    """A new client id, ``ag_ci_`` + 22 base62 characters (128 random bits)."""
    return CLIENT_ID_PREFIX + _random_base62(22)


def client_secret_digest(secret: str) -> str:
    """The self-describing digest stored for a client secret: ``sha256$<hex>``."""
    return SECRET_DIGEST_SCHEME + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def generate_secret_id() -> str:
    """A new public id of a client secret, ``ag_sid_`` + 12 base62 characters: it names
    the secret in logs and listings (unlike ``ag_cs_`` values, it is not redacted)."""
    return SECRET_ID_PREFIX + _random_base62(12)


# Compared against in place of missing candidates (an unknown client id, a client with
# one live secret), so that the work is the same.
_UNKNOWN_CLIENT_DIGEST = client_secret_digest(generate_client_secret())


def verify_client_secret(secret: str, stored_digests: Sequence[str]) -> int | None:
    """The index in ``stored_digests`` of the one ``secret`` matches, or None.

    The presented secret is hashed once and compared in constant time against every
    candidate, padded with a throw-away digest to ``MAX_LIVE_SECRETS`` comparisons, with
    no early exit: an unknown client (no candidates), a wrong secret and a match of the
    first or the second secret all cost the same work.
    """
    presented = client_secret_digest(secret)
    padding = [_UNKNOWN_CLIENT_DIGEST] * max(0, MAX_LIVE_SECRETS - len(stored_digests))
    found: int | None = None
    for index, expected in enumerate([*stored_digests, *padding]):
        matches = hmac.compare_digest(presented, expected)
        found = index if matches and index < len(stored_digests) else found
    return found
