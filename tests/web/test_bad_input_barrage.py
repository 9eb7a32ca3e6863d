"""A mixed barrage of bad requests at the OAuth endpoints, then the server still works
(DESIGN.md §5: bad input gets OAuth errors, never a 5xx, and loses nothing already
stored).

The property tests' examples share one running app and database, so every example
also checks that earlier garbage broke nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    OAUTH_ENDPOINTS,
    REVOKE,
    TOKEN,
    assert_issued,
    assert_no_store,
    assert_oauth_4xx,
    assert_oauth_error,
    basic,
)
from tests.support import Registered, property_settings
from tests.web.bad_input import GRANT, authorization_values, header_bytes, raw_headers, raw_post

pytestmark = pytest.mark.anyio


@dataclass(frozen=True)
class RawRequest:
    method: str
    url: str
    headers: dict[str, bytes]
    content: bytes


# Stands for the other client's valid Basic credentials (known only inside the test).
OTHER_CLIENT_AUTH = b"<other client>"


def _raw_requests() -> st.SearchStrategy[RawRequest]:
    headers = st.fixed_dictionaries(
        {},
        optional={
            "Content-Type": st.one_of(st.just(FORM.encode()), header_bytes),
            "Authorization": st.one_of(st.just(OTHER_CLIENT_AUTH), authorization_values),
            "Content-Length": st.one_of(
                st.integers(0, 10**6).map(lambda n: str(n).encode()), header_bytes
            ),
        },
    )
    bodies = st.one_of(
        st.binary(max_size=300),
        st.lists(
            st.tuples(
                st.sampled_from(["grant_type", "scope", "token", "token_type_hint", "client_id"]),
                st.text(max_size=20),
            ),
            max_size=6,
        ).map(lambda pairs: urlencode(pairs).encode()),
    )
    return st.builds(
        RawRequest,
        method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT", "DELETE"]),
        url=st.sampled_from([*OAUTH_ENDPOINTS, TOKEN + "?token=x", REVOKE + "?a=b"]),
        headers=headers,
        content=bodies,
    )


@pytest.fixture
async def baseline_token(http: httpx.AsyncClient, registered: Registered) -> str:
    """A token issued before any garbage arrives."""
    return assert_issued(
        await raw_post(
            http,
            TOKEN,
            GRANT,
            {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
        ),
        "profiles:read",
    )


@property_settings
@given(barrage=st.lists(_raw_requests(), min_size=1, max_size=8))
async def test_after_a_barrage_of_bad_requests_the_server_still_works(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
    baseline_token: str,
    barrage: list[RawRequest],
) -> None:
    """DESIGN.md §5: garbage from any client gets 4xx OAuth errors (or, by chance, a
    well-formed answer), never a 5xx; afterwards a token issued earlier is still stored
    and active, another client cannot revoke it, and a normal request still succeeds."""
    other_auth = basic(other_client.client_id, other_client.secret).encode()
    for raw in barrage:
        headers = {
            name: other_auth if value == OTHER_CLIENT_AUTH else value
            for name, value in raw.headers.items()
        }
        response = await http.request(
            raw.method, raw.url, headers=raw_headers(headers), content=raw.content
        )
        if response.status_code == 200:  # e.g. the other client revoking or introspecting
            assert_no_store(response)
        else:
            assert_oauth_4xx(response)
    refused = await raw_post(
        http,
        REVOKE,
        f"token={baseline_token}".encode(),
        {"Content-Type": FORM, "Authorization": other_auth},
    )
    assert_oauth_error(
        refused, 400, "unauthorized_client", "The token was not issued to this client"
    )
    record = await sql.tokens.get_token(access_token_digest(baseline_token))
    assert record is not None
    assert record.client_id == registered.client_id
    assert record.revoked_at is None
    assert record.is_active(clock.now())
    fresh = await raw_post(
        http,
        TOKEN,
        GRANT,
        {"Content-Type": FORM, "Authorization": basic(registered.client_id, registered.secret)},
    )
    assert (
        await sql.tokens.get_token(access_token_digest(assert_issued(fresh, "profiles:read")))
        is not None
    )
