"""The token endpoint's client_credentials grant through HTTP: what is issued (RFC 6749
§4.4.2, §4.4.3, §5.1 success), the grant type (§4.4.2, §5.2), the granted scope (§3.3)
and the token's lifetime (§5.1 ``expires_in``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    CLIENT_CREDENTIALS,
    TOKEN,
    assert_issued,
    assert_oauth_error,
    basic,
    post_form,
)
from tests.support import Registered, count_tokens, create_app, register, running, settings_for

# --- success (§4.4.3, §5.1) ----------------------------------------------------------


async def test_basic_authentication_issues_a_token_and_records_its_digest(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §2.3.1, §4.4.3, §5.1: HTTP Basic credentials get a Bearer token with its
    lifetime and granted scope, no refresh token (§4.4.3: SHOULD NOT be included); the
    store keeps the digest with client, scope, issue and expiry times."""
    response = await post_form(
        http, TOKEN, CLIENT_CREDENTIALS, basic(registered.client_id, registered.secret)
    )
    token = assert_issued(response, "profiles:read", 3600)
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    assert record.client_id == registered.client_id
    assert record.scopes == frozenset({"profiles:read"})
    assert record.issued_at == clock.now()
    assert record.expires_at == clock.now() + timedelta(seconds=3600)
    assert record.revoked_at is None
    assert await count_tokens(sql.engine) == 1


async def test_each_request_gets_a_new_token(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §4.4.3: every successful request issues a fresh access token."""
    auth = basic(registered.client_id, registered.secret)
    first = assert_issued(
        await post_form(http, TOKEN, CLIENT_CREDENTIALS, auth), "profiles:read", 3600
    )
    second = assert_issued(
        await post_form(http, TOKEN, CLIENT_CREDENTIALS, auth), "profiles:read", 3600
    )
    assert first != second
    assert await count_tokens(sql.engine) == 2


# --- grant type (§4.4.2, §5.2) ----------------------------------------------------------


@pytest.mark.parametrize("data", [{}, {"grant_type": ""}, {"scope": "profiles:read"}])
async def test_missing_grant_type_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, data: dict[str, str]
) -> None:
    """RFC 6749 §4.4.2 (grant_type REQUIRED), §3.2 (a parameter without a value is
    omitted), §5.2 invalid_request."""
    response = await post_form(http, TOKEN, data, basic(registered.client_id, registered.secret))
    assert_oauth_error(response, 400, "invalid_request", "The grant_type parameter is missing")


@pytest.mark.parametrize(
    "grant_type",
    [
        "password",
        "authorization_code",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "CLIENT_CREDENTIALS",
        "client_credentials ",
    ],
)
async def test_unknown_grant_type_is_unsupported_grant_type(
    http: httpx.AsyncClient, registered: Registered, grant_type: str
) -> None:
    """RFC 6749 §5.2: a grant type the server does not support (values are
    case-sensitive) is unsupported_grant_type."""
    response = await post_form(
        http, TOKEN, {"grant_type": grant_type}, basic(registered.client_id, registered.secret)
    )
    assert_oauth_error(response, 400, "unsupported_grant_type", "The grant type is not supported")


async def test_a_client_not_allowed_the_grant_is_unauthorized_client(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §5.2: an authenticated client not authorized to use this grant type gets
    unauthorized_client, and no token."""
    await sql.clients.update_client(replace(registered.client, grant_types=frozenset()))
    response = await post_form(
        http, TOKEN, CLIENT_CREDENTIALS, basic(registered.client_id, registered.secret)
    )
    assert_oauth_error(
        response,
        400,
        "unauthorized_client",
        "The client is not allowed to use this grant type",
    )
    assert await count_tokens(sql.engine) == 0


# --- scope (§3.3) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "granted"),
    [
        (None, "profiles:read"),
        ("", "profiles:read"),
        ("reports:write", "reports:write"),
        ("reports:write profiles:read", "profiles:read reports:write"),
        ("profiles:read profiles:read", "profiles:read"),
    ],
)
async def test_granted_scope_is_stated_in_the_response(
    http: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    requested: str | None,
    granted: str,
) -> None:
    """RFC 6749 §3.3: an omitted scope gets the client's default scope; the response
    states the granted scope (§5.1), which is also what is stored."""
    data = dict(CLIENT_CREDENTIALS)
    if requested is not None:
        data["scope"] = requested
    response = await post_form(http, TOKEN, data, basic(registered.client_id, registered.secret))
    token = assert_issued(response, granted, 3600)
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    assert record.scopes == frozenset(granted.split())


