"""The storage contract of a client's secrets (DESIGN.md §4.10; issue 17 item 3): the
``ClientStore`` port's ``add_secret`` (a rotation with overlap), ``end_previous_secrets``
(``clients retire-secret``) and ``record_secret_use`` behave alike on memory, SQLite,
and PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database.  The
``stores`` fixture is the contract suite's (``tests/store/conftest.py``)."""

from __future__ import annotations

from dataclasses import replace

from anti_grazer.protocol.models import Client, ClientSecret
from tests.support import StorePair, at, make_client, secret_of


async def secrets_of(stores: StorePair, client_id: str = "client-a") -> tuple[ClientSecret, ...]:
    client = await stores.clients.get_client(client_id)
    assert client is not None
    return client.secrets


async def rotate(
    stores: StorePair, value: str, now: float, overlap: float, client_id: str = "client-a"
) -> ClientSecret:
    """Add the secret ``value`` at ``at(now)``, the previous one kept ``overlap`` s."""
    secret = secret_of(value, at(now))
    assert await stores.clients.add_secret(client_id, secret, at(now), at(now + overlap))
    return secret


async def test_secrets_read_back_equal_oldest_first(stores: StorePair) -> None:
    """Every field of every secret survives, through get_client and list_clients."""
    first = replace(secret_of("one", at(0)), expires_at=at(50), last_used_at=at(5))
    second = secret_of("two", at(10))
    client = replace(make_client(), secrets=(first, second))
    bare = replace(make_client("client-b"), secrets=())
    await stores.clients.add_client(client)
    await stores.clients.add_client(bare)
    assert await stores.clients.get_client("client-a") == client
    assert await stores.clients.get_client("client-b") == bare
    assert await stores.clients.list_clients() == [client, bare]


async def test_rotation_keeps_the_previous_secret_until_the_overlap_ends(
    stores: StorePair,
) -> None:
    old = make_client().secrets[0]
    await stores.clients.add_client(make_client())
    new = await rotate(stores, "new", 100, 3600)
    assert await secrets_of(stores) == (replace(old, expires_at=at(3700)), new)


async def test_a_third_rotation_ends_the_oldest_at_once(stores: StorePair) -> None:
    """At most two live secrets: the previous one keeps its overlap, the one before it
    goes, whatever was left of its own overlap."""
    await stores.clients.add_client(make_client())
    second = await rotate(stores, "second", 100, 3600)
    third = await rotate(stores, "third", 200, 600)
    assert await secrets_of(stores) == (replace(second, expires_at=at(800)), third)


async def test_a_rotation_without_overlap_ends_the_previous_secret(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    new = await rotate(stores, "new", 100, 0)
    assert await secrets_of(stores) == (new,)


async def test_the_previous_secret_never_outlives_its_own_expiry(stores: StorePair) -> None:
    expiring = replace(secret_of("old", at(0)), expires_at=at(500))
    await stores.clients.add_client(replace(make_client(), secrets=(expiring,)))
    new = await rotate(stores, "new", 100, 3600)
    assert await secrets_of(stores) == (expiring, new)


async def test_expired_secrets_are_dropped_by_a_rotation(stores: StorePair) -> None:
    expired = replace(secret_of("old", at(0)), expires_at=at(50))
    await stores.clients.add_client(replace(make_client(), secrets=(expired,)))
    new = await rotate(stores, "new", 100, 3600)
    assert await secrets_of(stores) == (new,)


async def test_a_rotation_of_an_unknown_client_changes_nothing(stores: StorePair) -> None:
    secret = secret_of("new", at(0))
    assert not await stores.clients.add_secret("nobody", secret, at(0), at(10))
    assert await stores.clients.get_client("nobody") is None


async def test_ending_the_previous_secrets_keeps_the_newest(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    new = await rotate(stores, "new", 100, 3600)
    assert await stores.clients.end_previous_secrets("client-a", at(200)) == 1
    assert await secrets_of(stores) == (new,)
    assert await stores.clients.end_previous_secrets("client-a", at(300)) == 0
    assert await secrets_of(stores) == (new,)
    assert await stores.clients.end_previous_secrets("nobody", at(300)) == 0


async def test_the_last_use_is_recorded_on_that_secret_only(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    old = make_client().secrets[0]
    new = await rotate(stores, "new", 100, 3600)
    await stores.clients.record_secret_use("client-a", new.secret_id, at(150))
    await stores.clients.record_secret_use("client-a", "ag_sid_nobody", at(150))
    await stores.clients.record_secret_use("nobody", new.secret_id, at(150))
    assert await secrets_of(stores) == (
        replace(old, expires_at=at(3700)),
        replace(new, last_used_at=at(150)),
    )


async def test_an_update_leaves_the_secrets_alone(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    new = await rotate(stores, "new", 100, 3600)
    before = await secrets_of(stores)
    changed: Client = replace(make_client(), name="renamed", secrets=())
    await stores.clients.update_client(changed)
    assert await secrets_of(stores) == before
    assert before[-1] == new


async def test_a_deleted_client_takes_its_secrets(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    await rotate(stores, "new", 100, 3600)
    assert await stores.clients.delete_client("client-a")
    fresh = replace(make_client(), secrets=(secret_of("fresh", at(500)),))
    await stores.clients.add_client(fresh)
    assert await stores.clients.get_client("client-a") == fresh
