"""Opaque credential format and digests (DESIGN.md §4.1, §4.2; RFC 6749 §10.10: tokens
unguessable; RFC 6819 §5.1.4.1.3: store only hashes)."""

from __future__ import annotations

import hashlib
import hmac
import re
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from anti_grazer.protocol.models import MAX_LIVE_SECRETS
from anti_grazer.protocol.tokens import (
    access_token_digest,
    client_secret_digest,
    generate_access_token,
    generate_client_id,
    generate_client_secret,
    is_well_formed_access_token,
    verify_client_secret,
)
from tests.support import BASE62

ACCESS_TOKEN_SHAPE = re.compile(r"ag_at_[0-9A-Za-z]{57}")
ISSUED = datetime(2026, 11, 27, 23, 30, 0, 123000, tzinfo=UTC)


def base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + BASE62.index(char)
    return number


def test_access_tokens_have_the_prefix_time_length_and_alphabet() -> None:
    """DESIGN.md §4.2: ``ag_at_`` + 8 base62 characters of issue time (ms since the epoch)
    + 43 base62 random characters + 6 checksum characters."""
    for _ in range(50):
        token = generate_access_token(ISSUED)
        assert ACCESS_TOKEN_SHAPE.fullmatch(token), token
        assert base62(token[6:14]) == 1_795_822_200_123
        assert is_well_formed_access_token(token)


def test_access_tokens_are_unique() -> None:
    """RFC 6749 §10.10: tokens must not be guessable; 256 random bits never repeat, even
    within one millisecond."""
    assert len({generate_access_token(ISSUED) for _ in range(1000)}) == 1000


def test_a_changed_character_breaks_the_checksum() -> None:
    """DESIGN.md §4.2: a mistyped token, issue time included, is rejected without a
    storage lookup."""
    token = generate_access_token(ISSUED)
    for index in range(6, len(token)):
        replacement = "0" if token[index] != "0" else "1"
        mistyped = token[:index] + replacement + token[index + 1 :]
        assert not is_well_formed_access_token(mistyped), index


def test_keys_of_later_tokens_sort_after_earlier_ones() -> None:
    """The storage key starts with the issue time, so that tokens issued one after the
    other are neighbours in the database's index."""
    moments = [ISSUED + timedelta(milliseconds=step) for step in (0, 1, 2, 999, 86_400_000)]
    moments += [datetime(1970, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC)]
    keys = [access_token_digest(generate_access_token(moment)) for moment in sorted(moments)]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_the_issue_time_is_part_of_the_one_format() -> None:
    """DESIGN.md §4.2: one format.  A token of the same alphabet and a valid checksum but
    without the issue time is malformed (refused without a storage lookup)."""
    random_part = "A" * 43
    checksum, chars = zlib.crc32(random_part.encode("ascii")), ""
    for _ in range(6):
        checksum, digit = divmod(checksum, 62)
        chars = BASE62[digit] + chars
    assert not is_well_formed_access_token("ag_at_" + random_part + chars)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ag_at_",
        "ag_cs_" + "A" * 49,
        "AG_AT_" + "A" * 49,
        "ag_at_" + "A" * 48,
        "ag_at_" + "A" * 50,
        "ag_at_" + "A" * 56,
        "ag_at_" + "A" * 58,
        "ag_at_" + "A" * 57,  # wrong checksum
        "ag_at_" + "é" * 57,
        "ag_at_" + "-" * 57,
        "ag_at_" + "٣" * 57,  # non-ASCII digits pass str.isalnum()
    ],
)
def test_malformed_access_tokens_are_refused(value: str) -> None:
    """DESIGN.md §4.2: wrong prefix, length or alphabet is not a token of ours."""
    assert not is_well_formed_access_token(value)


def test_a_client_secret_is_not_an_access_token() -> None:
    """DESIGN.md §4.2: the prefixes keep the two kinds apart."""
    secret = generate_client_secret()
    assert secret.startswith("ag_cs_")
    assert len(secret) == len("ag_cs_") + 49
    assert not is_well_formed_access_token(secret)


def test_client_ids_have_prefix_and_128_random_bits() -> None:
    """DESIGN.md §4.1: client ids are ``ag_ci_`` + 22 base62 characters."""
    ids = {generate_client_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"ag_ci_[0-9A-Za-z]{22}", value) for value in ids)


def test_access_token_key_is_issue_time_and_sha224_hex() -> None:
    """DESIGN.md §4.2: storage keeps the issue time and the SHA-224 hex digest, 64
    characters, and never the token."""
    token = generate_access_token(ISSUED)
    key = access_token_digest(token)
    assert key == token[6:14] + hashlib.sha224(token.encode()).hexdigest()
    assert len(key) == 64
    assert token[14:] not in key


def test_client_secret_digest_is_self_describing() -> None:
    """DESIGN.md §4.1: the stored digest is ``sha256$<hex>``."""
    assert client_secret_digest("abc") == "sha256$" + hashlib.sha256(b"abc").hexdigest()


def test_verify_client_secret() -> None:
    """DESIGN.md §4.1: the right secret matches its digest, and which of the candidates
    it is is returned; any other does not; an unknown client (no digest) never matches,
    even with a real secret."""
    secret = generate_client_secret()
    other = generate_client_secret()
    digest = client_secret_digest(secret)
    assert verify_client_secret(secret, [digest]) == 0
    assert verify_client_secret(secret, [client_secret_digest(other), digest]) == 1
    assert verify_client_secret(other, [client_secret_digest(other), digest]) == 0
    assert verify_client_secret(secret + "x", [digest]) is None
    assert verify_client_secret("", [digest]) is None
    assert verify_client_secret(generate_client_secret(), [digest]) is None
    assert verify_client_secret(secret, []) is None
    assert verify_client_secret(secret, ["sha256$" + "0" * 64]) is None


def test_verify_client_secret_does_the_same_work_whatever_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """DESIGN.md §4.1: one hash and ``MAX_LIVE_SECRETS`` constant-time comparisons, for
    an unknown client, a wrong secret, and a match of either live secret."""
    compared: list[int] = []
    real = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        compared.append(1)
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    first, second = generate_client_secret(), generate_client_secret()
    digests = [client_secret_digest(first), client_secret_digest(second)]
    cases = [(first, []), (first, digests[:1]), ("wrong", digests), (first, digests)]
    for presented, candidates in [*cases, (second, digests)]:
        compared.clear()
        verify_client_secret(presented, candidates)
        assert len(compared) == MAX_LIVE_SECRETS
