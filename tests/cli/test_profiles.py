"""``anti-grazer profiles show | clear | block | unblock PLATFORM PROFILE_ID``: moderation
of one profile, each change recorded in the audit trail (``profile.moderated``); a
cleared profile needs new reports to be blocked again."""

from __future__ import annotations

import json
from typing import Any

from anti_grazer.protocol.clock import SystemClock
from anti_grazer.reports.cursor import BlocklistCursors
from anti_grazer.reports.service import ReportPolicy, ReportService
from anti_grazer.store.runtime import OpenedStores
from tests.cli.helpers import Cli
from tests.cli.test_audit import audit_list


def reported(run: Cli, *reporters: str, profile_id: str = "grazer") -> None:
    """Reports through the service, as the API makes them (threshold 2)."""

    async def go(stores: OpenedStores) -> None:
        service = ReportService(
            stores.reports,
            SystemClock(),
            ReportPolicy.of(["facebook"], 2),
            BlocklistCursors(b"k" * 32),
        )
        for reporter in reporters:
            await service.report(
                "client-a",
                reporter_id=reporter,
                platform="facebook",
                profile_id=profile_id,
                reason=None,
            )

    run.stores(go)


def shown(run: Cli, profile_id: str = "grazer") -> dict[str, Any]:
    result = run("profiles", "show", "facebook", profile_id, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert isinstance(body, dict)
    return body


def test_show_a_reported_then_blocked_profile(run: Cli) -> None:
    assert run("db", "upgrade").exit_code == 0
    reported(run, "u1", "u2")
    profile = shown(run)
    assert profile["status"] == "blocked"
    assert (profile["reporters"], profile["clients"]) == (2, 1)
    assert [r["reporter_id"] for r in profile["reports"]] == ["u1", "u2"]
    assert shown(run, "nobody")["status"] == "clear"


def test_clear_removes_the_reports_and_new_ones_are_needed(run: Cli) -> None:
    assert run("db", "upgrade").exit_code == 0
    reported(run, "u1", "u2")
    result = run("profiles", "clear", "facebook", "grazer")
    assert (result.exit_code, result.output) == (0, "facebook/grazer cleared (2 reports removed)\n")
    profile = shown(run)
    assert (profile["status"], profile["reporters"], profile["reports"]) == ("clear", 0, [])
    assert profile["cleared_at"] is not None
    reported(run, "u1")
    assert shown(run)["status"] == "reported"
    reported(run, "u2")
    assert shown(run)["status"] == "blocked"
    [event] = audit_list(run, "--kind", "profile.moderated")
    assert event["subject"] == "facebook/grazer"
    assert event["details"] == {"action": "clear", "reports_removed": 2}


def test_block_and_unblock_are_audited(run: Cli) -> None:
    assert run("db", "upgrade").exit_code == 0
    assert run("profiles", "block", "facebook", "fresh").exit_code == 0
    assert shown(run, "fresh")["status"] == "blocked"
    result = run("profiles", "unblock", "facebook", "fresh")
    assert (result.exit_code, result.output) == (0, "facebook/fresh unblocked\n")
    assert shown(run, "fresh")["status"] == "clear"
    events = audit_list(run, "--kind", "profile.moderated")
    assert [e["details"] for e in events] == [{"action": "block"}, {"action": "unblock"}]


def test_unknown_profiles_and_platforms_are_one_line_errors(run: Cli) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("profiles", "unblock", "facebook", "nobody")
    assert result.exit_code == 1
    assert result.output == "Error: facebook/nobody was never reported nor blocked\n"
    result = run("profiles", "block", "myspace", "x")
    assert result.exit_code == 2
    assert "unknown platform 'myspace'" in result.output
    assert audit_list(run) == []
