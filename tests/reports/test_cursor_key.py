"""The key of blocklist cursors (reports/cursor.py): ``ANTI_GRAZER_CURSOR_KEY`` when set,
else one generated once and kept in the database, so that every worker and instance on it
honours the others' cursors; a cursor under another key is 422 naming ``cursor``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from anti_grazer.settings import load_settings
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.tables import server_keys
from tests.clock import FrozenClock
from tests.reports.helpers import bearer_for, report
from tests.support import Registered, create_app, running, settings_for

KEY = "k" * 32
OTHER_KEY = "o" * 32
CHECK_FAILED = {
    "detail": [
        {
            "type": "value_error",
            "loc": ["query", "cursor"],
            "msg": "Invalid cursor: cursor check failed",
        }
    ]
}


async def first_page_cursor(
    database_url: str, clock: FrozenClock, who: Registered, **settings: Any
) -> str:
    """Block two profiles through an app with ``settings`` and return the cursor of the
    blocklist's second page."""
    app = create_app(settings_for(database_url, block_threshold=1, **settings), clock=clock)
    async with running(app) as http:
        headers = await bearer_for(http, who)
        for name in ["grazer-1", "grazer-2"]:
            await report(http, headers, name, "user-1")
        response = await http.get("/v1/blocklist", params={"limit": 1}, headers=headers)
    cursor: str = response.json()["next_cursor"]
    return cursor


async def second_page(
    database_url: str, clock: FrozenClock, who: Registered, cursor: str, **settings: Any
) -> httpx.Response:
    """The page after ``cursor``, read through another app with ``settings``."""
    app = create_app(settings_for(database_url, block_threshold=1, **settings), clock=clock)
    async with running(app) as http:
        headers = await bearer_for(http, who)
        return await http.get(
            "/v1/blocklist", params={"limit": 1, "cursor": cursor}, headers=headers
        )


async def test_apps_on_one_database_honour_each_others_cursors(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    cursor = await first_page_cursor(database_url, clock, registered)
    response = await second_page(database_url, clock, registered, cursor)
    assert response.status_code == 200
    assert [i["profile_id"] for i in response.json()["items"]] == ["grazer-1"]


async def test_the_generated_key_is_kept_in_the_database(
    database_url: str, clock: FrozenClock, registered: Registered, sql: OpenedStores
) -> None:
    await first_page_cursor(database_url, clock, registered)
    async with sql.engine.connect() as connection:
        rows = (await connection.execute(select(server_keys))).all()
    assert [(name, len(secret)) for name, secret in rows] == [("blocklist-cursor", 32)]


async def test_a_configured_key_is_the_one_used(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    cursor = await first_page_cursor(database_url, clock, registered, cursor_key=KEY)
    same = await second_page(database_url, clock, registered, cursor, cursor_key=KEY)
    assert same.status_code == 200
    for settings in [{"cursor_key": OTHER_KEY}, {}]:
        other = await second_page(database_url, clock, registered, cursor, **settings)
        assert other.status_code == 422
        assert other.json() == CHECK_FAILED


def test_the_configured_key_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTI_GRAZER_CURSOR_KEY", KEY)
    settings = load_settings()
    assert settings.cursor_key is not None
    assert settings.cursor_key.get_secret_value() == KEY
    assert KEY not in repr(settings)
    assert KEY not in str(settings)


def test_a_short_key_is_refused_without_being_echoed() -> None:
    with pytest.raises(ValidationError) as refused:
        load_settings(cursor_key="s3cret-but-short")
    assert "cursor_key" in str(refused.value)
    assert "at least 32 characters are needed" in str(refused.value)
    assert "s3cret" not in str(refused.value)
