"""The key ring (protocol/key_ring.py): the keys read at most once per TTL (concurrent
readers share the read), the published set as time passes, and the signer — or the
reason none can sign."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from anti_grazer.protocol.key_admin import retire_key
from anti_grazer.protocol.key_ring import KeyRing, SigningUnavailableError
from anti_grazer.store.memory import MemorySigningKeyStore
from tests.clock import FrozenClock
from tests.doubles import CountingSigningKeyStore
from tests.jwt_helpers import KEK_BYTES, NO_WAIT, first_key, new_key


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_keys_are_read_once_per_ttl(clock: FrozenClock) -> None:
    store = CountingSigningKeyStore(MemorySigningKeyStore())
    key = await first_key(store, clock)
    ticks = Ticks()
    ring = KeyRing(store, clock, KEK_BYTES, 1.0, ticks)
    reads = store.reads
    signers = await asyncio.gather(*(ring.signer() for _ in range(5)))
    assert {signer.kid for signer in signers} == {key.kid}
    assert store.reads == reads + 1
    ticks.now = 0.99
    await ring.jwks()
    assert store.reads == reads + 1
    ticks.now = 1.0
    await ring.jwks()
    assert store.reads == reads + 2


async def test_published_keys_follow_the_clock(clock: FrozenClock) -> None:
    store = MemorySigningKeyStore()
    ring = KeyRing(store, clock, None, 0)
    assert await ring.jwks() == {"keys": []}
    key = await new_key(store, clock)
    assert [k.kid for k in await ring.published()] == [key.kid]
    assert await ring.verification_key(key.kid) is not None
    await retire_key(store, clock, NO_WAIT, key.kid)
    assert await ring.published() == []
    assert await ring.verification_key(key.kid) is None


async def test_a_key_whose_public_part_was_swapped_is_neither_published_nor_trusted(
    clock: FrozenClock,
) -> None:
    """RFC 7638: a kid is the thumbprint of its public key.  A row whose public JWK was
    replaced in the database (someone else's key under our kid) is left out."""
    store = MemorySigningKeyStore()
    genuine, other = await new_key(store, clock), await new_key(MemorySigningKeyStore(), clock)
    swapped = replace(await new_key(store, clock), public_jwk=other.public_jwk)
    store._keys[swapped.kid] = swapped  # what a write to the table could do
    ring = KeyRing(store, clock, None, 0)
    assert [key["kid"] for key in (await ring.jwks())["keys"]] == [genuine.kid]
    assert await ring.verification_key(swapped.kid) is None
    assert await ring.verification_key(genuine.kid) is not None


@pytest.mark.parametrize("kek", [None, bytes(32)], ids=["no-kek", "another-kek"])
async def test_no_signer_without_the_kek_that_opens_the_active_key(
    clock: FrozenClock, kek: bytes | None
) -> None:
    store = MemorySigningKeyStore()
    key = await first_key(store, clock)
    ring = KeyRing(store, clock, kek, 0)
    with pytest.raises(SigningUnavailableError) as refused:
        await ring.signer()
    assert refused.value.code == "server_error"
    assert refused.value.body() == {
        "error": "server_error",
        "error_description": "The server encountered an internal error",
    }
    assert refused.value.reason is not None
    assert "ANTI_GRAZER_KEY_ENCRYPTION_KEY" in refused.value.reason
    assert kek is None or key.kid in refused.value.reason
