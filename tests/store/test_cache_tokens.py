"""The token cache (store/cache.py ``CachingTokenStore``; DESIGN.md §4.6, issue 4 "many
workers and instances behave as one server") in front of the real memory store.  A
change made through a caching store is seen by its very next read (RFC 7009 §2.2: a
revoked token is invalid at once); a change made elsewhere is seen after ``invalidate``
or, at the latest, when the TTL runs out.  Unknown digests are never cached."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from anti_grazer.store.cache import CachingTokenStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.ttl_cache import TtlCache
from tests.doubles import CountingTokenStore
from tests.store.cache_helpers import FakeMonotonic, Setup
from tests.support import T0, make_client, make_token


async def test_second_token_lookup_is_served_from_memory(setup: Setup) -> None:
    """A repeated look-up of a token does not reach the store."""
    digest = make_token("t1").digest
    first = await setup.tokens.get_token(digest)
    second = await setup.tokens.get_token(digest)
    assert first == make_token("t1")
    assert second == first
    assert setup.counting_tokens.lookups == 1


async def test_unknown_digests_are_not_cached(setup: Setup) -> None:
    """An unknown digest is looked up every time: a token stored a moment later (another
    worker issued it) is found at once."""
    late = make_token("late")
    assert await setup.tokens.get_token(late.digest) is None
    assert await setup.tokens.get_token(late.digest) is None
    assert setup.counting_tokens.lookups == 2
    await setup.memory.tokens.add_token(late)  # straight in the store, as another worker
    assert await setup.tokens.get_token(late.digest) == late
    assert setup.counting_tokens.lookups == 3


async def test_revocation_through_the_cache_is_seen_at_once(setup: Setup) -> None:
    """RFC 7009 §2.2: once revoked, the token is invalid for the very next look-up."""
    digest = make_token("t1").digest
    cached = await setup.tokens.get_token(digest)
    assert cached is not None
    assert cached.revoked_at is None
    revoked_at = T0 + timedelta(minutes=1)
    assert await setup.tokens.revoke_token(digest, "client-a", revoked_at) is True
    after = await setup.tokens.get_token(digest)
    assert after == replace(make_token("t1"), revoked_at=revoked_at)
    assert setup.counting_tokens.lookups == 2


async def test_revoking_a_clients_tokens_through_the_cache_is_seen_at_once(
    setup: Setup,
) -> None:
    """Revoking every token of a client (disabling it) drops them all from the cache."""
    await setup.tokens.add_token(make_token("t2"))
    for label in ("t1", "t2"):
        assert await setup.tokens.get_token(make_token(label).digest) is not None
    revoked_at = T0 + timedelta(minutes=1)
    assert await setup.tokens.revoke_client_tokens("client-a", revoked_at) == 2
    for label in ("t1", "t2"):
        record = await setup.tokens.get_token(make_token(label).digest)
        assert record is not None
        assert record.revoked_at == revoked_at
    assert setup.counting_tokens.lookups == 4


async def test_change_elsewhere_is_seen_after_invalidate(setup: Setup) -> None:
    """A revocation made elsewhere (another instance) is served stale until
    ``invalidate(digest)`` (a PostgreSQL notification) drops it."""
    digest = make_token("t1").digest
    assert await setup.tokens.get_token(digest) == make_token("t1")
    revoked_at = T0 + timedelta(minutes=1)
    await setup.memory.tokens.revoke_token(digest, None, revoked_at)  # not through the cache
    stale = await setup.tokens.get_token(digest)
    assert stale is not None
    assert stale.revoked_at is None
    setup.tokens.invalidate(digest)
    fresh = await setup.tokens.get_token(digest)
    assert fresh is not None
    assert fresh.revoked_at == revoked_at


async def test_invalidate_all_forgets_every_token(setup: Setup) -> None:
    """``invalidate_all`` (e.g. a client's tokens revoked elsewhere) empties the cache."""
    await setup.tokens.add_token(make_token("t2"))
    for label in ("t1", "t2"):
        await setup.tokens.get_token(make_token(label).digest)
    assert len(setup.tokens.cache) == 2
    setup.tokens.invalidate_all()
    assert len(setup.tokens.cache) == 0
    for label in ("t1", "t2"):
        await setup.tokens.get_token(make_token(label).digest)
    assert setup.counting_tokens.lookups == 4


async def test_token_entry_expires_after_the_ttl() -> None:
    """Without any invalidation a change made elsewhere is seen once the TTL runs out."""
    clock = FakeMonotonic()
    memory = memory_stores()
    counting = CountingTokenStore(memory.tokens)
    tokens = CachingTokenStore(counting, TtlCache(1.0, 10, monotonic=clock))
    await memory.clients.add_client(make_client())
    await memory.tokens.add_token(make_token("t1"))
    digest = make_token("t1").digest
    await tokens.get_token(digest)
    revoked_at = T0 + timedelta(minutes=1)
    await memory.tokens.revoke_token(digest, None, revoked_at)
    clock.now += 0.5
    stale = await tokens.get_token(digest)
    assert stale is not None
    assert stale.revoked_at is None
    clock.now += 0.5
    fresh = await tokens.get_token(digest)
    assert fresh is not None
    assert fresh.revoked_at == revoked_at
    assert counting.lookups == 2


async def test_lookup_in_flight_during_a_revocation_does_not_cache_the_old_record(
    setup: Setup,
) -> None:
    """RFC 7009 §2.2: a look-up that read the record just before a revocation must not put
    the unrevoked record back in the cache after the revocation dropped it."""
    digest = make_token("t1").digest
    release = asyncio.Event()
    setup.counting_tokens.release = release
    lookup = asyncio.create_task(setup.tokens.get_token(digest))
    await asyncio.wait_for(setup.counting_tokens.read_done.wait(), 1.0)
    revoked_at = T0 + timedelta(minutes=1)
    assert await setup.tokens.revoke_token(digest, "client-a", revoked_at) is True
    release.set()
    setup.counting_tokens.release = None
    early = await asyncio.wait_for(lookup, 1.0)
    assert early is not None
    assert early.revoked_at is None  # what it read before the revocation
    after = await setup.tokens.get_token(digest)
    assert after is not None
    assert after.revoked_at == revoked_at


async def test_lookup_in_flight_during_invalidate_does_not_cache_the_old_record(
    setup: Setup,
) -> None:
    """A notification (``invalidate``) arriving while a look-up is in flight wins: the
    record read before it is returned once but not cached."""
    digest = make_token("t1").digest
    release = asyncio.Event()
    setup.counting_tokens.release = release
    lookup = asyncio.create_task(setup.tokens.get_token(digest))
    await asyncio.wait_for(setup.counting_tokens.read_done.wait(), 1.0)
    revoked_at = T0 + timedelta(minutes=1)
    await setup.memory.tokens.revoke_token(digest, None, revoked_at)  # elsewhere
    setup.tokens.invalidate(digest)  # ... and its notification
    release.set()
    setup.counting_tokens.release = None
    await asyncio.wait_for(lookup, 1.0)
    after = await setup.tokens.get_token(digest)
    assert after is not None
    assert after.revoked_at == revoked_at


async def test_purge_and_add_pass_through(setup: Setup) -> None:
    """Issuance and the janitor go straight to the store."""
    expired = replace(make_token("old"), expires_at=T0)
    await setup.tokens.add_token(expired)
    assert await setup.memory.tokens.get_token(expired.digest) == expired
    assert await setup.tokens.purge_expired(T0, 10) == 1
    assert await setup.memory.tokens.get_token(expired.digest) is None
