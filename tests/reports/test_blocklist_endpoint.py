"""``GET /v1/blocklist``: blocked profiles newest first, cursor-paginated, filtered by
platform and ``since``, with a strong ETag for cheap syncing (RFC 9110 §8.8.3, §13.1.2)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.clock import FrozenClock
from tests.reports.helpers import ALL_SCOPES, Headers, b64url, bearer_for, error_fields, report
from tests.support import Registered, create_app, running, settings_for


@pytest.fixture
async def http(database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app with a threshold of 1: every reported profile is blocked at once."""
    app = create_app(settings_for(database_url, block_threshold=1), clock=clock)
    async with running(app) as client:
        yield client


async def block(
    http: httpx.AsyncClient, headers: Headers, profile_id: str, platform: str = "facebook"
) -> None:
    await report(http, headers, profile_id, "user-1", platform=platform)


async def blocklist(http: httpx.AsyncClient, headers: Headers, **params: Any) -> dict[str, Any]:
    response = await http.get("/v1/blocklist", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def every_page(
    http: httpx.AsyncClient, headers: Headers, **params: Any
) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        body = await blocklist(http, headers, **params, **({"cursor": cursor} if cursor else {}))
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


async def test_the_empty_blocklist(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.get("/v1/blocklist", headers=auth)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert response.headers["etag"].startswith('"')
    assert response.headers["cache-control"] == "private, no-cache"


async def test_reported_but_not_blocked_profiles_are_not_listed(
    database_url: str, clock: FrozenClock, registered: Registered
) -> None:
    app = create_app(settings_for(database_url), clock=clock)
    async with running(app) as client:
        headers = await bearer_for(client, registered, ALL_SCOPES)
        await report(client, headers, "grazer", "user-1")
        assert (await blocklist(client, headers))["items"] == []


async def test_newest_block_first(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    for name in ["first", "second", "third"]:
        await block(http, auth, name)
        clock.advance(1.5)
    assert (await blocklist(http, auth))["items"] == [
        {"platform": "facebook", "profile_id": "third", "blocked_at": "2026-06-01T12:00:03Z"},
        {
            "platform": "facebook",
            "profile_id": "second",
            "blocked_at": "2026-06-01T12:00:01.500000Z",
        },
        {"platform": "facebook", "profile_id": "first", "blocked_at": "2026-06-01T12:00:00Z"},
    ]


async def test_pages_cover_the_list_once_each(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    """25 blocks, some at the same instant, read 7 at a time: every profile exactly once,
    in the order of the whole list."""
    expected = []
    for n in range(25):
        platform = ["facebook", "x", "tiktok"][n % 3]
        await block(http, auth, f"grazer-{n:02}", platform)
        expected.append((platform, f"grazer-{n:02}"))
        if n % 4 == 3:
            clock.advance(1)
    whole = [(i["platform"], i["profile_id"]) for i in (await blocklist(http, auth))["items"]]
    assert sorted(whole) == sorted(expected)
    pages = await every_page(http, auth, limit=7)
    assert [len(page) for page in pages] == [7, 7, 7, 4]
    paged = [(i["platform"], i["profile_id"]) for page in pages for i in page]
    assert paged == whole
    instants = [i["blocked_at"] for page in pages for i in page]
    assert instants == sorted(instants, reverse=True)


async def test_a_full_last_page_has_no_next_cursor(http: httpx.AsyncClient, auth: Headers) -> None:
    for n in range(4):
        await block(http, auth, f"grazer-{n}")
    pages = await every_page(http, auth, limit=2)
    assert [len(page) for page in pages] == [2, 2]


async def test_new_blocks_do_not_disturb_a_walk_in_progress(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    for n in range(4):
        await block(http, auth, f"old-{n}")
        clock.advance(1)
    first = await blocklist(http, auth, limit=2)
    await block(http, auth, "newest")
    second = await blocklist(http, auth, limit=2, cursor=first["next_cursor"])
    names = [i["profile_id"] for i in first["items"] + second["items"]]
    assert names == ["old-3", "old-2", "old-1", "old-0"]
    assert second["next_cursor"] is None


async def test_filtered_by_platform(http: httpx.AsyncClient, auth: Headers) -> None:
    for n in range(5):
        await block(http, auth, f"grazer-{n}", "x" if n % 2 else "instagram")
    pages = await every_page(http, auth, platform="x", limit=1)
    assert [i["profile_id"] for page in pages for i in page] == ["grazer-3", "grazer-1"]
    assert {i["platform"] for page in pages for i in page} == {"x"}


async def test_since_keeps_blocks_at_or_after_the_instant(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    for n in range(4):
        await block(http, auth, f"grazer-{n}")
        clock.advance(60)
    body = await blocklist(http, auth, since="2026-06-01T12:01:00Z")
    assert [i["profile_id"] for i in body["items"]] == ["grazer-3", "grazer-2", "grazer-1"]
    in_paris = await blocklist(http, auth, since="2026-06-01T14:02:00+02:00")
    assert [i["profile_id"] for i in in_paris["items"]] == ["grazer-3", "grazer-2"]
    pages = await every_page(http, auth, since="2026-06-01T12:01:00Z", limit=2)
    assert [len(page) for page in pages] == [2, 1]


async def test_a_repeated_request_has_the_same_etag_and_if_none_match_gives_304(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    """RFC 9110 §13.1.2: a matching If-None-Match answers 304 with no body and the ETag."""
    await block(http, auth, "grazer")
    first = await http.get("/v1/blocklist", headers=auth)
    etag = first.headers["etag"]
    assert not etag.startswith("W/")
    second = await http.get("/v1/blocklist", headers=auth)
    assert second.headers["etag"] == etag
    assert second.content == first.content
    for condition in [etag, f'"other", {etag}', f"W/{etag}", "*"]:
        unchanged = await http.get("/v1/blocklist", headers={**auth, "If-None-Match": condition})
        assert unchanged.status_code == 304, condition
        assert unchanged.content == b""
        assert unchanged.headers["etag"] == etag
    stale = await http.get("/v1/blocklist", headers={**auth, "If-None-Match": '"stale"'})
    assert stale.status_code == 200
    assert stale.content == first.content


async def test_a_changed_list_has_a_new_etag(http: httpx.AsyncClient, auth: Headers) -> None:
    await block(http, auth, "grazer-1")
    etag = (await http.get("/v1/blocklist", headers=auth)).headers["etag"]
    await block(http, auth, "grazer-2")
    changed = await http.get("/v1/blocklist", headers={**auth, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert [i["profile_id"] for i in changed.json()["items"]] == ["grazer-2", "grazer-1"]


async def test_each_page_has_its_own_etag(http: httpx.AsyncClient, auth: Headers) -> None:
    for n in range(2):
        await block(http, auth, f"grazer-{n}")
    first = await http.get("/v1/blocklist", params={"limit": 1}, headers=auth)
    params = {"limit": 1, "cursor": first.json()["next_cursor"]}
    second = await http.get("/v1/blocklist", params=params, headers=auth)
    assert first.headers["etag"] != second.headers["etag"]
    again = await http.get(
        "/v1/blocklist", params=params, headers={**auth, "If-None-Match": second.headers["etag"]}
    )
    assert again.status_code == 304


async def test_limit_bounds(http: httpx.AsyncClient, auth: Headers) -> None:
    for n in range(3):
        await block(http, auth, f"grazer-{n}")
    assert len((await blocklist(http, auth, limit=1))["items"]) == 1
    assert len((await blocklist(http, auth, limit=1000))["items"]) == 3
    assert len((await blocklist(http, auth))["items"]) == 3


def altered(cursor: str) -> str:
    """The cursor with one character of its payload changed."""
    index = 5
    replacement = "A" if cursor[index] != "A" else "B"
    return cursor[:index] + replacement + cursor[index + 1 :]


def forged(cursor: str) -> str:
    """A cursor whose payload is rewritten but whose check is kept."""
    payload, _, check = cursor.partition(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    raw = raw.replace(b"grazer", b"GRAZER")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + check


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"since": "2026-13-01T00:00:00Z"}, "since"),
        ({"since": "2026-06-01T12:00:00"}, "since"),
        ({"platform": "myspace"}, "platform"),
        ({"cursor": "garbage"}, "cursor"),
        ({"cursor": ""}, "cursor"),
        ({"cursor": "a.b"}, "cursor"),
        ({"cursor": "!!!.???"}, "cursor"),
        ({"cursor": "é.é"}, "cursor"),
        ({"cursor": "x" * 5000}, "cursor"),
    ],
)
async def test_invalid_parameters_are_422_naming_the_field(
    http: httpx.AsyncClient, auth: Headers, params: dict[str, Any], field: str
) -> None:
    response = await http.get("/v1/blocklist", params=params, headers=auth)
    assert error_fields(response) == {("query", field)}


@pytest.mark.parametrize(
    "since",
    [
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+14:00",
        "0001-01-01T00:00:00Z",
        "1969-12-31T23:59:59.999999Z",
    ],
)
async def test_a_since_outside_the_years_1970_to_9999_in_utc_is_422(
    http: httpx.AsyncClient, auth: Headers, since: str
) -> None:
    """RFC 3339 offsets reach ±23:59: the first two have no UTC ``datetime`` at all."""
    response = await http.get("/v1/blocklist", params={"since": since}, headers=auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["query", "since"],
                "msg": "Value error, must be an instant in the years 1970 to 9999 (UTC)",
                "ctx": {"error": {}},
            }
        ]
    }


@pytest.mark.parametrize("since", ["0", "1764000000", "-7.8e-177", "1e3", " 12 "])
async def test_unix_seconds_are_not_a_since_but_422(
    http: httpx.AsyncClient, auth: Headers, since: str
) -> None:
    """``since`` is an RFC 3339 date-time (§5.6), as the document says: a number, which
    pydantic alone would read as Unix seconds, is refused (found by API fuzzing)."""
    response = await http.get("/v1/blocklist", params={"since": since}, headers=auth)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["query", "since"]
    assert error["msg"] == (
        "Value error, must be an RFC 3339 date-time with an offset, e.g. 2026-01-31T12:00:00Z"
    )


async def test_the_edges_of_since_are_accepted(http: httpx.AsyncClient, auth: Headers) -> None:
    await block(http, auth, "grazer")
    first = await blocklist(http, auth, since="1970-01-01T00:00:00Z")
    assert [i["profile_id"] for i in first["items"]] == ["grazer"]
    last = await blocklist(http, auth, since="9999-12-31T23:59:59.999999Z")
    assert last["items"] == []


def unkeyed_cursor(payload: dict[str, Any]) -> str:
    """A cursor for any payload with a check anyone can compute: the truncated SHA-256 of
    the payload that cursors once carried (written out here, not taken from the code)."""
    raw = json.dumps(payload).encode()
    check = hashlib.sha256(b"anti-grazer blocklist cursor\x00" + raw).digest()[:12]
    return f"{b64url(raw)}.{b64url(check)}"


@pytest.mark.parametrize(
    "blocked_at",
    [
        "2026-06-01T12:00:00+00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-23:59",
        "2026-06-01T12:00:00",
    ],
)
async def test_a_forged_cursor_is_422(
    http: httpx.AsyncClient, auth: Headers, blocked_at: str
) -> None:
    """Cursors carry a keyed MAC: a cursor written by anyone else, here naming a real
    position or an impossible instant, is refused."""
    await block(http, auth, "g")
    cursor = unkeyed_cursor({"v": 1, "f": [None, None], "p": [blocked_at, "facebook", "h"]})
    response = await http.get("/v1/blocklist", params={"cursor": cursor}, headers=auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["query", "cursor"],
                "msg": "Invalid cursor: cursor check failed",
            }
        ]
    }


@pytest.mark.parametrize("change", [altered, forged, lambda c: c[:-2], lambda c: c + "A"])
async def test_an_altered_cursor_is_422(
    http: httpx.AsyncClient, auth: Headers, change: Any
) -> None:
    for n in range(2):
        await block(http, auth, f"grazer-{n}")
    cursor = (await blocklist(http, auth, limit=1))["next_cursor"]
    response = await http.get(
        "/v1/blocklist", params={"limit": 1, "cursor": change(cursor)}, headers=auth
    )
    assert error_fields(response) == {("query", "cursor")}


@pytest.mark.parametrize(
    "other_filters",
    [{"platform": "x"}, {"since": "2026-01-01T00:00:00Z"}],
)
async def test_a_cursor_is_refused_with_other_filters(
    http: httpx.AsyncClient, auth: Headers, other_filters: dict[str, str]
) -> None:
    for n in range(2):
        await block(http, auth, f"grazer-{n}", "x")
    cursor = (await blocklist(http, auth, limit=1))["next_cursor"]
    response = await http.get(
        "/v1/blocklist", params={"limit": 1, "cursor": cursor, **other_filters}, headers=auth
    )
    assert error_fields(response) == {("query", "cursor")}


async def test_no_token_is_401_before_any_validation(http: httpx.AsyncClient) -> None:
    response = await http.get("/v1/blocklist", params={"limit": 0, "cursor": "garbage"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'


async def test_a_token_without_profiles_read_is_403_insufficient_scope(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    headers = await bearer_for(http, registered, "reports:write")
    response = await http.get("/v1/blocklist", headers=headers)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert 'scope="profiles:read"' in response.headers["www-authenticate"]
