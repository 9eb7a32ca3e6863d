"""The ``Counters`` port over the limits library (``store.counters``; issue 18 items 1 and
2): the same contract in process and on Redis (when ``ANTI_GRAZER_TEST_REDIS_URL``
names one), counts that two server processes share on Redis, and a Redis that cannot be
reached: every call fails open, the outage is logged once and counted, and counting
resumes when it answers again."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import pytest

from anti_grazer.store.counters import RETRY_SECONDS, OpenedCounters, open_counters
from tests.e2e.process import free_port
from tests.support import COUNTER_BACKENDS, NEEDS_REDIS, flushed_redis_url, log_events
from tests.tcp_proxy import proxied


@pytest.fixture(params=COUNTER_BACKENDS)
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[OpenedCounters]:
    url = None if request.param == "memory" else await flushed_redis_url()
    async with open_counters(url, 0.5) as opened:
        yield opened


async def test_one_call_adds_and_reads(counters: OpenedCounters) -> None:
    """A new key counts from 1, a key never added reads 0, and a key added and read in
    one call is read as it was before."""
    first = await counters.count([("a", 60), ("b", 60)], ["c"])
    assert first is not None
    assert (first.added, first.read) == ((1, 1), (0,))
    second = await counters.count([("a", 60)], ["a", "b"])
    assert second is not None
    assert second.added == (2,)
    assert second.read[1] == 1


async def test_a_key_lives_for_the_expiry_it_was_created_with(counters: OpenedCounters) -> None:
    """The expiry of the first add holds: later adds do not extend it."""
    await counters.count([("window", 60)])
    await counters.count([("window", 3600)])
    left = await counters.seconds_left("window")
    assert left is not None
    assert 58 <= left <= 60
    assert await counters.seconds_left("missing") == 0


async def test_a_key_is_gone_once_it_expired(counters: OpenedCounters) -> None:
    await counters.count([("short", 1)])
    await asyncio.sleep(1.2)
    found = await counters.count((), ["short"])
    assert found is not None
    assert found.read == (0,)


@NEEDS_REDIS
async def test_two_processes_on_one_redis_share_the_counts() -> None:
    url = await flushed_redis_url()
    async with open_counters(url, 0.5) as one, open_counters(url, 0.5) as other:
        assert (await one.count([("shared", 60)])) is not None
        counted = await other.count([("shared", 60)])
    assert counted is not None
    assert counted.added == (2,)


async def test_an_unreachable_redis_fails_open_and_is_logged_once(
    log_stream: io.StringIO,
) -> None:
    """Nothing listens on the port: every call answers None (the request goes through
    uncounted), one log line names the storage without its password, and the failure
    counter tells the calls that failed from those left alone while it is down."""
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    async with open_counters(url, 0.5) as counters:
        for _ in range(3):
            assert await counters.count([("a", 60)], ["b"]) is None
        assert await counters.seconds_left("a") is None
    assert (counters.failures.errors, counters.failures.outages) == (1, 1)
    assert counters.failures.unchecked == 3
    lines = [e for e in log_events(log_stream) if e["event"].startswith("rate_limit_storage")]
    assert [line["event"] for line in lines] == ["rate_limit_storage_unavailable"]
    assert lines[0]["storage"] == counters.name == url.replace(":hunter2@", "@").replace("@", "")
    assert "hunter2" not in log_stream.getvalue()


@NEEDS_REDIS
async def test_counting_resumes_when_redis_answers_again(log_stream: io.StringIO) -> None:
    """Redis behind a proxy that is cut, then restored: the calls during the outage fail
    open; after ``RETRY_SECONDS`` the next call counts again and the recovery is logged."""
    url = await flushed_redis_url()
    async with proxied(url) as proxy, open_counters(proxy.url_through(url), 0.5) as counters:
        assert await counters.count([("a", 60)]) is not None
        await proxy.cut()
        assert await counters.count([("a", 60)]) is None
        await proxy.restore()
        assert await counters.count([("a", 60)]) is None  # left alone for RETRY_SECONDS
        await asyncio.sleep(RETRY_SECONDS + 0.1)
        counted = await counters.count([("a", 60)])
    assert counted is not None
    assert counted.added == (2,)
    events = [e["event"] for e in log_events(log_stream) if "rate_limit_storage" in e["event"]]
    assert events == ["rate_limit_storage_unavailable", "rate_limit_storage_recovered"]
    assert counters.failures.outages == 1
