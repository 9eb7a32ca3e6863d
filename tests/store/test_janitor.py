"""The expired-token janitor (protocol/janitor.py, wired in web/app.py; DESIGN.md §4.3:
every issued token is recorded, and the records of expired tokens are deleted in small
batches): it deletes expired records and keeps live ones, on the memory and SQLite
stores; it stops cleanly when cancelled; a failed round is logged and the loop goes on."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from anti_grazer.protocol.audit import CLIENT_CREATED, AuditEvent
from anti_grazer.protocol.models import Client, TokenRecord
from anti_grazer.protocol.ports import TokenStore
from anti_grazer.store.memory import MemoryAssertionReplayStore, MemoryAuditStore, memory_stores
from anti_grazer.store.runtime import open_stores
from anti_grazer.web.background import (
    Purge,
    assertion_purge,
    audit_purge,
    purge_expired_periodically,
    token_purge,
)
from tests.clock import FrozenClock
from tests.doubles import ForwardingTokenStore
from tests.support import (
    StorePair,
    create_app,
    reset_database,
    running,
    settings_for,
)

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
INTERVAL_SECONDS = 0.01
CLIENT_ID = "client-a"


def make_client() -> Client:
    return Client(
        client_id=CLIENT_ID,
        name="janitor test client",
        allowed_scopes=frozenset({"profiles:read"}),
        default_scopes=frozenset({"profiles:read"}),
        token_ttl_seconds=None,
        enabled=True,
        created_at=T0,
        updated_at=T0,
    )


def make_token(label: str, expires_in_seconds: float) -> TokenRecord:
    return TokenRecord(
        digest=hashlib.sha256(label.encode()).hexdigest(),
        client_id=CLIENT_ID,
        scopes=frozenset({"profiles:read"}),
        issued_at=T0 - timedelta(hours=1),
        expires_at=T0 + timedelta(seconds=expires_in_seconds),
    )


EXPIRED = [make_token(f"expired {index}", -index) for index in range(5)]  # -0: expires now
LIVE = [make_token(f"live {index}", index + 1) for index in range(3)]


@pytest.fixture(params=["memory", "sqlite"])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StorePair]:
    """StorePair holding five expired (one expiring exactly now) and three live tokens."""
    if request.param == "memory":
        memory = memory_stores()
        opened = StorePair(memory.clients, memory.tokens)
        await seed(opened)
        yield opened
        return
    async with open_stores(f"sqlite+aiosqlite:///{tmp_path / 'janitor.db'}") as sql:
        opened = StorePair(sql.clients, sql.tokens)
        await seed(opened)
        yield opened


async def seed(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    for record in [*EXPIRED, *LIVE]:
        await stores.tokens.add_token(record)


async def remaining(tokens: TokenStore, records: list[TokenRecord]) -> list[TokenRecord]:
    return [r for r in records if await tokens.get_token(r.digest) is not None]


async def wait_until_purged(tokens: TokenStore, within_seconds: float = 2.0) -> None:
    deadline = time.monotonic() + within_seconds
    while await remaining(tokens, EXPIRED):
        assert time.monotonic() < deadline, "the janitor did not purge in time"
        await asyncio.sleep(INTERVAL_SECONDS)


def tokens_only(tokens: TokenStore, batch_size: int) -> dict[str, Purge]:
    """The janitor's token purge alone."""
    return {"expired tokens": token_purge(tokens, batch_size)}


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 1.0)


async def test_janitor_deletes_expired_tokens_and_keeps_live_ones(stores: StorePair) -> None:
    """Records whose expiry has passed (or is now) go; live ones stay, unchanged; small
    batches (2) still purge everything in one round."""
    clock = FrozenClock(T0)
    task = asyncio.create_task(
        purge_expired_periodically(tokens_only(stores.tokens, 2), clock, INTERVAL_SECONDS)
    )
    try:
        await wait_until_purged(stores.tokens)
        await asyncio.sleep(INTERVAL_SECONDS * 5)  # more rounds change nothing
        for record in LIVE:
            assert await stores.tokens.get_token(record.digest) == record
    finally:
        await stop(task)


async def test_janitor_follows_the_clock(stores: StorePair) -> None:
    """A token is purged by the round after its expiry, not before."""
    clock = FrozenClock(T0 - timedelta(hours=1))
    task = asyncio.create_task(
        purge_expired_periodically(tokens_only(stores.tokens, 10), clock, INTERVAL_SECONDS)
    )
    try:
        await asyncio.sleep(INTERVAL_SECONDS * 5)
        assert await remaining(stores.tokens, [*EXPIRED, *LIVE]) == [*EXPIRED, *LIVE]
        clock.set(T0 + timedelta(seconds=1))  # LIVE[0] expires at T0 + 1 s
        deadline = time.monotonic() + 2.0
        while await remaining(stores.tokens, [*EXPIRED, LIVE[0]]):
            assert time.monotonic() < deadline
            await asyncio.sleep(INTERVAL_SECONDS)
        assert await remaining(stores.tokens, LIVE) == LIVE[1:]
    finally:
        await stop(task)


