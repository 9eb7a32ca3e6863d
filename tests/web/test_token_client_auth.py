"""Client authentication at the token endpoint through HTTP: HTTP Basic and body
credentials (RFC 6749 §2.3.1, with Appendix B's form-urlencoding), one method per request
(§2.3), and the one ``invalid_client`` 401 every failure gets (§5.2), before any other
judgement of the request."""

from __future__ import annotations

from base64 import b64decode
from collections.abc import Callable
from dataclasses import replace

import httpx
import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.models import Client
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    CLIENT_CREDENTIALS,
    TOKEN,
    assert_invalid_client,
    assert_issued,
    assert_oauth_error,
    basic,
    basic_raw,
    post_form,
)
from tests.support import Registered, altered, count_tokens, make_client


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


# --- Basic and body credentials (§2.3.1) -------------------------------------------------


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


async def test_basic_scheme_name_is_case_insensitive(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §2.3.1 (RFC 7617 §2, RFC 7235 §2.1): the auth-scheme is case-insensitive."""
    value = basic(registered.client_id, registered.secret).removeprefix("Basic ")
    for scheme in ("BASIC", "basic", "bAsIc"):
        response = await post_form(http, TOKEN, CLIENT_CREDENTIALS, f"{scheme} {value}")
        assert_issued(response, "profiles:read", 3600)


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


# --- one authentication method (§2.3, §2.3.1) ------------------------------------------


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


# --- authentication comes first (§5.2) --------------------------------------------------


async def test_invalid_client_comes_before_scope_and_grant_checks_of_the_client(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §5.2: with no credentials, a request that is otherwise fine is
    invalid_client (401), not an answer about the client's grants or scopes."""
    response = await post_form(http, TOKEN, {"grant_type": "client_credentials", "scope": "x"})
    assert_invalid_client(response)


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
