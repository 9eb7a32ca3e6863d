"""Audiences at the token endpoint (RFC 8707 resource indicators) through HTTP: §2's
``resource`` parameter, repeatable, each value an absolute URI without fragment that the
client may ask for, else 400 ``invalid_target``; no ``resource``, the client's default
audience.  The token's audience is stored with it (opaque tokens too) and shown by
introspection as ``aud`` (RFC 7662 §2.2, the JWT shape of RFC 7519 §4.1.3)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anti_grazer.protocol.audience import MALFORMED
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    INTROSPECT,
    REVOKE,
    TOKEN,
    assert_active,
    assert_invalid_client,
    assert_issued,
    assert_oauth_error,
    basic,
    post_form,
)
from tests.support import (
    Registered,
    count_tokens,
    issue,
    property_settings,
    register,
    request_token,
)

REPORTS = "https://reports.example.com/"
CALENDAR = "urn:example:calendar"
# The server's default audience in these tests: AUDIENCE unset, the issuer.
SERVER_AUDIENCE = "http://127.0.0.1:8000"
NOT_ALLOWED = "The requested resource is invalid or not allowed for this client"


@pytest.fixture
async def api_client(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A client that may ask for two audiences, ``REPORTS`` its default."""
    return await register(sql.clients, clock, audiences=(REPORTS, CALENDAR))


async def stored_audience(sql: OpenedStores, token: str) -> tuple[str, ...]:
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    return record.audience


async def aud_of(http: httpx.AsyncClient, owner: Registered, token: str) -> object:
    """The ``aud`` member introspection gives ``owner`` about its own ``token``."""
    members = assert_active(
        await post_form(http, INTROSPECT, {"token": token}, basic(owner.client_id, owner.secret))
    )
    return members.get("aud")


async def test_a_resource_selects_the_audience(
    http: httpx.AsyncClient, sql: OpenedStores, api_client: Registered
) -> None:
    """RFC 8707 §2: the token is audience-restricted to the resource indicated; its
    record keeps it, and introspection's ``aud`` is one string (RFC 7519 §4.1.3)."""
    response = await request_token(http, api_client.client_id, api_client.secret, None, (CALENDAR,))
    token = assert_issued(response, "profiles:read")
    assert await stored_audience(sql, token) == (CALENDAR,)
    assert await aud_of(http, api_client, token) == CALENDAR


async def test_resource_may_be_used_multiple_times(
    http: httpx.AsyncClient, sql: OpenedStores, api_client: Registered
) -> None:
    """RFC 8707 §2: "Multiple resource parameters MAY be used to indicate that the
    requested token is intended to be used at multiple resources": the audience is every
    one, once each, in the order asked; ``aud`` is then an array."""
    body = urlencode(
        [
            ("grant_type", "client_credentials"),
            ("resource", CALENDAR),
            ("scope", "reports:write"),
            ("resource", REPORTS),
            ("resource", CALENDAR),
        ]
    )
    response = await http.post(
        TOKEN,
        content=body,
        headers={
            "Content-Type": FORM,
            "Authorization": basic(api_client.client_id, api_client.secret),
        },
    )
    token = assert_issued(response, "reports:write")
    assert await stored_audience(sql, token) == (CALENDAR, REPORTS)
    assert await aud_of(http, api_client, token) == [CALENDAR, REPORTS]


async def test_no_resource_is_the_clients_default_audience(
    http: httpx.AsyncClient, sql: OpenedStores, api_client: Registered
) -> None:
    """RFC 8707 §2 lets the server use "a pre-defined default resource value": the
    first audience the client was registered with.  An empty ``resource`` is omitted
    (RFC 6749 §3.2)."""
    token = await issue(http, api_client)
    assert await stored_audience(sql, token) == (REPORTS,)
    assert await aud_of(http, api_client, token) == REPORTS
    empty = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "resource": ""},
        basic(api_client.client_id, api_client.secret),
    )
    assert await stored_audience(sql, assert_issued(empty, "profiles:read")) == (REPORTS,)


