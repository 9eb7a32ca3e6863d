"""The ``ReportStore`` contract: the memory and SQL adapters (SQLite, and PostgreSQL
when ``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database) behave alike."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from anti_grazer.reports.models import BlockPosition, ProfileRecord, Report
from anti_grazer.reports.ports import ReportStore
from tests.support import T0, at


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
    report_store: ReportStore, profile_id: str, moment: datetime, platform: str = "facebook"
) -> None:
    outcome = await report_store.add_report(
        make_report(profile_id, platform=platform, created_at=moment), block_threshold=1
    )
    assert outcome.created


async def test_a_new_report_is_stored_and_counted(report_store: ReportStore) -> None:
    report = make_report()
    outcome = await report_store.add_report(report, block_threshold=3)
    assert outcome.created
    assert outcome.report == report
    assert await report_store.get_profile("facebook", "grazer") == ProfileRecord(
        "facebook", "grazer", 1, T0, None, clients=1
    )


async def test_a_repeat_returns_the_first_report_unchanged(report_store: ReportStore) -> None:
    first = make_report(reason="first")
    await report_store.add_report(first, block_threshold=3)
    again = await report_store.add_report(
        make_report(reason="second", created_at=at(60)), block_threshold=3
    )
    assert not again.created
    assert again.report == first
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 1


async def test_timestamps_keep_their_microseconds_and_zone(report_store: ReportStore) -> None:
    await report_store.add_report(make_report(), block_threshold=1)
    again = await report_store.add_report(make_report(), block_threshold=1)
    assert again.report.created_at == T0
    assert again.report.created_at.tzinfo is not None
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.blocked_at == T0


async def test_a_reporter_is_a_client_and_a_reporter_id(report_store: ReportStore) -> None:
    await report_store.add_report(make_report(client_id="a"), block_threshold=9)
    await report_store.add_report(make_report(client_id="b"), block_threshold=9)
    await report_store.add_report(
        make_report(client_id="a", reporter_id="user-2"), block_threshold=9
    )
    await report_store.add_report(make_report(client_id="a", platform="x"), block_threshold=9)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 3
    assert profile.clients == 2
    other = await report_store.get_profile("x", "grazer")
    assert other is not None
    assert other.reporters == 1


async def test_the_block_is_set_once_when_the_threshold_is_reached(
    report_store: ReportStore,
) -> None:
    for n in range(1, 3):
        await report_store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 3)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 2, at(1), None, clients=1)
    await report_store.add_report(make_report(reporter_id="u3", created_at=at(3)), 3)
    await report_store.add_report(make_report(reporter_id="u4", created_at=at(4)), 3)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 4, at(1), at(3), clients=1)


async def test_a_threshold_of_one_blocks_on_the_first_report(report_store: ReportStore) -> None:
    await report_store.add_report(make_report(), block_threshold=1)
    assert await report_store.get_profile("facebook", "grazer") == ProfileRecord(
        "facebook", "grazer", 1, T0, T0, clients=1
    )


async def test_a_lowered_threshold_blocks_at_the_next_report(report_store: ReportStore) -> None:
    for n in range(1, 4):
        await report_store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 5)
    await report_store.add_report(make_report(reporter_id="u4", created_at=at(4)), 2)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.blocked_at == at(4)


async def test_an_unknown_profile_is_none(report_store: ReportStore) -> None:
    assert await report_store.get_profile("facebook", "nobody") is None


async def test_blocked_profiles_newest_first_then_platform_and_id_descending(
    report_store: ReportStore,
) -> None:
    await report_store.add_report(make_report("reported-only"), block_threshold=2)
    await block(report_store, "b", at(0))
    await block(report_store, "c", at(0))
    await block(report_store, "a", at(0), platform="x")
    await block(report_store, "z", at(-1))
    await block(report_store, "n", at(1))
    blocked = await report_store.list_blocked(platform=None, since=None, after=None, limit=10)
    assert [(r.platform, r.profile_id) for r in blocked] == [
        ("facebook", "n"),
        ("x", "a"),
        ("facebook", "c"),
        ("facebook", "b"),
        ("facebook", "z"),
    ]


async def test_list_blocked_filters_and_keyset(report_store: ReportStore) -> None:
    for n in range(6):
        await block(report_store, f"p{n}", at(n // 2), platform="x" if n % 3 == 0 else "facebook")
    everything = await report_store.list_blocked(platform=None, since=None, after=None, limit=100)
    assert len(everything) == 6
    last = everything[1]
    assert last.blocked_at is not None
    after = BlockPosition(last.blocked_at, last.platform, last.profile_id)
    rest = await report_store.list_blocked(platform=None, since=None, after=after, limit=100)
    assert rest == everything[2:]
    assert (
        await report_store.list_blocked(platform=None, since=None, after=after, limit=2) == rest[:2]
    )
    only_x = await report_store.list_blocked(platform="x", since=None, after=None, limit=100)
    assert [r.profile_id for r in only_x] == ["p3", "p0"]
    recent = await report_store.list_blocked(platform=None, since=at(1), after=None, limit=100)
    assert [r.profile_id for r in recent] == [r.profile_id for r in everything[:4]]
    just_after = await report_store.list_blocked(
        platform=None, since=at(1) + timedelta(microseconds=1), after=None, limit=100
    )
    assert len(just_after) == 2


async def test_concurrent_repeats_store_one_report(report_store: ReportStore) -> None:
    """The unique constraint: racing copies of one report resolve to the stored row."""
    outcomes = await asyncio.gather(
        *(
            report_store.add_report(make_report(reason=f"copy {n}", created_at=at(n)), 3)
            for n in range(8)
        )
    )
    assert sum(outcome.created for outcome in outcomes) == 1
    assert len({outcome.report for outcome in outcomes}) == 1
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 1


async def test_concurrent_reporters_are_all_counted(report_store: ReportStore) -> None:
    outcomes = await asyncio.gather(
        *(
            report_store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 5)
            for n in range(8)
        )
    )
    assert all(outcome.created for outcome in outcomes)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.reporters == 8
    assert profile.blocked_at is not None
    blocked = await report_store.list_blocked(platform=None, since=None, after=None, limit=10)
    assert [r.profile_id for r in blocked] == ["grazer"]
