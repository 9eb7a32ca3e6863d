"""The storage contract of the ``AssertionReplayStore`` port (single use of a ``jti``,
RFC 7523 §3 item 7): memory, SQLite, and PostgreSQL when
``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database, behave alike — a key is
remembered once, atomically (concurrent callers: exactly one wins), until the janitor
forgets it after its time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anti_grazer.protocol.ports import AssertionReplayStore
from anti_grazer.store.memory import MemoryAssertionReplayStore
from anti_grazer.store.runtime import open_stores
from tests.support import STORE_BACKENDS, at, fresh_database_url


@pytest.fixture(params=STORE_BACKENDS)
async def replay(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[AssertionReplayStore]:
    """A fresh, empty replay store on one backend."""
    backend: str = request.param
    if backend == "memory":
        yield MemoryAssertionReplayStore()
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        yield opened.assertion_replay


async def test_a_key_is_remembered_once(replay: AssertionReplayStore) -> None:
    assert await replay.remember("federated:a", at(60)) is True
    assert await replay.remember("federated:a", at(60)) is False
    assert await replay.remember("federated:a", at(120)) is False
    assert await replay.remember("federated:b", at(60)) is True


async def test_of_concurrent_callers_exactly_one_remembers(replay: AssertionReplayStore) -> None:
    """The check and the write are one step: ten requests replaying one token at once
    let one through."""
    outcomes = await asyncio.gather(*(replay.remember("federated:c", at(60)) for _ in range(10)))
    assert sorted(outcomes) == [False] * 9 + [True]


async def test_expired_keys_are_purged_and_may_be_used_again(
    replay: AssertionReplayStore,
) -> None:
    """Purged when their time ended at or before ``now``; a later key stays."""
    await replay.remember("early", at(10))
    await replay.remember("exact", at(20))
    await replay.remember("late", at(30))
    assert await replay.purge_expired(at(20)) == 2
    assert await replay.purge_expired(at(20)) == 0
    assert await replay.remember("late", at(30)) is False
    assert await replay.remember("early", at(90)) is True