async def test_a_client_without_audiences_keeps_unrestricted_opaque_tokens(
    http: httpx.AsyncClient, sql: OpenedStores, registered: Registered
) -> None:
    """As before audiences existed: no ``resource``, no specific audience (RFC 8707 §2
    "MAY process the request with no specific resource"), and no ``aud`` member.  The
    one resource such a client may name is the server's default audience."""
    token = await issue(http, registered)
    assert await stored_audience(sql, token) == ()
    assert await aud_of(http, registered, token) is None
    restricted = await issue(http, registered, None, (SERVER_AUDIENCE,))
    assert await stored_audience(sql, restricted) == (SERVER_AUDIENCE,)
    assert await aud_of(http, registered, restricted) == SERVER_AUDIENCE
    refused = await request_token(http, registered.client_id, registered.secret, None, (REPORTS,))
    assert_oauth_error(refused, 400, "invalid_target", NOT_ALLOWED)


@pytest.mark.parametrize(
    ("resources", "description"),
    [
        pytest.param(("https://evil.example/",), NOT_ALLOWED, id="not-registered"),
        pytest.param((REPORTS, "https://evil.example/"), NOT_ALLOWED, id="one-not-registered"),
        pytest.param((REPORTS + "?tenant=a",), NOT_ALLOWED, id="query-not-registered"),
        pytest.param((REPORTS.upper(),), NOT_ALLOWED, id="compared-exactly"),
        pytest.param(("reports.example.com",), MALFORMED, id="relative"),
        pytest.param(("/reports",), MALFORMED, id="path-only"),
        pytest.param(("https://reports.example.com/ x",), MALFORMED, id="space"),
        pytest.param(("https://reports.example.com/%zz",), MALFORMED, id="bad-escape"),
        pytest.param((REPORTS + "#top",), MALFORMED, id="fragment"),
        pytest.param((REPORTS + "#",), MALFORMED, id="empty-fragment"),
        pytest.param((CALENDAR, "1https://x"), MALFORMED, id="bad-scheme"),
    ],
)
async def test_an_unacceptable_resource_is_invalid_target(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    api_client: Registered,
    resources: tuple[str, ...],
    description: str,
) -> None:
    """RFC 8707 §2: the value "MUST be an absolute URI" (RFC 3986 §4.3) and "MUST NOT
    include a fragment component"; a resource the server "does not consider ... acceptable"
    is refused with ``invalid_target`` (registered for the token endpoint by §5.1): 400,
    the §5.2 body, ``Cache-Control: no-store``, and no token stored."""
    response = await request_token(http, api_client.client_id, api_client.secret, None, resources)
    assert_oauth_error(response, 400, "invalid_target", description)
    assert response.json() == {"error": "invalid_target", "error_description": description}
    assert response.headers["cache-control"] == "no-store"
    assert await count_tokens(sql.engine) == 0


async def test_the_client_authenticates_before_its_resource_is_judged(
    http: httpx.AsyncClient, api_client: Registered
) -> None:
    """RFC 6749 §5.2: a client that fails to authenticate is ``invalid_client``, whatever
    it asks for."""
    response = await request_token(http, api_client.client_id, "wrong", None, ("not a uri",))
    assert_invalid_client(response)


@pytest.mark.parametrize("endpoint", [REVOKE, INTROSPECT])
async def test_resource_repeats_only_at_the_token_endpoint(
    http: httpx.AsyncClient, api_client: Registered, endpoint: str
) -> None:
    """RFC 8707 §2 defines ``resource`` for token requests; at the revocation and
    introspection endpoints RFC 6749 §3.2 still holds: no parameter twice."""
    body = urlencode([("token", "x"), ("resource", REPORTS), ("resource", CALENDAR)])
    response = await http.post(
        endpoint,
        content=body,
        headers={
            "Content-Type": FORM,
            "Authorization": basic(api_client.client_id, api_client.secret),
        },
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")


_URI_LIKE = st.from_regex(r"[a-zA-Z][a-zA-Z0-9+.-]{0,8}:[!-~]{0,30}", fullmatch=True)


@property_settings
@given(resources=st.lists(st.one_of(st.text(max_size=40), _URI_LIKE), min_size=1, max_size=4))
async def test_any_resource_is_a_token_or_invalid_target(
    http: httpx.AsyncClient, api_client: Registered, resources: list[str]
) -> None:
    """Whatever the values (RFC 8707 §2), never a 5xx: a token when each is allowed (or
    empty, so omitted), else exactly ``invalid_target``."""
    response = await request_token(
        http, api_client.client_id, api_client.secret, None, tuple(resources)
    )
    if all(r in ("", REPORTS, CALENDAR) for r in resources):
        assert_issued(response, "profiles:read")
        return
    description = response.json().get("error_description")
    assert description in (NOT_ALLOWED, MALFORMED)
    assert_oauth_error(response, 400, "invalid_target", description)
