"""The reports rules over the memory store: status, threshold, policy and settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from anti_grazer.reports.cursor import BlocklistCursors
from anti_grazer.reports.models import ProfileRecord, ProfileStatus
from anti_grazer.reports.service import ReportPolicy, ReportService, profile_status
from anti_grazer.settings import DEFAULT_PLATFORMS, load_settings
from anti_grazer.store.memory_reports import MemoryReportStore
from tests.clock import FrozenClock

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
KEY = bytes(32)


def test_status_follows_the_stored_record() -> None:
    assert profile_status(None) is ProfileStatus.CLEAR
    assert profile_status(ProfileRecord("x", "p", 2, T0)) is ProfileStatus.REPORTED
    assert profile_status(ProfileRecord("x", "p", 2, T0, T0)) is ProfileStatus.BLOCKED


async def test_the_service_blocks_at_the_threshold() -> None:
    service = ReportService(
        MemoryReportStore(), FrozenClock(T0), ReportPolicy.of(["x"], 2), BlocklistCursors(KEY)
    )
    first = await service.report("c", reporter_id="r1", platform="x", profile_id="p", reason=None)
    assert first.created
    assert (await service.profile("x", "p")).status is ProfileStatus.REPORTED
    await service.report("c", reporter_id="r2", platform="x", profile_id="p", reason=None)
    view = await service.profile("x", "p")
    assert (view.status, view.reporters, view.blocked_at) == (ProfileStatus.BLOCKED, 2, T0)
    page = await service.blocklist()
    assert [(i.profile_id, i.blocked_at) for i in page.items] == [("p", T0)]


async def test_the_service_refuses_what_validation_should_have_stopped() -> None:
    service = ReportService(
        MemoryReportStore(), FrozenClock(T0), ReportPolicy.of(["x"], 2), BlocklistCursors(KEY)
    )
    with pytest.raises(ValueError, match="unknown platform"):
        await service.report("c", reporter_id="r", platform="y", profile_id="p", reason=None)
    with pytest.raises(ValueError, match="limit"):
        await service.blocklist(limit=0)
    with pytest.raises(ValueError, match="block_threshold"):
        ReportPolicy.of(["x"], 0)


def test_settings_defaults() -> None:
    settings = load_settings()
    assert settings.block_threshold == 5
    assert (
        settings.platforms
        == DEFAULT_PLATFORMS
        == (
            "facebook",
            "x",
            "instagram",
            "linkedin",
            "tiktok",
        )
    )


def test_platforms_from_the_environment_are_comma_separated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTI_GRAZER_PLATFORMS", "mastodon, bluesky")
    monkeypatch.setenv("ANTI_GRAZER_BLOCK_THRESHOLD", "3")
    settings = load_settings()
    assert settings.platforms == ("mastodon", "bluesky")
    assert settings.block_threshold == 3


@pytest.mark.parametrize(
    "overrides",
    [
        {"block_threshold": 0},
        {"platforms": ()},
        {"platforms": ("Facebook",)},
        {"platforms": ("x", "x")},
        {"platforms": ("a" * 33,)},
        {"platforms": ""},
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        load_settings(**overrides)