@pytest.mark.parametrize("requested", ["admin", "profiles:read admin", "profiles:write"])
async def test_scope_outside_the_allowed_set_is_invalid_scope(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, requested: str
) -> None:
    """RFC 6749 §3.3, §5.2: a scope beyond what the client may have is invalid_scope."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "scope": requested},
        basic(registered.client_id, registered.secret),
    )
    assert_oauth_error(
        response,
        400,
        "invalid_scope",
        "The requested scope is invalid or not allowed for this client",
    )
    assert await count_tokens(sql.engine) == 0


@pytest.mark.parametrize(
    "requested",
    [
        "profiles:read  reports:write",
        " profiles:read",
        "profiles:read ",
        "profiles:read\treports:write",
        '"profiles:read"',
        "profiles\\read",
        "profilés:read",
        "profiles:read\x7f",
    ],
)
async def test_malformed_scope_is_invalid_scope(
    http: httpx.AsyncClient, registered: Registered, requested: str
) -> None:
    """RFC 6749 §3.3: scope = scope-token *( SP scope-token ), scope-token = 1*( %x21 /
    %x23-5B / %x5D-7E ); anything else is invalid_scope."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "scope": requested},
        basic(registered.client_id, registered.secret),
    )
    assert_oauth_error(response, 400, "invalid_scope", "The scope parameter is malformed")


async def test_no_scope_and_no_default_scope_gets_every_allowed_scope(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §3.3: with scope omitted the server MUST use a pre-defined default or fail;
    a client registered without a default scope has every allowed scope as its default
    (DESIGN.md §4.5).  A named scope is still judged against the allowed set."""
    bare = await register(sql.clients, clock, scope="profiles:read reports:write", default_scope="")
    auth = basic(bare.client_id, bare.secret)
    response = await post_form(http, TOKEN, CLIENT_CREDENTIALS, auth)
    assert_issued(response, "profiles:read reports:write", 3600)
    requested = await post_form(
        http, TOKEN, {"grant_type": "client_credentials", "scope": "profiles:read"}, auth
    )
    assert_issued(requested, "profiles:read", 3600)
    beyond = await post_form(
        http, TOKEN, {"grant_type": "client_credentials", "scope": "admin"}, auth
    )
    assert_oauth_error(
        beyond,
        400,
        "invalid_scope",
        "The requested scope is invalid or not allowed for this client",
    )


async def test_a_client_without_any_scope_gets_a_token_without_scope(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §3.3, §5.1: a client allowed no scope gets, for an omitted scope, a token
    with no scope; the §3.3 grammar has no empty scope, so the response has no ``scope``
    member.  Asking for any scope is invalid_scope."""
    bare = await register(sql.clients, clock, scope="", default_scope="")
    auth = basic(bare.client_id, bare.secret)
    response = await post_form(http, TOKEN, CLIENT_CREDENTIALS, auth)
    token = assert_issued(response, None)
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    assert record.scopes == frozenset()
    named = await post_form(
        http, TOKEN, {"grant_type": "client_credentials", "scope": "profiles:read"}, auth
    )
    assert_oauth_error(
        named, 400, "invalid_scope", "The requested scope is invalid or not allowed for this client"
    )


# --- lifetime (§4.4.3, §5.1 expires_in) ----------------------------------------------


async def test_expires_in_is_the_client_ttl_then_the_default_never_above_the_maximum(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §5.1: expires_in is the token's lifetime in seconds: the client's own TTL
    when set, else 3600, never above the configured maximum (default 86400)."""
    for ttl, expected in ((None, 3600), (600, 600), (86400, 86400), (100_000, 86400)):
        client = await register(sql.clients, clock, ttl=ttl, name=f"ttl {ttl}")
        response = await post_form(
            http, TOKEN, CLIENT_CREDENTIALS, basic(client.client_id, client.secret)
        )
        token = assert_issued(response, "profiles:read", expected)
        record = await sql.tokens.get_token(access_token_digest(token))
        assert record is not None
        assert record.expires_at - record.issued_at == timedelta(seconds=expected)


async def test_configured_default_and_maximum_lifetimes_apply(
    database_url: str, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §5.1: with access_token_ttl_seconds=900 and max 1800, a client without a
    TTL gets 900, one with 1200 gets 1200, one with 7200 is capped at 1800."""
    settings = settings_for(
        database_url, access_token_ttl_seconds=900, max_access_token_ttl_seconds=1800
    )
    async with running(create_app(settings, clock=clock)) as http:
        for ttl, expected in ((None, 900), (1200, 1200), (1800, 1800), (7200, 1800)):
            client = await register(sql.clients, clock, ttl=ttl, name=f"ttl {ttl}")
            response = await post_form(
                http, TOKEN, CLIENT_CREDENTIALS, basic(client.client_id, client.secret)
            )
            assert_issued(response, "profiles:read", expected)
