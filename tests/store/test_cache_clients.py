"""The client cache (store/cache.py ``CachingClientStore``; DESIGN.md §4.6, §4.1, issue 4
"many workers and instances behave as one server") in front of the real memory store,
remembering known and unknown client ids alike.  A change made through a caching store
is seen by its very next read; a change made elsewhere is seen after ``invalidate`` or,
at the latest, when the TTL runs out."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from anti_grazer.store.cache import MAX_CACHED_CLIENT_ID_LENGTH, CachingClientStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.ttl_cache import TtlCache
from tests.doubles import CountingClientStore
from tests.store.cache_helpers import FakeMonotonic, Setup
from tests.support import T0, at, make_client, make_token, secret_of


async def test_second_client_lookup_is_served_from_memory(setup: Setup) -> None:
    """A repeated look-up of a client does not reach the store."""
    assert await setup.clients.get_client("client-a") == make_client()
    assert await setup.clients.get_client("client-a") == make_client()
    assert setup.counting_clients.lookups == 1


async def test_an_unknown_client_id_is_cached_like_a_known_one(setup: Setup) -> None:
    """DESIGN.md §4.1: an unknown id costs what a known one does, so a repeated look-up
    of either is served from memory: one storage look-up each."""
    for _ in range(3):
        assert await setup.clients.get_client("client-b") is None
        assert await setup.clients.get_client("client-a") == make_client()
    assert setup.counting_clients.lookups == 2
    assert "client-b" in setup.clients.unknown
    assert "client-a" not in setup.clients.unknown


async def test_a_client_created_through_the_cache_is_found_at_once(setup: Setup) -> None:
    """A client created through this store authenticates on the very next look-up, though
    its id was remembered as unknown a moment before."""
    assert await setup.clients.get_client("client-b") is None
    await setup.clients.add_client(make_client("client-b"))
    assert await setup.clients.get_client("client-b") == make_client("client-b")
    assert setup.counting_clients.lookups == 2


async def test_a_client_created_elsewhere_is_found_after_invalidate(setup: Setup) -> None:
    """A client created by another process (the CLI) is still unknown here until
    ``invalidate`` (its PostgreSQL notification) forgets the id."""
    assert await setup.clients.get_client("client-b") is None
    await setup.memory.clients.add_client(make_client("client-b"))  # not through the cache
    assert await setup.clients.get_client("client-b") is None
    setup.clients.invalidate("client-b")
    assert await setup.clients.get_client("client-b") == make_client("client-b")
    assert setup.counting_clients.lookups == 2


async def test_a_client_created_elsewhere_is_found_once_the_ttl_runs_out() -> None:
    """Without a notification (SQLite), an id remembered as unknown is looked up again
    ``ttl_seconds`` after it was remembered: a client the CLI created is usable within
    ``CACHE_TTL_SECONDS``."""
    clock = FakeMonotonic()
    memory = memory_stores()
    counting = CountingClientStore(memory.clients)
    clients = CachingClientStore(
        counting, TtlCache(1.0, 10, monotonic=clock), TtlCache(1.0, 10, monotonic=clock)
    )
    assert await clients.get_client("client-b") is None
    await memory.clients.add_client(make_client("client-b"))
    clock.now += 0.999
    assert await clients.get_client("client-b") is None
    clock.now += 0.001
    assert await clients.get_client("client-b") == make_client("client-b")
    assert counting.lookups == 2


async def test_lookup_in_flight_during_a_creation_does_not_cache_the_id_as_unknown(
    setup: Setup,
) -> None:
    """A look-up that found no client just before the client was created does not leave
    its id remembered as unknown, nor is it shared with a reader that comes after."""
    release = asyncio.Event()
    setup.counting_clients.release = release
    early = asyncio.ensure_future(setup.clients.get_client("client-b"))
    await asyncio.wait_for(setup.counting_clients.read_done.wait(), 1.0)
    await setup.clients.add_client(make_client("client-b"))
    setup.counting_clients.release = None
    late = asyncio.ensure_future(setup.clients.get_client("client-b"))
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.wait_for(early, 1.0) is None  # what it read before the creation
    assert await asyncio.wait_for(late, 1.0) == make_client("client-b")
    assert "client-b" not in setup.clients.unknown
    assert await setup.clients.get_client("client-b") == make_client("client-b")
    assert setup.counting_clients.lookups == 2


async def test_a_flood_of_unknown_ids_evicts_no_known_client() -> None:
    """Unknown ids are bounded apart from known clients: a thousand random ids leave at
    most ``max_entries`` of them in memory, and every cached client stays cached."""
    built = Setup(max_entries=3)
    known = [make_client(f"client-{n}") for n in range(3)]
    for client in known:
        await built.memory.clients.add_client(client)
        assert await built.clients.get_client(client.client_id) == client
    for n in range(1000):
        assert await built.clients.get_client(f"ag_ci_random{n}") is None
    assert len(built.clients.unknown) == 3
    assert len(built.clients.cache) == 3
    for client in known:
        assert await built.clients.get_client(client.client_id) == client
    assert built.counting_clients.lookups == 3 + 1000


async def test_ids_longer_than_any_stored_id_are_cached_on_neither_side() -> None:
    """An id longer than the ``client_id`` column is looked up every time, known or not,
    so that its unbounded size never sits in memory and both cost the same."""
    built = Setup()
    long_known = make_client("k" * (MAX_CACHED_CLIENT_ID_LENGTH + 1))
    await built.memory.clients.add_client(long_known)
    long_unknown = "u" * 16384
    for _ in range(2):
        assert await built.clients.get_client(long_known.client_id) == long_known
        assert await built.clients.get_client(long_unknown) is None
    assert built.counting_clients.lookups == 4
    assert (len(built.clients.cache), len(built.clients.unknown)) == (0, 0)
    longest = "v" * MAX_CACHED_CLIENT_ID_LENGTH
    assert await built.clients.get_client(longest) is None
    assert longest in built.clients.unknown


async def test_invalidate_all_forgets_known_and_unknown_ids(setup: Setup) -> None:
    """``invalidate_all`` (a lost notification connection) empties both sides."""
    assert await setup.clients.get_client("client-a") == make_client()
    assert await setup.clients.get_client("client-b") is None
    setup.clients.invalidate_all()
    assert (len(setup.clients.cache), len(setup.clients.unknown)) == (0, 0)
    await setup.clients.get_client("client-a")
    await setup.clients.get_client("client-b")
    assert setup.counting_clients.lookups == 4


async def test_a_deleted_client_is_remembered_as_unknown(setup: Setup) -> None:
    """After a deletion through the cache the id is unknown, and then cached as such."""
    assert await setup.clients.get_client("client-a") == make_client()
    assert await setup.clients.delete_client("client-a") is True
    assert await setup.clients.get_client("client-a") is None
    assert await setup.clients.get_client("client-a") is None
    assert setup.counting_clients.lookups == 2


async def test_update_through_the_cache_is_seen_at_once(setup: Setup) -> None:
    """Disabling a client or rotating its secret through the cache takes effect on the
    very next authentication."""
    await setup.clients.get_client("client-a")
    updated = replace(make_client(), enabled=False, updated_at=T0)
    await setup.clients.update_client(updated)
    assert await setup.clients.get_client("client-a") == updated
    assert setup.counting_clients.lookups == 2


async def test_delete_through_the_cache_is_seen_at_once(setup: Setup) -> None:
    """A deleted client is unknown on the very next look-up."""
    await setup.clients.get_client("client-a")
    assert await setup.clients.delete_client("client-a") is True
    assert await setup.clients.get_client("client-a") is None
    assert await setup.clients.delete_client("client-a") is False


async def test_client_change_elsewhere_is_seen_after_invalidate(setup: Setup) -> None:
    """A client changed elsewhere (the CLI) is served stale until ``invalidate``."""
    await setup.clients.get_client("client-a")
    disabled = replace(make_client(), enabled=False)
    await setup.memory.clients.update_client(disabled)  # not through the cache
    assert await setup.clients.get_client("client-a") == make_client()
    setup.clients.invalidate("client-a")
    assert await setup.clients.get_client("client-a") == disabled


async def test_client_lookup_in_flight_during_an_update_does_not_cache_the_old_client(
    setup: Setup,
) -> None:
    """A look-up that read the client before it was disabled does not cache the enabled
    client after the update dropped it."""
    release = asyncio.Event()
    setup.counting_clients.release = release
    lookup = asyncio.create_task(setup.clients.get_client("client-a"))
    await asyncio.wait_for(setup.counting_clients.read_done.wait(), 1.0)
    disabled = replace(make_client(), enabled=False)
    await setup.clients.update_client(disabled)
    release.set()
    setup.counting_clients.release = None
    assert await asyncio.wait_for(lookup, 1.0) == make_client()
    assert await setup.clients.get_client("client-a") == disabled


async def test_list_and_add_pass_through(setup: Setup) -> None:
    """Registration and listing go straight to the store."""
    await setup.clients.add_client(make_client("client-b"))
    listed = await setup.clients.list_clients()
    assert [client.client_id for client in listed] == ["client-a", "client-b"]


async def test_concurrent_misses_share_one_lookup(setup: Setup) -> None:
    """32 requests missing the same token at once cause one storage look-up, and all get
    the record (an expiring entry under load must not send a herd to the database)."""
    setup.counting_tokens.release = asyncio.Event()
    digest = make_token("t1").digest
    readers = [asyncio.ensure_future(setup.tokens.get_token(digest)) for _ in range(32)]
    await setup.counting_tokens.read_done.wait()
    setup.counting_tokens.release.set()
    assert await asyncio.gather(*readers) == [make_token("t1")] * 32
    assert setup.counting_tokens.lookups == 1


async def test_a_reader_after_a_revocation_does_not_join_an_older_lookup(setup: Setup) -> None:
    """A look-up in flight when the token is revoked is not shared with readers that come
    after the revocation: they read the revoked record afresh."""
    release = setup.counting_tokens.release = asyncio.Event()
    digest = make_token("t1").digest
    early = asyncio.ensure_future(setup.tokens.get_token(digest))
    await setup.counting_tokens.read_done.wait()  # read the active record, now held
    assert await setup.tokens.revoke_token(digest, "client-a", T0) is True
    late = asyncio.ensure_future(setup.tokens.get_token(digest))
    await asyncio.sleep(0)
    release.set()
    assert await early == make_token("t1")
    late_record = await late
    assert late_record is not None
    assert late_record.revoked_at == T0
    assert setup.counting_tokens.lookups == 2


async def test_a_rotation_and_a_retirement_through_the_cache_are_seen_at_once(
    setup: Setup,
) -> None:
    """A secret rotated or retired through the cache (``clients rotate-secret`` on this
    instance) counts at the very next authentication; a recorded last use does not
    drop the cached client."""
    await setup.clients.get_client("client-a")
    new = secret_of("new", at(10))
    assert await setup.clients.add_secret("client-a", new, at(10), at(3600))
    rotated = await setup.clients.get_client("client-a")
    assert rotated is not None
    assert rotated.secrets[-1] == new
    assert len(rotated.secrets) == 2
    assert await setup.clients.end_previous_secrets("client-a", at(20)) == 1
    retired = await setup.clients.get_client("client-a")
    assert retired is not None
    assert retired.secrets == (new,)
    lookups = setup.counting_clients.lookups
    await setup.clients.record_secret_use("client-a", new.secret_id, at(30))
    assert await setup.clients.get_client("client-a") == retired
    assert setup.counting_clients.lookups == lookups
