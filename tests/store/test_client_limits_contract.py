"""The storage contract of a client's own limits (DESIGN.md §4.10; issue 18 item 1):
``Client.limits`` stored with the client, ``ClientStore.set_limits`` changing them and
nothing else, on memory, SQLite, and PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL``
names a throwaway database.  The ``stores`` fixture is the contract suite's
(``tests/store/conftest.py``); the caching store is checked on memory."""

from __future__ import annotations

from dataclasses import replace

from anti_grazer.protocol.models import ClientLimits
from anti_grazer.store.cache import CachingClientStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.ttl_cache import TtlCache
from tests.support import StorePair, at, make_client

OWN = ClientLimits(
    tokens_per_hour=5,
    tokens_per_day=0,
    requests_per_hour=None,
    burst_per_minute=20,
    log_only=frozenset({"burst_per_minute", "tokens_per_hour"}),
    enforced=frozenset({"requests_per_hour"}),
)


async def test_limits_read_back_equal_through_get_and_list(stores: StorePair) -> None:
    """Every amount (None: the server's default, 0: no limit) and both mode sets
    survive, as do a client's defaults."""
    limited = replace(make_client(), limits=OWN)
    plain = make_client("client-b")
    await stores.clients.add_client(limited)
    await stores.clients.add_client(plain)
    assert await stores.clients.get_client("client-a") == limited
    assert await stores.clients.get_client("client-b") == plain
    assert plain.limits == ClientLimits()
    assert await stores.clients.list_clients() == [limited, plain]


async def test_set_limits_changes_the_limits_and_the_update_time_only(stores: StorePair) -> None:
    client = make_client()
    await stores.clients.add_client(client)
    assert await stores.clients.set_limits("client-a", OWN, at(60))
    assert await stores.clients.get_client("client-a") == replace(
        client, limits=OWN, updated_at=at(60)
    )
    assert await stores.clients.set_limits("client-a", ClientLimits(), at(120))
    assert await stores.clients.get_client("client-a") == replace(client, updated_at=at(120))


async def test_set_limits_of_an_unknown_client_changes_nothing(stores: StorePair) -> None:
    assert not await stores.clients.set_limits("nobody", OWN, at(60))
    assert await stores.clients.get_client("nobody") is None


async def test_update_client_leaves_the_limits_as_they_are(stores: StorePair) -> None:
    """Limits change through ``set_limits`` only, as secrets through their own calls: a
    client read before a change of limits and written back keeps the new limits."""
    client = make_client()
    await stores.clients.add_client(client)
    assert await stores.clients.set_limits("client-a", OWN, at(60))
    await stores.clients.update_client(replace(client, name="renamed", updated_at=at(90)))
    assert await stores.clients.get_client("client-a") == replace(
        client, name="renamed", updated_at=at(90), limits=OWN
    )


async def test_the_client_cache_drops_a_client_whose_limits_changed() -> None:
    memory = memory_stores()
    cached = CachingClientStore(memory.clients, TtlCache(60, 100), TtlCache(60, 100))
    await cached.add_client(make_client())
    assert (await cached.get_client("client-a")) == make_client()
    assert await cached.set_limits("client-a", OWN, at(60))
    found = await cached.get_client("client-a")
    assert found is not None
    assert found.limits == OWN
