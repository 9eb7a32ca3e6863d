"""Bad input of any kind at the reports API gets a JSON answer below 500, never a 5xx
(DESIGN.md §5): hypothesis draws every ``/v1`` input — report bodies field by field and
whole, path parameters, query parameters — from arbitrary text, lone surrogates (as JSON
``\\u`` escapes, RFC 8259 §8.2, and as percent-encoded bytes), NaN and Infinity, huge
numbers, timestamps with extreme offsets and random or altered cursors.

Each test runs on the memory stores and on SQL (a SQLite file, or the run's PostgreSQL),
whose column types once let an ``OverflowError`` through.  The examples of one test share
one running app, so every example also checks that earlier garbage broke nothing.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.settings import DEFAULT_PLATFORMS
from anti_grazer.store.memory import memory_stores
from anti_grazer.store.runtime import open_stores
from tests.clock import FrozenClock
from tests.reports.helpers import Headers, b64url, bearer_for, report
from tests.support import (
    create_app,
    memory_stores_factory,
    property_settings,
    register,
    running,
    settings_for,
)

ERROR_KEYS = {"type", "loc", "msg", "ctx"}


@dataclass
class Api:
    """A running app with some blocked profiles, a token with both scopes, and a real
    cursor of its blocklist."""

    http: httpx.AsyncClient
    headers: Headers
    cursor: str


@pytest.fixture(params=["memory", "sql"])
async def api(
    request: pytest.FixtureRequest, database_url: str, clock: FrozenClock
) -> AsyncIterator[Api]:
    """The app on the memory stores or on SQL, with a client registered (threshold 1:
    every report blocks)."""
    settings = settings_for(database_url, block_threshold=1)
    if request.param == "memory":
        stores = memory_stores()
        who = await register(stores.clients, clock)
        app = create_app(settings, stores=memory_stores_factory(stores), clock=clock)
    else:
        async with open_stores(database_url) as sql:
            who = await register(sql.clients, clock)
        app = create_app(settings, clock=clock)
    async with running(app) as http:
        headers = await bearer_for(http, who)
        for n in range(3):
            await report(http, headers, f"grazer-{n}", "user-1")
            clock.advance(1)
        page = await http.get("/v1/blocklist", params={"limit": 1}, headers=headers)
        yield Api(http, headers, page.json()["next_cursor"])


def assert_handled(response: httpx.Response) -> None:
    """Below 500 and JSON; a 422 names fields without echoing their values."""
    assert response.status_code < 500, (response.status_code, response.text)
    assert response.headers["content-type"] == "application/json", response.headers
    body = response.json()
    if response.status_code == 422:
        for error in body["detail"]:
            assert {"type", "loc", "msg"} <= set(error) <= ERROR_KEYS, error


# --- strategies -------------------------------------------------------------------------

# Any code point, lone surrogates included (hypothesis leaves them out unless asked), and
# text sure to hold one.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
with_surrogate = st.tuples(any_text, st.integers(0xD800, 0xDFFF).map(chr), any_text).map("".join)
text = st.one_of(any_text, with_surrogate, st.sampled_from(["", " ", "\x00", "x" * 1001]))

huge_numbers = st.sampled_from(
    ["1e400", "-1e400", "1" * 5000, "0." + "1" * 5000, "1e999999999", "-0", "1E-400"]
)
number_text = st.one_of(
    st.integers().map(str),
    st.floats().map(json.dumps),  # NaN, Infinity and -Infinity included
    huge_numbers,
)


def offset(minutes: int) -> str:
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02}:{abs(minutes) % 60:02}"


timestamps = st.one_of(
    st.builds(
        lambda moment, zone: moment.isoformat() + zone,
        st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59)),
        st.one_of(
            st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(offset),
            st.sampled_from(["Z", "", "+24:00", "-99:99", "+23:59:59"]),
        ),
    ),
    st.sampled_from(
        [
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00+23:59",
            "9999-12-31T23:59:59.999999Z",
            "1970-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "now",
        ]
    ),
)


# JSON text as sent: strings through json.dumps, which writes a lone surrogate as a
# ``\\u`` escape; numbers and literals Python's reader takes although JSON has no NaN.
json_strings = st.one_of(text, timestamps).map(json.dumps)
json_scalars = st.one_of(
    st.sampled_from(["null", "true", "false", "NaN", "Infinity", "-Infinity"]),
    number_text,
    json_strings,
)
json_text = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ",".join(items) + "]"),
        st.lists(st.tuples(json_strings, inner), max_size=4).map(
            lambda pairs: "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
        ),
    ),
    max_leaves=8,
)


# A cursor is made from the app's real one (known only once it runs): random ones ignore
# it, the others alter it.
CursorRecipe = Callable[[str], str]


def _altered(index: int, char: str) -> CursorRecipe:
    return lambda real: real[: index % len(real)] + char + real[index % len(real) + 1 :]


cursors: st.SearchStrategy[CursorRecipe] = st.one_of(
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=", max_size=80).map(
        lambda cursor: lambda _real: cursor
    ),
    st.builds(
        lambda payload, mac: lambda _real: f"{b64url(payload.encode())}.{b64url(mac)}",
        json_text,
        st.binary(max_size=32),
    ),
    st.builds(_altered, st.integers(min_value=0), st.characters(exclude_categories=())),
    st.integers(min_value=0).map(lambda end: lambda real: real[: end % (len(real) + 1)]),
    st.just(lambda real: real),
)


def percent_encoded(value: str | bytes) -> str:
    """``value`` percent-encoded for a URL, lone surrogates as their (invalid) UTF-8."""
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote(data, safe="")


# --- report bodies ----------------------------------------------------------------------

FIELDS = ("platform", "profile_id", "reporter_id", "reason")
ABSENT = ""


def field_values(name: str) -> st.SearchStrategy[str]:
    """A field's JSON text: absent, plausible, or anything."""
    plausible = st.sampled_from(DEFAULT_PLATFORMS) if name == "platform" else st.just("grazer")
    return st.one_of(st.just(ABSENT), plausible.map(json.dumps), json_strings, json_text)


