"""Private signing keys at rest: sealed with AES-256-GCM (NIST SP 800-38D) under the
key-encryption key (``ANTI_GRAZER_KEY_ENCRYPTION_KEY``, 32 random bytes), so that a
database dump yields no key that can sign.

A sealed value is the 12-byte random nonce followed by the ciphertext and its 16-byte
tag.  The key's ``kid`` is the associated data: a sealed key moved to another row fails
to open, as does one sealed under another key-encryption key."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_ENCRYPTION_KEY_BYTES = 32
_NONCE_BYTES = 12  # SP 800-38D §8.2.2: 96-bit random nonces


class KeyDecryptionError(ValueError):
    """A sealed key does not open with this key-encryption key (another key, or
    tampered with)."""


def _cipher(key_encryption_key: bytes) -> AESGCM:
    # Imported when first needed: servers without JWT clients never load cryptography.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: PLC0415

    if len(key_encryption_key) != KEY_ENCRYPTION_KEY_BYTES:
        raise ValueError(f"the key-encryption key must be {KEY_ENCRYPTION_KEY_BYTES} bytes")
    return AESGCM(key_encryption_key)


def seal(key_encryption_key: bytes, kid: str, plaintext: bytes) -> bytes:
    """``plaintext`` encrypted and authenticated, bound to ``kid``."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    return nonce + _cipher(key_encryption_key).encrypt(nonce, plaintext, kid.encode())


def unseal(key_encryption_key: bytes, kid: str, sealed: bytes) -> bytes:
    """The plaintext of ``seal``, or ``KeyDecryptionError`` (the message names no
    secret)."""
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415 - as in _cipher

    nonce, ciphertext = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return _cipher(key_encryption_key).decrypt(nonce, ciphertext, kid.encode())
    except (InvalidTag, ValueError):
        raise KeyDecryptionError(
            f"the private key of {kid} does not open with this key-encryption key"
        ) from None
