"""The storage contract of the ``AssertionReplayStore`` port (RFC 7523 §3 item 7: each
``jti`` once): memory, SQLite, and PostgreSQL when ``ANTI_GRAZER_TEST_POSTGRES_URL``
names a throwaway database, behave alike — the first ``remember`` of a key wins, every
later one (concurrent ones included, from other connections) is a replay, and the purge
forgets only what expired.  A client's keys survive the client store too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from anti_grazer.protocol.jwt_assertion import replay_key
from anti_grazer.protocol.ports import AssertionReplayStore
from anti_grazer.protocol.trust_admin import MAX_ISSUER_LENGTH
from anti_grazer.store.memory import MemoryAssertionReplayStore, memory_stores
from anti_grazer.store.runtime import open_stores
from tests.support import SQL_BACKENDS, STORE_BACKENDS, at, fresh_database_url, make_client


@pytest.fixture(params=STORE_BACKENDS)
async def replays(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AssertionReplayStore]:
    """A fresh, empty replay store on one backend."""
    backend: str = request.param
    if backend == "memory":
        yield MemoryAssertionReplayStore()
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        yield opened.assertion_replays


async def test_the_first_remember_wins(replays: AssertionReplayStore) -> None:
    assert await replays.remember("k1", at(60)) is True
    assert await replays.remember("k1", at(60)) is False
    assert await replays.remember("k1", at(999)) is False
    assert await replays.remember("k2", at(60)) is True


async def test_concurrent_remembers_of_one_key_accept_one(replays: AssertionReplayStore) -> None:
    """Ten requests with the same assertion at once: exactly one is accepted."""
    outcomes = await asyncio.gather(*(replays.remember("same", at(60)) for _ in range(10)))
    assert sorted(outcomes) == [False] * 9 + [True]


async def test_the_keys_of_both_assertion_methods_fit(replays: AssertionReplayStore) -> None:
    """A private_key_jwt assertion's key and a federated token's (its issuer prefixed),
    of the longest issuer and jti, are 64 characters: the column's length on PostgreSQL."""
    issuer, jti = "https://" + "i" * (MAX_ISSUER_LENGTH - 8), "j" * 256
    keys = [replay_key("ag_ci_client", jti), replay_key(f"federated:{issuer}", jti)]
    assert [len(key) for key in keys] == [64, 64]
    for key in keys:
        assert await replays.remember(key, at(60)) is True
        assert await replays.remember(key, at(60)) is False


async def test_the_purge_forgets_only_what_expired(replays: AssertionReplayStore) -> None:
    for n in range(5):
        assert await replays.remember(f"old{n}", at(10))
    assert await replays.remember("exact", at(50))  # expired at the purge's time: goes
    assert await replays.remember("new", at(100))
    assert await replays.purge_expired(at(50), batch_size=2) == 6
    assert await replays.purge_expired(at(50), batch_size=2) == 0
    assert await replays.remember("old0", at(10)) is True  # forgotten: expired anyway
    assert await replays.remember("new", at(100)) is False


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_two_stores_on_one_database_share_what_they_remember(
    backend: str, tmp_path: Path
) -> None:
    """Two server instances (two engines) on one database: a key one remembered is a
    replay for the other."""
    url = await fresh_database_url(backend, tmp_path)
    async with open_stores(url) as first, open_stores(url) as second:
        assert await first.assertion_replays.remember("k", at(60)) is True
        assert await second.assertion_replays.remember("k", at(60)) is False


@pytest.mark.parametrize("backend", ["memory", *SQL_BACKENDS])
async def test_a_clients_keys_survive_the_store(backend: str, tmp_path: Path) -> None:
    """``Client.jwks`` and ``jwks_uri`` read back as stored, and change with an update."""
    client = replace(make_client("keys"), secrets=(), jwks='{"keys":[]}')
    if backend == "memory":
        clients = memory_stores().clients
        await clients.add_client(client)
        await clients.update_client(replace(client, jwks=None, jwks_uri="https://c.example/k"))
        assert (await clients.get_client("keys")) == replace(
            client, jwks=None, jwks_uri="https://c.example/k"
        )
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        await opened.clients.add_client(client)
        assert await opened.clients.get_client("keys") == client
        changed = replace(client, jwks=None, jwks_uri="https://c.example/k")
        await opened.clients.update_client(changed)
        assert await opened.clients.get_client("keys") == changed
        assert list(await opened.clients.list_clients()) == [changed]
