"""The revocation endpoint through HTTP: RFC 7009 §2.1 request, §2.2 response, §2.2.1
errors, with RFC 6749 §2.3.1 client authentication as at the token endpoint."""

from __future__ import annotations

import httpx
import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.tokens import access_token_digest, generate_access_token
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    REVOKE,
    assert_invalid_client,
    assert_oauth_error,
    assert_revoked_ok,
    basic,
    post_form,
)
from tests.support import Registered, altered, issue


def auth_of(client: Registered) -> str:
    return basic(client.client_id, client.secret)


async def record_of(sql: OpenedStores, token: str) -> TokenRecord:
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    return record


# --- revoking one's own token (§2.1, §2.2) -------------------------------------------


async def test_revoking_with_basic_credentials_marks_the_token_revoked(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.1, §2.2: the authenticated client revokes its token; the answer is 200
    with an empty body, and the token is invalid at once (revoked_at set)."""
    token = await issue(http, registered)
    clock.advance(10)
    response = await post_form(http, REVOKE, {"token": token}, auth_of(registered))
    assert_revoked_ok(response)
    record = await record_of(sql, token)
    assert record.revoked_at == clock.now()
    assert not record.is_active(clock.now())


async def test_revoking_with_body_credentials(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.1 with RFC 6749 §2.3.1 client_secret_post credentials."""
    token = await issue(http, registered)
    response = await post_form(
        http,
        REVOKE,
        {
            "token": token,
            "client_id": registered.client_id,
            "client_secret": registered.secret,
        },
    )
    assert_revoked_ok(response)
    assert (await record_of(sql, token)).revoked_at == clock.now()


@pytest.mark.parametrize("hint", ["access_token", "refresh_token"])
async def test_a_known_hint_right_or_wrong_still_revokes(
    http: httpx.AsyncClient,
    registered: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
    hint: str,
) -> None:
    """RFC 7009 §2.1: token_type_hint is only a hint; when it is wrong (refresh_token for
    an access token) the server MUST extend its search and revoke the token."""
    token = await issue(http, registered)
    response = await post_form(
        http, REVOKE, {"token": token, "token_type_hint": hint}, auth_of(registered)
    )
    assert_revoked_ok(response)
    assert (await record_of(sql, token)).revoked_at == clock.now()


async def test_revoking_one_token_leaves_the_clients_other_tokens_valid(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 7009 §2.1: the request revokes the presented access token only (no refresh
    token or grant exists to cascade to)."""
    revoked, kept = await issue(http, registered), await issue(http, registered)
    assert_revoked_ok(await post_form(http, REVOKE, {"token": revoked}, auth_of(registered)))
    assert (await record_of(sql, revoked)).revoked_at is not None
    assert (await record_of(sql, kept)).revoked_at is None


# --- tokens that need no work still succeed (§2.2) -----------------------------------


async def test_an_unknown_well_formed_token_gets_200(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.2: invalid tokens do not cause an error response (the purpose of
    revocation is already met); nothing is stored."""
    unknown = generate_access_token(clock.now())
    assert_revoked_ok(await post_form(http, REVOKE, {"token": unknown}, auth_of(registered)))
    assert await sql.tokens.get_token(access_token_digest(unknown)) is None


async def test_malformed_tokens_get_200(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 7009 §2.2: malformed tokens, including one with a broken checksum, answer 200,
    and a real token is not touched by a near miss."""
    real = await issue(http, registered)
    flipped = altered(real)
    for token in ("garbage", "ag_at_", "ag_at_short", flipped, real + "x", real.upper(), "é"):
        response = await post_form(http, REVOKE, {"token": token}, auth_of(registered))
        assert_revoked_ok(response)
    assert (await record_of(sql, real)).revoked_at is None


async def test_an_expired_token_gets_200(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.2: an expired token is no error."""
    token = await issue(http, registered)
    clock.advance(3601)
    assert not (await record_of(sql, token)).is_active(clock.now())
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))


async def test_an_already_revoked_token_gets_200_and_keeps_its_first_revocation_time(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.2: revoking again answers 200; the record keeps the first time."""
    token = await issue(http, registered)
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))
    first = clock.now()
    clock.advance(60)
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))
    assert (await record_of(sql, token)).revoked_at == first


async def test_another_clients_token_is_refused_and_stays_valid(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """RFC 7009 §2.1: the server verifies the token was issued to the requesting client;
    if not, the request is refused (unauthorized_client here) and the token stays valid
    — its owner can still revoke it."""
    token = await issue(http, registered)
    response = await post_form(http, REVOKE, {"token": token}, auth_of(other_client))
    assert_oauth_error(
        response, 400, "unauthorized_client", "The token was not issued to this client"
    )
    record = await record_of(sql, token)
    assert record.revoked_at is None
    assert record.is_active(clock.now())
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))
    assert (await record_of(sql, token)).revoked_at == clock.now()


# --- request errors (§2.1, §2.2.1) -----------------------------------------------------


@pytest.mark.parametrize("data", [{}, {"token": ""}, {"token_type_hint": "access_token"}])
async def test_a_missing_token_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, data: dict[str, str]
) -> None:
    """RFC 7009 §2.1: ``token`` is REQUIRED (RFC 6749 §3.2: an empty value is omitted)."""
    response = await post_form(http, REVOKE, data, auth_of(registered))
    assert_oauth_error(response, 400, "invalid_request", "The token parameter is missing")


@pytest.mark.parametrize("hint", ["id_token", "ACCESS_TOKEN", "urn:x:unknown"])
async def test_an_unknown_hint_is_unsupported_token_type(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, hint: str
) -> None:
    """RFC 7009 §2.2.1: unsupported_token_type for a token type the server cannot revoke;
    the token is left alone."""
    token = await issue(http, registered)
    response = await post_form(
        http, REVOKE, {"token": token, "token_type_hint": hint}, auth_of(registered)
    )
    assert_oauth_error(
        response, 400, "unsupported_token_type", "The token type hint is not supported"
    )
    assert (await record_of(sql, token)).revoked_at is None


async def test_a_repeated_token_parameter_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §3.2 (applied by RFC 7009 §2.1): parameters MUST NOT repeat; neither token
    is revoked."""
    first, second = await issue(http, registered), await issue(http, registered)
    response = await http.post(
        REVOKE,
        content=f"token={first}&token={second}".encode(),
        headers={"Content-Type": FORM, "Authorization": auth_of(registered)},
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")
    assert (await record_of(sql, first)).revoked_at is None
    assert (await record_of(sql, second)).revoked_at is None


async def test_a_query_string_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 7009 §2.1 (POST with form body) and RFC 6749 §2.3.1: the token or credentials
    in the URI are refused, and the token is not revoked."""
    token = await issue(http, registered)
    response = await http.post(
        f"{REVOKE}?token={token}",
        content=b"",
        headers={"Content-Type": FORM, "Authorization": auth_of(registered)},
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "Parameters must be sent in the request body, not the URL",
    )
    assert (await record_of(sql, token)).revoked_at is None


async def test_a_json_body_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 7009 §2.1: the request uses application/x-www-form-urlencoded."""
    token = await issue(http, registered)
    response = await http.post(
        REVOKE, json={"token": token}, headers={"Authorization": auth_of(registered)}
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "The request body must be application/x-www-form-urlencoded",
    )
    assert (await record_of(sql, token)).revoked_at is None


async def test_two_authentication_methods_are_invalid_request(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores
) -> None:
    """RFC 6749 §2.3 (applied by RFC 7009 §2.1): one authentication method per request."""
    token = await issue(http, registered)
    response = await post_form(
        http,
        REVOKE,
        {"token": token, "client_id": registered.client_id, "client_secret": registered.secret},
        auth_of(registered),
    )
    assert_oauth_error(
        response, 400, "invalid_request", "The client used more than one authentication method"
    )
    assert (await record_of(sql, token)).revoked_at is None


# --- client authentication (§2.1) ------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    ["none", "wrong secret", "unknown id", "malformed Basic", "body id only", "other scheme"],
)
async def test_revocation_requires_client_authentication(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, case: str
) -> None:
    """RFC 7009 §2.1: the client authenticates as at the token endpoint; the seed's
    token-only request gets the 401 invalid_client, and the token stays valid."""
    token = await issue(http, registered)
    data = {"token": token}
    authorization: str | None = None
    match case:
        case "none":
            pass
        case "wrong secret":
            authorization = basic(registered.client_id, "ag_cs_wrong")
        case "unknown id":
            authorization = basic("ag_ci_unknown", registered.secret)
        case "malformed Basic":
            authorization = "Basic %%%"
        case "body id only":
            data["client_id"] = registered.client_id
        case "other scheme":
            authorization = f"Bearer {token}"
        case _:  # pragma: no cover
            raise AssertionError(case)
    assert_invalid_client(await post_form(http, REVOKE, data, authorization))
    assert (await record_of(sql, token)).revoked_at is None


async def test_authentication_is_checked_before_the_token_parameter(
    http: httpx.AsyncClient,
) -> None:
    """RFC 7009 §2.1: an unauthenticated request learns nothing, not even that its token
    parameter is missing."""
    assert_invalid_client(await post_form(http, REVOKE, {}))


async def test_a_disabled_client_cannot_revoke(
    http: httpx.AsyncClient, registered: Registered, sql: OpenedStores, clock: FrozenClock
) -> None:
    """RFC 7009 §2.1 with RFC 6749 §5.2: a disabled client fails authentication (its
    tokens were revoked by the disabling itself, at that instant)."""
    token = await issue(http, registered)
    clock.advance(5)
    await set_enabled(sql.clients, sql.tokens, clock, registered.client, enabled=False)
    disabled_at = clock.now()
    clock.advance(5)
    assert_invalid_client(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))
    assert (await record_of(sql, token)).revoked_at == disabled_at