def report_body(values: tuple[str, ...]) -> bytes:
    members = [f'"{name}":{value}' for name, value in zip(FIELDS, values, strict=True) if value]
    return ("{" + ",".join(members) + "}").encode("ascii")


@property_settings
@given(values=st.tuples(*(field_values(name) for name in FIELDS)))
async def test_report_bodies_field_by_field(api: Api, values: tuple[str, ...]) -> None:
    response = await api.http.post(
        "/v1/reports",
        content=report_body(values),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert_handled(response)


@property_settings
@given(
    content=st.one_of(json_text.map(str.encode), st.binary(max_size=300)),
    content_type=st.sampled_from(
        ["application/json", "application/json; charset=latin-1", "text/plain", "x/y+json"]
    ),
)
async def test_arbitrary_report_bodies(api: Api, content: bytes, content_type: str) -> None:
    response = await api.http.post(
        "/v1/reports", content=content, headers={**api.headers, "Content-Type": content_type}
    )
    assert_handled(response)


# --- path and query parameters ----------------------------------------------------------

segments = st.one_of(
    st.sampled_from(DEFAULT_PLATFORMS), text, st.binary(min_size=1, max_size=40), st.just("..")
)


@property_settings
@given(platform=segments, profile_id=segments)
async def test_profile_paths(api: Api, platform: str | bytes, profile_id: str | bytes) -> None:
    url = f"/v1/profiles/{percent_encoded(platform)}/{percent_encoded(profile_id)}"
    assert_handled(await api.http.get(url, headers=api.headers))


QueryValue = str | bytes | CursorRecipe
query_values: st.SearchStrategy[QueryValue] = st.one_of(
    text,
    st.binary(max_size=40),
    timestamps,
    number_text,
    st.sampled_from(DEFAULT_PLATFORMS),
    cursors,
)


def query_string(api: Api, pairs: list[tuple[str, QueryValue]]) -> str:
    encoded = [
        (percent_encoded(name), percent_encoded(value(api.cursor) if callable(value) else value))
        for name, value in pairs
    ]
    return "&".join(f"{name}={value}" for name, value in encoded)


@property_settings
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(["platform", "since", "limit", "cursor"]), text), query_values
        ),
        max_size=6,
    )
)
async def test_blocklist_queries(api: Api, pairs: list[tuple[str, QueryValue]]) -> None:
    url = f"/v1/blocklist?{query_string(api, pairs)}"
    assert_handled(await api.http.get(url, headers=api.headers))


@property_settings
@given(
    chosen=st.fixed_dictionaries(
        {},
        optional={
            "platform": st.one_of(st.sampled_from(DEFAULT_PLATFORMS), text),
            "since": timestamps,
            "limit": st.one_of(st.integers(-5, 1005).map(str), number_text),
            "cursor": cursors,
        },
    )
)
async def test_one_of_each_blocklist_parameter(api: Api, chosen: dict[str, QueryValue]) -> None:
    """Each parameter at most once, so that every value reaches its own validation (and
    a valid cursor the storage)."""
    url = f"/v1/blocklist?{query_string(api, list(chosen.items()))}"
    assert_handled(await api.http.get(url, headers=api.headers))
