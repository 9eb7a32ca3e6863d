"""``GET /v1/profiles/{platform}/{profile_id}``: distinct reporters, and the status
``clear`` → ``reported`` → ``blocked`` at the configured threshold."""

from __future__ import annotations

import httpx
import pytest

from tests.clock import FrozenClock
from tests.reports.helpers import ALL_SCOPES, Headers, bearer_for, error_fields, report
from tests.support import Registered, create_app, running, settings_for


async def profile(http: httpx.AsyncClient, headers: Headers, path: str) -> dict[str, object]:
    response = await http.get(f"/v1/profiles/{path}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_profile_never_reported_is_clear(http: httpx.AsyncClient, auth: Headers) -> None:
    assert await profile(http, auth, "facebook/nobody") == {
        "platform": "facebook",
        "profile_id": "nobody",
        "reporters": 0,
        "status": "clear",
    }


async def test_blocked_exactly_at_the_threshold_of_distinct_reporters(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    """The default threshold is 5: four distinct reporters leave the profile reported,
    a repeat by one of them changes nothing, the fifth blocks it at that moment."""
    for n in range(1, 5):
        await report(http, auth, "grazer", f"user-{n}")
        clock.advance(1)
        assert await profile(http, auth, "facebook/grazer") == {
            "platform": "facebook",
            "profile_id": "grazer",
            "reporters": n,
            "status": "reported",
        }
    repeat = await report(http, auth, "grazer", "user-4")
    assert repeat.status_code == 200
    assert (await profile(http, auth, "facebook/grazer"))["reporters"] == 4
    clock.advance(10)
    await report(http, auth, "grazer", "user-5")
    assert await profile(http, auth, "facebook/grazer") == {
        "platform": "facebook",
        "profile_id": "grazer",
        "reporters": 5,
        "status": "blocked",
        "blocked_at": "2026-06-01T12:00:14Z",
    }


async def test_the_same_reporter_id_from_two_clients_counts_twice(
    http: httpx.AsyncClient, auth: Headers, other_auth: Headers
) -> None:
    """A reporter is (client, reporter_id): client A's "user-1" is not client B's."""
    for n in range(1, 3):
        await report(http, auth, "grazer", f"user-{n}")
        await report(http, other_auth, "grazer", f"user-{n}")
    assert (await profile(http, auth, "facebook/grazer"))["status"] == "reported"
    await report(http, other_auth, "grazer", "user-3")
    body = await profile(http, other_auth, "facebook/grazer")
    assert body["reporters"] == 5
    assert body["status"] == "blocked"


async def test_a_block_stays_and_keeps_its_time(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    for n in range(5):
        await report(http, auth, "grazer", f"user-{n}")
    blocked = await profile(http, auth, "facebook/grazer")
    clock.advance(60)
    await report(http, auth, "grazer", "user-late")
    later = await profile(http, auth, "facebook/grazer")
    assert later["reporters"] == 6
    assert later["status"] == "blocked"
    assert later["blocked_at"] == blocked["blocked_at"] == "2026-06-01T12:00:00Z"


async def test_profiles_are_per_platform(http: httpx.AsyncClient, auth: Headers) -> None:
    await report(http, auth, "same-name", "user-1", platform="x")
    assert (await profile(http, auth, "x/same-name"))["reporters"] == 1
    assert (await profile(http, auth, "tiktok/same-name"))["status"] == "clear"


async def test_the_threshold_is_configurable(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, block_threshold=2), clock=clock)
    async with running(app) as http:
        headers = await bearer_for(http, registered, ALL_SCOPES)
        await report(http, headers, "grazer", "user-1")
        assert (await profile(http, headers, "facebook/grazer"))["status"] == "reported"
        await report(http, headers, "grazer", "user-2")
        assert (await profile(http, headers, "facebook/grazer"))["status"] == "blocked"


async def test_the_platforms_are_configurable(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url, platforms=("mastodon",)), clock=clock)
    async with running(app) as http:
        headers = await bearer_for(http, registered, ALL_SCOPES)
        await report(http, headers, "grazer", "user-1", platform="mastodon")
        assert (await profile(http, headers, "mastodon/grazer"))["reporters"] == 1
        response = await http.get("/v1/profiles/facebook/grazer", headers=headers)
        assert error_fields(response) == {("path", "platform")}


async def test_a_profile_id_may_hold_any_characters(http: httpx.AsyncClient, auth: Headers) -> None:
    for profile_id in ["john.doe-42", "pages/123", "名前", "a b"]:
        await report(http, auth, profile_id, "user-1", platform="linkedin")
        response = await http.get(
            "/v1/profiles/linkedin/" + httpx.URL(path=profile_id).raw_path.decode(), headers=auth
        )
        assert response.status_code == 200, profile_id
        assert response.json()["profile_id"] == profile_id
        assert response.json()["reporters"] == 1


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("myspace/grazer", "platform"),
        ("FACEBOOK/grazer", "platform"),
        ("facebook/" + "p" * 201, "profile_id"),
        ("facebook/", "profile_id"),
    ],
)
async def test_invalid_paths_are_422_naming_the_field(
    http: httpx.AsyncClient, auth: Headers, path: str, field: str
) -> None:
    response = await http.get(f"/v1/profiles/{path}", headers=auth)
    assert error_fields(response) == {("path", field)}


async def test_no_token_is_401(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/profiles/facebook/grazer")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'


async def test_a_token_without_profiles_read_is_403_insufficient_scope(
    http: httpx.AsyncClient, writer: Registered
) -> None:
    """RFC 6750 §3.1, whichever client: a reports:write-only token cannot read."""
    headers = await bearer_for(http, writer, "reports:write")
    response = await http.get("/v1/profiles/facebook/grazer", headers=headers)
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="profiles:read"' in challenge


@pytest.mark.parametrize("profile_id", ["a%00b", "a%1Bb", "%7F"])
async def test_control_characters_in_a_profile_id_are_a_validation_error(
    http: httpx.AsyncClient, auth: Headers, profile_id: str
) -> None:
    """Ids are printable: a control character (NUL cannot even be stored in PostgreSQL
    text) is a 422 naming the field, never a server error."""
    response = await http.get(f"/v1/profiles/facebook/{profile_id}", headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "profile_id"]
