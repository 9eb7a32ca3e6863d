"""The token endpoint through HTTP: RFC 6749 §2.3.1 client authentication, §3.2 endpoint
rules, §3.3 scope, §4.4 client_credentials grant, §5.1 success and §5.2 error responses."""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.models import Client
from anti_grazer.protocol.params import MAX_PARAMETERS
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    CLIENT_CREDENTIALS,
    FORM,
    TOKEN,
    assert_invalid_client,
    assert_issued,
    assert_no_store,
    assert_oauth_error,
    basic,
    basic_raw,
    post_form,
)
from tests.support import (
    Registered,
    altered,
    count_tokens,
    create_app,
    make_client,
    register,
    running,
    settings_for,
)


def decoded(header: str) -> str:
    """The text inside a ``Basic`` value."""
    return b64decode(header.removeprefix("Basic ")).decode()


async def add_client(sql: OpenedStores, clock: FrozenClock, client_id: str, secret: str) -> Client:
    """Store a client with a chosen id and secret (the registry only generates them)."""
    client = make_client(
        client_id,
        secret=secret,
        created_at=clock.now(),
        allowed="profiles:read",
        default="profiles:read",
    )
    await sql.clients.add_client(client)
    return client


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


async def test_body_credentials_issue_a_token(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §2.3.1: client_id and client_secret in the request body (the seed's
    example) authenticate the client."""
    response = await post_form(
        http,
        TOKEN,
        {
            "client_id": registered.client_id,
            "client_secret": registered.secret,
            "grant_type": "client_credentials",
        },
    )
    token = assert_issued(response, "profiles:read", 3600)
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    assert record.client_id == registered.client_id


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


async def test_basic_scheme_name_is_case_insensitive(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §2.3.1 (RFC 7617 §2, RFC 7235 §2.1): the auth-scheme is case-insensitive."""
    value = basic(registered.client_id, registered.secret).removeprefix("Basic ")
    for scheme in ("BASIC", "basic", "bAsIc"):
        response = await post_form(http, TOKEN, CLIENT_CREDENTIALS, f"{scheme} {value}")
        assert_issued(response, "profiles:read", 3600)


async def test_unrecognised_parameters_are_ignored(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2: the authorization server MUST ignore unrecognized parameters."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "audience": "x", "foo": "bar"},
        basic(registered.client_id, registered.secret),
    )
    assert_issued(response, "profiles:read", 3600)


async def test_form_content_type_with_charset_and_any_case_is_accepted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2, §4.4.2: the body is application/x-www-form-urlencoded; media type
    names are case-insensitive and may carry parameters (RFC 9110 §8.3.1)."""
    for content_type in (
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-URLEncoded",
    ):
        response = await http.post(
            TOKEN,
            content=b"grant_type=client_credentials",
            headers={
                "Content-Type": content_type,
                "Authorization": basic(registered.client_id, registered.secret),
            },
        )
        assert_issued(response, "profiles:read", 3600)


@pytest.mark.parametrize(
    "charset", ["iso-8859-1", "ISO-8859-1", '"windows-1252"', "us-ascii", "utf-16"]
)
async def test_a_form_declared_in_another_charset_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, charset: str
) -> None:
    """RFC 6749 Appendix B: the form is UTF-8.  A body declared in another charset is
    refused, not read as UTF-8, even when its bytes would read the same."""
    response = await http.post(
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={
            "Content-Type": f"{FORM}; charset={charset}",
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The request body must be encoded in UTF-8"
    )
    assert await count_tokens(sql.engine) == 0


async def test_a_quoted_utf8_charset_is_accepted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 9110 §8.3.1: a parameter value may be a quoted-string."""
    response = await http.post(
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={
            "Content-Type": f'{FORM}; charset="utf-8"',
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_issued(response, "profiles:read", 3600)


async def test_too_many_parameters_are_invalid_request_saying_so(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """A form of more than MAX_PARAMETERS fields is refused with a description naming the
    problem (it is well-formed UTF-8)."""
    padding = "&".join(f"p{i}=v" for i in range(MAX_PARAMETERS))
    response = await http.post(
        TOKEN,
        content=f"grant_type=client_credentials&{padding}".encode(),
        headers={
            "Content-Type": FORM,
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        f"The request body has more than {MAX_PARAMETERS} parameters",
    )


# --- Basic credentials are form-urlencoded first (§2.3.1, Appendix B) -----------------


async def test_basic_credentials_are_form_urldecoded(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 §2.3.1 and Appendix B: the id and secret are form-urlencoded before
    base64, so ``+`` decodes to a space and ``%3A`` to a colon."""
    await add_client(sql, clock, "partner app:eu", "s3cret: with space+plus")
    header = basic("partner app:eu", "s3cret: with space+plus")
    assert decoded(header) == "partner+app%3Aeu:s3cret%3A+with+space%2Bplus"
    assert_issued(await post_form(http, TOKEN, CLIENT_CREDENTIALS, header), "profiles:read", 3600)


async def test_basic_plus_sign_means_space(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 6749 Appendix B: an unescaped ``+`` is a space, so a secret with a literal
    ``+`` must be sent as ``%2B``; sent raw it does not match."""
    await add_client(sql, clock, "client-a", "a b")
    await add_client(sql, clock, "client-b", "a+b")
    raw_plus = basic("client-a", "a+b", encode=False)
    assert_issued(await post_form(http, TOKEN, CLIENT_CREDENTIALS, raw_plus), "profiles:read", 3600)
    literal_plus = basic("client-b", "a+b", encode=False)
    assert_invalid_client(await post_form(http, TOKEN, CLIENT_CREDENTIALS, literal_plus))
    escaped_plus = basic("client-b", "a+b")
    assert_issued(
        await post_form(http, TOKEN, CLIENT_CREDENTIALS, escaped_plus), "profiles:read", 3600
    )


async def test_basic_splits_on_the_first_colon(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7617 §2 (used by RFC 6749 §2.3.1): user-id and password split at the first
    colon, so a secret may hold raw colons but an id may not."""
    await add_client(sql, clock, "plain-id", "x:y:z")
    raw = basic("plain-id", "x:y:z", encode=False)
    assert_issued(await post_form(http, TOKEN, CLIENT_CREDENTIALS, raw), "profiles:read", 3600)
    await add_client(sql, clock, "id:with:colons", "secret")
    unescaped_id = basic("id:with:colons", "secret", encode=False)
    assert_invalid_client(await post_form(http, TOKEN, CLIENT_CREDENTIALS, unescaped_id))
    escaped_id = basic("id:with:colons", "secret")
    assert_issued(
        await post_form(http, TOKEN, CLIENT_CREDENTIALS, escaped_id), "profiles:read", 3600
    )


# --- one authentication method, body only (§2.3, §2.3.1, §3.2) --------------------------


async def test_basic_and_body_secret_together_are_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §2.3: the client MUST NOT use more than one authentication method in
    each request."""
    response = await post_form(
        http,
        TOKEN,
        {
            "grant_type": "client_credentials",
            "client_id": registered.client_id,
            "client_secret": registered.secret,
        },
        basic(registered.client_id, registered.secret),
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The client used more than one authentication method"
    )
    assert await count_tokens(sql.engine) == 0


async def test_basic_with_another_body_client_id_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, other_client: Registered
) -> None:
    """RFC 6749 §2.3: Basic for one client plus a body client_id naming another is two
    conflicting identifications."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "client_id": other_client.client_id},
        basic(registered.client_id, registered.secret),
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The client used more than one authentication method"
    )


async def test_basic_with_the_same_body_client_id_is_accepted(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §2.3.1: a body client_id without a secret is no second method; when it
    repeats the Basic id the request succeeds."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "client_id": registered.client_id},
        basic(registered.client_id, registered.secret),
    )
    assert_issued(response, "profiles:read", 3600)


@pytest.mark.parametrize(
    "query",
    ["client_id={id}&client_secret={secret}", "grant_type=client_credentials", "foo=bar"],
)
async def test_any_query_string_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, query: str
) -> None:
    """RFC 6749 §2.3.1 (credentials MUST NOT be in the request URI) and §3.2 (parameters
    travel in the body): any query string is refused, even with valid credentials."""
    response = await http.post(
        f"{TOKEN}?{query.format(id=registered.client_id, secret=registered.secret)}",
        data=CLIENT_CREDENTIALS,
        headers={"Authorization": basic(registered.client_id, registered.secret)},
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "Parameters must be sent in the request body, not the URL",
    )
    assert await count_tokens(sql.engine) == 0


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", b'{"grant_type": "client_credentials"}'),
        ("multipart/form-data; boundary=x", b"--x--"),
        ("text/plain", b"grant_type=client_credentials"),
        ("application/x-www-form-urlencodedX", b"grant_type=client_credentials"),
        (None, b"grant_type=client_credentials"),
    ],
)
async def test_a_body_that_is_not_form_encoded_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, content_type: str | None, content: bytes
) -> None:
    """RFC 6749 §3.2, §4.4.2: parameters use application/x-www-form-urlencoded; any
    other (or no) content type is refused."""
    headers = {"Authorization": basic(registered.client_id, registered.secret)}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await http.post(TOKEN, content=content, headers=headers)
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "The request body must be application/x-www-form-urlencoded",
    )


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke"])
@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_methods_other_than_post_get_405(
    http: httpx.AsyncClient, registered: Registered, method: str, path: str
) -> None:
    """RFC 6749 §3.2 (the client MUST use POST) and RFC 7009 §2.1: other methods get 405
    with ``Allow: POST`` and an OAuth JSON error."""
    response = await http.request(
        method, path, headers={"Authorization": basic(registered.client_id, registered.secret)}
    )
    assert_oauth_error(response, 405, "invalid_request", "Only POST is allowed at this endpoint")
    assert response.headers["allow"] == "POST"


async def test_head_gets_405_with_allow_post(http: httpx.AsyncClient) -> None:
    """RFC 6749 §3.2: HEAD is not POST either; its answer carries no body to check."""
    response = await http.head(TOKEN)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert_no_store(response)


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND"])
async def test_unlisted_methods_also_get_an_oauth_405(http: httpx.AsyncClient, method: str) -> None:
    """RFC 6749 §3.2, §5.2: any method but POST gets the OAuth 405 (not framework JSON)."""
    response = await http.request(method, TOKEN)
    assert_oauth_error(response, 405, "invalid_request", "Only POST is allowed at this endpoint")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=client_credentials&grant_type=client_credentials",
        b"grant_type=client_credentials&scope=profiles:read&scope=reports:write",
        b"grant_type=client_credentials&scope=&scope=profiles:read",
        b"grant_type=client_credentials&foo=1&foo=2",
    ],
)
async def test_a_repeated_parameter_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, body: bytes
) -> None:
    """RFC 6749 §3.2: request parameters MUST NOT be included more than once."""
    response = await http.post(
        TOKEN,
        content=body,
        headers={
            "Content-Type": FORM,
            "Authorization": basic(registered.client_id, registered.secret),
        },
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")
    assert await count_tokens(sql.engine) == 0


async def test_repeated_body_credentials_are_invalid_request(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2: a repeated client_secret is refused, not resolved either way."""
    body = (
        f"grant_type=client_credentials&client_id={registered.client_id}"
        f"&client_secret={registered.secret}&client_secret=other"
    ).encode()
    response = await http.post(TOKEN, content=body, headers={"Content-Type": FORM})
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")


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


async def test_unauthorized_client_is_decided_after_authentication(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §5.2: unauthorized_client describes an *authenticated* client; with a
    wrong secret the answer is invalid_client."""
    await sql.clients.update_client(replace(registered.client, grant_types=frozenset()))
    response = await post_form(
        http, TOKEN, CLIENT_CREDENTIALS, basic(registered.client_id, "wrong")
    )
    assert_invalid_client(response)


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


async def test_bad_scope_with_bad_credentials_is_invalid_client(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §5.2: the client is authenticated before its request is judged."""
    response = await post_form(
        http,
        TOKEN,
        {"grant_type": "client_credentials", "scope": "admin"},
        basic(registered.client_id, "wrong"),
    )
    assert_invalid_client(response)


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


# --- invalid_client (§2.3.1, §5.2) ----------------------------------------------------


# Each case: (extra body parameters, Authorization value) built from the client's id and
# secret and the other client's secret; None means no Authorization header.
AuthCase = Callable[[str, str, str], tuple[dict[str, str], str | None]]
AUTHENTICATION_FAILURES: dict[str, AuthCase] = {
    "unknown id (basic)": lambda _c, s, _o: ({}, basic("ag_ci_doesnotexist", s)),
    "unknown id (body)": lambda _c, s, _o: (
        {"client_id": "ag_ci_doesnotexist", "client_secret": s},
        None,
    ),
    "wrong secret (basic)": lambda c, s, _o: (
        {},
        basic(c, altered(s)),
    ),
    "wrong secret (body)": lambda c, _s, _o: ({"client_id": c, "client_secret": "ag_cs_x"}, None),
    "other client's secret": lambda c, _s, o: ({}, basic(c, o)),
    "empty body secret": lambda c, _s, _o: ({"client_id": c, "client_secret": ""}, None),
    "body id without secret": lambda c, _s, _o: ({"client_id": c}, None),
    "body secret without id": lambda _c, s, _o: ({"client_secret": s}, None),
    "no credentials": lambda _c, _s, _o: ({}, None),
    "Basic without value": lambda _c, _s, _o: ({}, "Basic"),
    "Basic with blank value": lambda _c, _s, _o: ({}, "Basic    "),
    "Basic not base64": lambda _c, _s, _o: ({}, "Basic !!!not-base64!!!"),
    "Basic without colon": lambda c, _s, _o: ({}, basic_raw(c.encode())),
    "Basic empty id": lambda _c, s, _o: ({}, basic_raw(f":{s}".encode())),
    "Basic empty secret": lambda c, _s, _o: ({}, basic_raw(f"{c}:".encode())),
    "Basic not UTF-8": lambda _c, s, _o: ({}, basic_raw(b"\xff\xfe:" + s.encode())),
    "Basic bad percent escape": lambda c, s, _o: ({}, basic_raw(f"{c}%FF:{s}".encode())),
    "Bearer scheme": lambda _c, s, _o: ({}, f"Bearer {s}"),
    "Digest scheme": lambda c, _s, _o: ({}, f'Digest username="{c}"'),
    "raw id:secret": lambda c, s, _o: ({}, f"Basic {c}:{s}"),
}


@pytest.mark.parametrize("case", sorted(AUTHENTICATION_FAILURES))
async def test_every_authentication_failure_is_the_same_401(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    sql: OpenedStores,
    case: str,
) -> None:
    """RFC 6749 §5.2 invalid_client: 401 with ``WWW-Authenticate: Basic`` and the seed's
    exact body, identical whatever the cause (DESIGN.md §4.1, §4.7)."""
    extra, authorization = AUTHENTICATION_FAILURES[case](
        registered.client_id, registered.secret, other_client.secret
    )
    response = await post_form(http, TOKEN, {**CLIENT_CREDENTIALS, **extra}, authorization)
    assert_invalid_client(response)
    assert await count_tokens(sql.engine) == 0


@pytest.mark.parametrize("method", ["basic", "body"])
async def test_a_disabled_client_fails_like_an_unknown_one(
    http: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
    method: str,
) -> None:
    """RFC 6749 §5.2 invalid_client: a disabled client's correct secret gets the same
    401; re-enabled, it works again."""
    data = dict(CLIENT_CREDENTIALS)
    authorization = None
    if method == "basic":
        authorization = basic(registered.client_id, registered.secret)
    else:
        data |= {"client_id": registered.client_id, "client_secret": registered.secret}
    disabled = await set_enabled(sql.clients, sql.tokens, clock, registered.client, enabled=False)
    assert_invalid_client(await post_form(http, TOKEN, data, authorization))
    assert await count_tokens(sql.engine) == 0
    await set_enabled(sql.clients, sql.tokens, clock, disabled, enabled=True)
    assert_issued(await post_form(http, TOKEN, data, authorization), "profiles:read", 3600)


async def test_invalid_client_comes_before_scope_and_grant_checks_of_the_client(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §5.2: with no credentials, a request that is otherwise fine is
    invalid_client (401), not an answer about the client's grants or scopes."""
    response = await post_form(http, TOKEN, {"grant_type": "client_credentials", "scope": "x"})
    assert_invalid_client(response)
