"""The ``ReportStore`` contract of reporting that cannot be weaponised and of moderation
(issue 18 item 7), on memory, SQLite and PostgreSQL alike: a profile is blocked only
once its reporters came through ``min_clients`` distinct clients; clearing deletes its
reports so that only later ones count; an operator's block and unblock keep them."""

from __future__ import annotations

from anti_grazer.reports.models import ProfileRecord
from anti_grazer.reports.ports import ReportStore
from tests.store.test_report_store import make_report
from tests.support import at


async def test_one_client_inventing_reporters_cannot_block_alone(report_store: ReportStore) -> None:
    for n in range(1, 11):
        await report_store.add_report(make_report(reporter_id=f"fake-{n}", created_at=at(n)), 5, 2)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 10, at(1), None, clients=1)
    await report_store.add_report(make_report(client_id="client-b", created_at=at(11)), 5, 2)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile == ProfileRecord("facebook", "grazer", 11, at(1), at(11), clients=2)


async def test_clearing_deletes_the_reports_and_starts_again(report_store: ReportStore) -> None:
    for n in range(1, 4):
        await report_store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 3)
    assert await report_store.clear_profile("facebook", "grazer", at(10)) == 3
    assert await report_store.get_profile("facebook", "grazer") == ProfileRecord(
        "facebook", "grazer", 0, at(1), None, clients=0, cleared_at=at(10)
    )
    assert await report_store.list_reports("facebook", "grazer", 10) == []
    # The same reporters report again: new reports, counted from zero.
    for n in range(1, 3):
        outcome = await report_store.add_report(
            make_report(reporter_id=f"u{n}", created_at=at(20 + n)), 3
        )
        assert outcome.created
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert (profile.reporters, profile.blocked_at) == (2, None)
    await report_store.add_report(make_report(reporter_id="u3", created_at=at(30)), 3)
    profile = await report_store.get_profile("facebook", "grazer")
    assert profile is not None
    assert profile.blocked_at == at(30)


async def test_clearing_a_profile_never_reported_changes_nothing(report_store: ReportStore) -> None:
    assert await report_store.clear_profile("facebook", "nobody", at(1)) == 0
    assert await report_store.get_profile("facebook", "nobody") is None


async def test_an_operator_blocks_and_unblocks_keeping_the_reports(
    report_store: ReportStore,
) -> None:
    blocked = await report_store.set_blocked("facebook", "fresh", at(5), at(5))
    assert blocked == ProfileRecord("facebook", "fresh", 0, at(5), at(5))
    await report_store.add_report(make_report("reported", created_at=at(1)), 5)
    blocked = await report_store.set_blocked("facebook", "reported", at(6), at(6))
    assert (blocked.reporters, blocked.blocked_at) == (1, at(6))
    lifted = await report_store.set_blocked("facebook", "reported", None, at(7))
    assert (lifted.reporters, lifted.blocked_at) == (1, None)
    assert len(await report_store.list_reports("facebook", "reported", 10)) == 1


async def test_list_reports_gives_the_newest_oldest_first(report_store: ReportStore) -> None:
    for n in range(1, 6):
        await report_store.add_report(make_report(reporter_id=f"u{n}", created_at=at(n)), 99)
    await report_store.add_report(make_report("other", created_at=at(9)), 99)
    reports = await report_store.list_reports("facebook", "grazer", 3)
    assert [r.reporter_id for r in reports] == ["u3", "u4", "u5"]


async def test_a_client_has_named_a_reporter_once_a_stored_report_names_it(
    report_store: ReportStore,
) -> None:
    """``has_reporter``: per client (another client's reporter of the same id is not its
    own), whatever the profile, and forgotten with the reports a clearing deletes."""
    assert not await report_store.has_reporter("client-a", "user-1")
    await report_store.add_report(make_report("grazer", "user-1", client_id="client-a"), 5)
    await report_store.add_report(make_report("other", "user-2", client_id="client-a"), 5)
    assert await report_store.has_reporter("client-a", "user-1")
    assert await report_store.has_reporter("client-a", "user-2")
    assert not await report_store.has_reporter("client-b", "user-1")
    assert not await report_store.has_reporter("client-a", "user-3")
    await report_store.clear_profile("facebook", "grazer", at(9))
    assert not await report_store.has_reporter("client-a", "user-1")
    assert await report_store.has_reporter("client-a", "user-2")
