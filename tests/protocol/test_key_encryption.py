"""Private keys at rest (protocol/key_encryption.py): AES-256-GCM under the
key-encryption key, bound to the key's kid; anything else fails to open, with a message
that names no secret."""

from __future__ import annotations

import secrets

import pytest

from anti_grazer.protocol.key_encryption import KeyDecryptionError, seal, unseal

KEK = secrets.token_bytes(32)


def test_a_sealed_key_opens_with_its_kek_and_kid_only() -> None:
    sealed = seal(KEK, "kid-1", b"private jwk")
    assert b"private jwk" not in sealed
    assert unseal(KEK, "kid-1", sealed) == b"private jwk"
    assert seal(KEK, "kid-1", b"private jwk") != sealed  # a fresh nonce each time


@pytest.mark.parametrize(
    ("kek", "kid", "change"),
    [
        (secrets.token_bytes(32), "kid-1", 0),
        (KEK, "kid-2", 0),
        (KEK, "kid-1", 20),
        (KEK, "kid-1", -1),
    ],
    ids=["another-kek", "another-kid", "tampered-ciphertext", "tampered-tag"],
)
def test_anything_else_fails_to_open(kek: bytes, kid: str, change: int) -> None:
    sealed = bytearray(seal(KEK, "kid-1", b"private jwk"))
    if change:
        sealed[change] ^= 1
    with pytest.raises(KeyDecryptionError) as refused:
        unseal(kek, kid, bytes(sealed))
    assert str(refused.value) == (
        f"the private key of {kid} does not open with this key-encryption key"
    )
    assert KEK.hex() not in str(refused.value)


def test_a_kek_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal(b"short", "kid", b"x")
