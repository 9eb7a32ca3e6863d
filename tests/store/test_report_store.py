"""The ``ReportStore`` contract: the memory and SQL adapters (SQLite, and PostgreSQL
when ``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database) behave alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report
from anti_grazer.reports.ports import ReportStore
from anti_grazer.store.memory_reports import MemoryReportStore
from anti_grazer.store.runtime import open_stores
from tests.support import STORE_BACKENDS, T0, at, fresh_database_url


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ReportStore]:
    """A fresh, empty report store on one backend."""
    backend: str = request.param
    if backend == "memory":
        yield MemoryReportStore()
        return
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        yield opened.reports


def make_report(
    profile_id: str = "grazer",
    reporter_id: str = "user-1",
    *,
    client_id: str = "client-a",
    platform: str = "facebook",
    reason: str | None = "scam",
    created_at: datetime = T0,
) -> Report:
    return Report(client_id, reporter_id, platform, profile_id, reason, created_at)


async def block(
    store: ReportStore, profile_id: str, moment: datetime, platform: str = "facebook"
) -> None:
    outcome = await store.add_report(
        make_report(profile_id, platform=platform, created_at=moment), block_threshold=1
    )
    assert outcome.created


async def test_a_new_report_is_stored_and_counted(store: ReportStore) -> None:
    report = make_report()
    outcome = await store.add_report(report, block_threshold=3)
    assert outcome.created
    assert outcome.report == report
    assert await store.get_profile("facebook", "grazer") == ProfileRecord(
        "facebook", "grazer", 1, T0, None, clients=1
    )


async def test_a_repeat_returns_the_first_report_unchanged(store: ReportStore) -> None:
    first = make_report(reason="first")
    await store.add_report(first, block_threshold=3)
    again = await store.add_report(
        make_report(reason="second", created_at=at(60)), block_threshold=3
    )
    assert not again.created
    assert again.report == first
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 1


async def test_timestamps_keep_their_microseconds_and_zone(store: ReportStore) -> None:
    await store.add_report(make_report(), block_threshold=1)
    again = await store.add_report(make_report(), block_threshold=1)
    assert again.report.created_at == T0
    assert again.report.created_at.tzinfo is not None
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.blocked_at == T0


async def test_a_reporter_is_a_client_and_a_reporter_id(store: ReportStore) -> None:
    await store.add_report(make_report(client_id="a"), block_threshold=9)
    await store.add_report(make_report(client_id="b"), block_threshold=9)
    await store.add_report(make_report(client_id="a", reporter_id="user-2"), block_threshold=9)
    await store.add_report(make_report(client_id="a", platform="x"), block_threshold=9)
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 3
    assert profile.clients == 2
    other = await store.get_profile("x", "grazer")
    assert other is not None
    assert other.reporters == 1


async def test_the_block_is_set_once_when_the_threshold_is_reached(store: ReportStore) -> None:
    for n in range(1, 3):
        await store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 3)
    profile = await store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 2, at(1), None, clients=1)
    await store.add_report(make_report(reporter_id="u3", created_at=at(3)), 3)
    await store.add_report(make_report(reporter_id="u4", created_at=at(4)), 3)
    profile = await store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 4, at(1), at(3), clients=1)


async def test_a_threshold_of_one_blocks_on_the_first_report(store: ReportStore) -> None:
    await store.add_report(make_report(), block_threshold=1)
    assert await store.get_profile("facebook", "grazer") == ProfileRecord(
        "facebook", "grazer", 1, T0, T0, clients=1
    )


async def test_a_lowered_threshold_blocks_at_the_next_report(store: ReportStore) -> None:
    for n in range(1, 4):
        await store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 5)
    await store.add_report(make_report(reporter_id="u4", created_at=at(4)), 2)
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.blocked_at == at(4)


async def test_an_unknown_profile_is_none(store: ReportStore) -> None:
    assert await store.get_profile("facebook", "nobody") is None


async def test_blocked_profiles_newest_first_then_platform_and_id_descending(
    store: ReportStore,
) -> None:
    await store.add_report(make_report("reported-only"), block_threshold=2)
    await block(store, "b", at(0))
    await block(store, "c", at(0))
    await block(store, "a", at(0), platform="x")
    await block(store, "z", at(-1))
    await block(store, "n", at(1))
    blocked = await store.list_blocked(platform=None, since=None, after=None, limit=10)
    assert [(r.platform, r.profile_id) for r in blocked] == [
        ("facebook", "n"),
        ("x", "a"),
        ("facebook", "c"),
        ("facebook", "b"),
        ("facebook", "z"),
    ]


async def test_list_blocked_filters_and_keyset(store: ReportStore) -> None:
    for n in range(6):
        await block(store, f"p{n}", at(n // 2), platform="x" if n % 3 == 0 else "facebook")
    everything = await store.list_blocked(platform=None, since=None, after=None, limit=100)
    assert len(everything) == 6
    last = everything[1]
    assert last.blocked_at is not None
    after = BlockPosition(last.blocked_at, last.platform, last.profile_id)
    rest = await store.list_blocked(platform=None, since=None, after=after, limit=100)
    assert rest == everything[2:]
    assert await store.list_blocked(platform=None, since=None, after=after, limit=2) == rest[:2]
    only_x = await store.list_blocked(platform="x", since=None, after=None, limit=100)
    assert [r.profile_id for r in only_x] == ["p3", "p0"]
    recent = await store.list_blocked(platform=None, since=at(1), after=None, limit=100)
    assert [r.profile_id for r in recent] == [r.profile_id for r in everything[:4]]
    just_after = await store.list_blocked(
        platform=None, since=at(1) + timedelta(microseconds=1), after=None, limit=100
    )
    assert len(just_after) == 2


async def test_concurrent_repeats_store_one_report(store: ReportStore) -> None:
    """The unique constraint: racing copies of one report resolve to the stored row."""
    outcomes = await asyncio.gather(
        *(store.add_report(make_report(reason=f"copy {n}", created_at=at(n)), 3) for n in range(8))
    )
    assert sum(outcome.created for outcome in outcomes) == 1
    assert len({outcome.report for outcome in outcomes}) == 1
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 1


async def test_concurrent_reporters_are_all_counted(store: ReportStore) -> None:
    outcomes = await asyncio.gather(
        *(store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 5) for n in range(8))
    )
    assert all(outcome.created for outcome in outcomes)
    profile = await store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 8
    assert profile.blocked_at is not None
    blocked = await store.list_blocked(platform=None, since=None, after=None, limit=10)
    assert [r.profile_id for r in blocked] == ["grazer"]