async def test_cancellation_stops_the_janitor_cleanly() -> None:
    """Cancelled (at server shutdown), the janitor ends with CancelledError at once and
    runs no further round."""
    memory = memory_stores()
    rounds = CountingPurges(memory.tokens)
    task = asyncio.create_task(
        purge_expired_periodically(tokens_only(rounds, 10), FrozenClock(T0), INTERVAL_SECONDS)
    )
    await asyncio.sleep(INTERVAL_SECONDS * 5)
    await stop(task)
    assert task.cancelled()
    after = rounds.calls
    assert after >= 1
    await asyncio.sleep(INTERVAL_SECONDS * 5)
    assert rounds.calls == after


class CountingPurges(ForwardingTokenStore):
    """The real memory token store; ``purge_expired`` counted, and failing while
    ``failures`` remain."""

    def __init__(self, inner: TokenStore, failures: int = 0) -> None:
        super().__init__(inner)
        self.calls = 0
        self.failures = failures

    async def purge_expired(self, now: datetime, batch_size: int) -> int:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise RuntimeError("database unavailable")
        return await self.inner.purge_expired(now, batch_size)


async def test_a_failed_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A purge that fails (database briefly unavailable) is logged with its traceback;
    the next round runs and purges."""
    caplog.set_level(logging.INFO, logger="anti_grazer.janitor")
    memory = memory_stores()
    await seed(StorePair(memory.clients, memory.tokens))
    flaky = CountingPurges(memory.tokens, failures=2)
    task = asyncio.create_task(
        purge_expired_periodically(tokens_only(flaky, 10), FrozenClock(T0), INTERVAL_SECONDS)
    )
    try:
        await wait_until_purged(memory.tokens)
    finally:
        await stop(task)
    assert flaky.calls >= 3
    failures = [r for r in caplog.records if r.message == "purging expired tokens failed"]
    assert len(failures) == 2
    for record in failures:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
        assert isinstance(record.exc_info[1], RuntimeError)
    purged = [r for r in caplog.records if r.message == "purged expired tokens"]
    assert len(purged) == 1
    assert purged[0].levelno == logging.INFO
    assert purged[0].__dict__["purged"] == len(EXPIRED)
    assert await remaining(memory.tokens, LIVE) == LIVE


async def test_the_server_runs_the_janitor(tmp_path: Path, clock: FrozenClock) -> None:
    """``purge_interval_seconds`` > 0: the running app purges expired records itself."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    await reset_database(url)
    clock.set(T0)
    async with open_stores(url) as sql:
        await seed(StorePair(sql.clients, sql.tokens))
        app = create_app(settings_for(url, purge_interval_seconds=INTERVAL_SECONDS), clock=clock)
        async with running(app):
            await wait_until_purged(sql.tokens)
        assert await remaining(sql.tokens, LIVE) == LIVE


async def test_purge_interval_zero_runs_no_janitor(tmp_path: Path, clock: FrozenClock) -> None:
    """``purge_interval_seconds = 0``: the server never purges (the operator runs
    ``anti-grazer tokens purge-expired``)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    await reset_database(url)
    clock.set(T0)
    async with open_stores(url) as sql:
        await seed(StorePair(sql.clients, sql.tokens))
        app = create_app(settings_for(url, purge_interval_seconds=0), clock=clock)
        async with running(app):
            await asyncio.sleep(0.1)
        assert await remaining(sql.tokens, [*EXPIRED, *LIVE]) == [*EXPIRED, *LIVE]


async def test_the_janitor_purges_audit_events_past_their_retention() -> None:
    """``AUDIT_RETENTION_DAYS``: an event older than it goes at the next round; the
    others stay."""
    audit = MemoryAuditStore()
    old = AuditEvent(T0 - timedelta(days=366), CLIENT_CREATED, "cli:alice", "c1")
    kept = AuditEvent(T0 - timedelta(days=364), CLIENT_CREATED, "cli:alice", "c2")
    for event in (old, kept):
        await audit.record(event)
    purges = {"old audit events": audit_purge(audit, timedelta(days=365))}
    task = asyncio.create_task(
        purge_expired_periodically(purges, FrozenClock(T0), INTERVAL_SECONDS)
    )
    try:
        deadline = time.monotonic() + 2.0
        while len(await audit.list_events()) > 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(INTERVAL_SECONDS)
    finally:
        await stop(task)
    assert await audit.list_events() == [kept]


async def test_janitor_forgets_expired_client_assertions(stores: StorePair) -> None:
    """RFC 7523 §3 item 7: a used ``jti`` is remembered until its assertion expires, then
    the janitor forgets it (the assertion is refused as expired anyway)."""
    replays = MemoryAssertionReplayStore()
    assert await replays.remember("old", T0 - timedelta(seconds=1))
    assert await replays.remember("live", T0 + timedelta(minutes=5))
    task = asyncio.create_task(
        purge_expired_periodically(
            {"expired client assertions": assertion_purge(replays, 10)},
            FrozenClock(T0),
            INTERVAL_SECONDS,
        )
    )
    try:
        deadline = time.monotonic() + 2.0
        forgotten = False
        while not forgotten and time.monotonic() < deadline:
            await asyncio.sleep(INTERVAL_SECONDS)
            forgotten = await replays.remember("old", T0)  # accepted once purged
        assert forgotten
        assert await replays.remember("live", T0) is False
    finally:
        await stop(task)
