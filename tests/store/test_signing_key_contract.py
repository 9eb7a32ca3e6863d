"""The storage contract of the ``SigningKeyStore`` port (DESIGN.md §4.10): memory,
SQLite, and PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway
database, behave alike — every field survives, one key is active at a time, and an
activation retires the key before it in the same step."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from anti_grazer.protocol.models import SigningKey
from anti_grazer.protocol.ports import SigningKeyStore
from anti_grazer.store.errors import DuplicateSigningKeyError
from anti_grazer.store.memory import MemorySigningKeyStore
from anti_grazer.store.runtime import open_stores
from tests.support import STORE_BACKENDS, at, fresh_database_url


@pytest.fixture(params=STORE_BACKENDS)
async def keys(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SigningKeyStore]:
    """A fresh, empty signing key store on one backend."""
    backend: str = request.param
    if backend == "memory":
        yield MemorySigningKeyStore()
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        yield opened.signing_keys


def make_key(kid: str, created: float = 0, alg: str = "ES256") -> SigningKey:
    """A stored key as the admin would make it (the contents are opaque to the store)."""
    return SigningKey(
        kid=kid,
        alg=alg,
        public_jwk='{"crv":"P-256","kty":"EC","x":"x-of-' + kid + '","y":"y"}',
        sealed_private_jwk=b"\x00sealed\xff" + kid.encode(),
        created_at=at(created),
    )


async def test_no_keys_at_first(keys: SigningKeyStore) -> None:
    assert await keys.list_keys() == []


async def test_added_keys_read_back_equal_oldest_first(keys: SigningKeyStore) -> None:
    """Every field survives (bytes, microseconds, time zone); creation time then kid."""
    late, early, tie_b, tie_a = (
        make_key("k-late", 20),
        make_key("k-early", -5),
        make_key("k-b", 10, "EdDSA"),
        make_key("k-a", 10),
    )
    for key in (late, early, tie_b, tie_a):
        await keys.add_key(key)
    assert await keys.list_keys() == [early, tie_a, tie_b, late]


async def test_a_duplicate_kid_is_refused_and_the_first_kept(keys: SigningKeyStore) -> None:
    first = make_key("k1")
    await keys.add_key(first)
    with pytest.raises(DuplicateSigningKeyError):
        await keys.add_key(replace(first, alg="EdDSA"))
    assert await keys.list_keys() == [first]


async def test_activation_retires_the_previous_key(keys: SigningKeyStore) -> None:
    one, two = make_key("k1"), make_key("k2", 1)
    await keys.add_key(one)
    await keys.add_key(two)
    assert await keys.activate_key("k1", at(5), at(100)) is True
    assert await keys.list_keys() == [replace(one, activated_at=at(5)), two]
    assert await keys.activate_key("k2", at(10), at(200)) is True
    assert await keys.list_keys() == [
        replace(one, activated_at=at(5), retired_at=at(10), published_until=at(200)),
        replace(two, activated_at=at(10)),
    ]


async def test_activating_the_active_key_changes_nothing(keys: SigningKeyStore) -> None:
    await keys.add_key(make_key("k1"))
    await keys.activate_key("k1", at(5), at(100))
    before = await keys.list_keys()
    assert await keys.activate_key("k1", at(9), at(900)) is True
    assert await keys.list_keys() == before


async def test_a_retired_or_unknown_key_is_not_activated(keys: SigningKeyStore) -> None:
    """Nothing changes: the active key stays active."""
    one, two = make_key("k1"), make_key("k2", 1)
    await keys.add_key(one)
    await keys.add_key(two)
    await keys.activate_key("k1", at(5), at(100))
    await keys.activate_key("k2", at(6), at(100))
    before = await keys.list_keys()
    assert await keys.activate_key("k1", at(7), at(300)) is False
    assert await keys.activate_key("ghost", at(7), at(300)) is False
    assert await keys.list_keys() == before


async def test_retire_once(keys: SigningKeyStore) -> None:
    key = make_key("k1")
    await keys.add_key(key)
    assert await keys.retire_key("k1", at(3), at(3)) is True
    assert await keys.retire_key("k1", at(4), at(40)) is False
    assert await keys.retire_key("ghost", at(4), at(40)) is False
    assert await keys.list_keys() == [replace(key, retired_at=at(3), published_until=at(3))]


async def test_the_active_key_is_never_retired_nor_deleted_by_the_store(
    keys: SigningKeyStore,
) -> None:
    """The checks are part of the writes: a ``keys retire`` or ``keys delete`` that looked
    at a new key, racing its activation, changes nothing."""
    key = make_key("k1")
    await keys.add_key(key)
    await keys.activate_key("k1", at(5), at(100))
    assert await keys.retire_key("k1", at(6), at(6)) is False
    assert await keys.delete_key("k1") is False
    assert [k.kid for k in await keys.list_keys() if k.is_active] == ["k1"]


async def test_withdraw_ends_the_publication_of_a_retired_key_only(
    keys: SigningKeyStore,
) -> None:
    """A compromised key: published until now, never later than it already was."""
    await keys.add_key(make_key("k1"))
    await keys.add_key(make_key("k2", 1))
    await keys.activate_key("k1", at(5), at(100))
    await keys.activate_key("k2", at(6), at(100))  # k1 retired, published until at(100)
    assert await keys.withdraw_key("k2", at(7)) is False  # the active key
    assert await keys.withdraw_key("ghost", at(7)) is False
    assert await keys.withdraw_key("k1", at(8)) is True
    assert await keys.withdraw_key("k1", at(9)) is True  # already withdrawn: unchanged
    by_kid = {key.kid: key for key in await keys.list_keys()}
    assert (by_kid["k1"].retired_at, by_kid["k1"].published_until) == (at(6), at(8))
    assert by_kid["k2"].published_until is None


async def test_delete(keys: SigningKeyStore) -> None:
    await keys.add_key(make_key("k1"))
    kept = make_key("k2", 1)
    await keys.add_key(kept)
    assert await keys.delete_key("k1") is True
    assert await keys.delete_key("k1") is False
    assert await keys.delete_key("ghost") is False
    assert await keys.list_keys() == [kept]
