"""The delays of a rotation (protocol/key_admin.py ``KeyPolicy``): a new key signs only
once verifiers' cached key sets can hold it, and a retired key stays published until
every token it signed, on any instance, has expired."""

from __future__ import annotations

from datetime import timedelta

import pytest

from anti_grazer.protocol.key_admin import (
    KeyPolicy,
    SigningKeyAdminError,
    activate_key,
    delete_key,
    ensure_first_key,
)
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.signing_keys import generate_signing_key
from anti_grazer.store.memory import MemorySigningKeyStore, memory_stores
from tests.clock import FrozenClock
from tests.jwt_helpers import KEK_BYTES, new_key
from tests.support import make_client

POLICY = KeyPolicy(max_token_ttl_seconds=3600, cache_ttl_seconds=2.5, jwks_max_age_seconds=300)


async def test_a_new_key_signs_after_the_key_set_caches_expired(clock: FrozenClock) -> None:
    """Our instances publish it within the cache TTL, verifiers refetch within max-age."""
    key = await new_key(MemorySigningKeyStore(), clock)
    assert POLICY.signs_from(key) == key.created_at + timedelta(seconds=302.5)


def test_a_retired_key_is_published_until_its_last_token_expired() -> None:
    """Instances may sign with it for a cache TTL after its successor's activation; each
    token lives at most the maximum TTL.  A key that never signed needs no publishing."""
    moment = FrozenClock().now()
    assert POLICY.published_until(moment, signed=True) == moment + timedelta(seconds=3602.5)
    assert POLICY.published_until(moment, signed=False) == moment


async def test_activation_stamps_the_previous_key(clock: FrozenClock) -> None:
    store = MemorySigningKeyStore()
    first = await ensure_first_key(store, clock, POLICY, KEK_BYTES)
    assert first is not None
    assert await ensure_first_key(store, clock, POLICY, KEK_BYTES) is None
    second = await new_key(store, clock)
    clock.advance(400)
    previous = await activate_key(store, clock, POLICY, KEK_BYTES, second.kid)
    assert previous is not None
    assert previous.kid == first.kid
    retired = {key.kid: key for key in await store.list_keys()}[first.kid]
    assert retired.retired_at == clock.now()
    assert retired.published_until == clock.now() + timedelta(seconds=3602.5)


def test_no_kid_starts_with_a_dash(clock: FrozenClock) -> None:
    """A kid is the key's RFC 7638 thumbprint, redrawn when it starts with ``-`` (read
    as an option by ``keys activate``): 400 keys, where about six would start with one."""
    kids = [generate_signing_key("EdDSA", KEK_BYTES, clock.now()).kid for _ in range(400)]
    assert not [kid for kid in kids if kid.startswith("-")]
    assert len(set(kids)) == 400


async def test_delete_refuses_a_key_whose_jwt_is_still_valid(clock: FrozenClock) -> None:
    """Issue 16 item 4: ``delete`` refuses a key whose tokens are still valid, whatever
    the publication time says: here the key was retired under a 1 s maximum TTL (the
    retiring command's settings) while a JWT it signed lives an hour."""
    short = KeyPolicy(max_token_ttl_seconds=1, cache_ttl_seconds=0, jwks_max_age_seconds=0)
    store, stores = MemorySigningKeyStore(), memory_stores()
    first = await ensure_first_key(store, clock, short, KEK_BYTES)
    assert first is not None
    await stores.clients.add_client(make_client())
    issued = clock.now()
    await stores.tokens.add_token(
        TokenRecord(
            digest="d" * 64,
            client_id="client-a",
            scopes=frozenset(),
            issued_at=issued,
            expires_at=issued + timedelta(hours=1),
            jti="jti-1",
            audience=("https://api.example",),
        )
    )
    clock.advance(10)
    await activate_key(store, clock, short, KEK_BYTES, (await new_key(store, clock)).kid)
    clock.advance(2)  # past the 1 s publication
    with pytest.raises(SigningKeyAdminError, match="is valid until"):
        await delete_key(store, stores.tokens, clock, short, first.kid)
    clock.advance(3600)
    assert (await delete_key(store, stores.tokens, clock, short, first.kid)).kid == first.kid
