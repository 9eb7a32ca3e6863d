"""The introspection endpoint through HTTP: RFC 7662 §2.1 request (the caller
authenticates as at the token endpoint), §2.2 response (exact members; an inactive or
invisible token is exactly ``{"active": false}``), §2.3 errors, §4 (no information about
another client's token)."""

from __future__ import annotations

import httpx
import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.tokens import access_token_digest, generate_access_token, token_id
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    FORM,
    INTROSPECT,
    REVOKE,
    assert_active,
    assert_inactive,
    assert_invalid_client,
    assert_oauth_error,
    assert_revoked_ok,
    basic,
    bearer,
    post_form,
)
from tests.support import Registered, altered, issue, register

# The issuer of an app whose settings name none: the listen address (tests/test_issuer.py).
ISSUER = "http://127.0.0.1:8000"


def auth_of(client: Registered) -> str:
    return basic(client.client_id, client.secret)


async def introspect(
    http: httpx.AsyncClient, caller: Registered, token: str, **params: str
) -> httpx.Response:
    """``caller`` asks about ``token`` (HTTP Basic)."""
    return await post_form(http, INTROSPECT, {"token": token, **params}, auth_of(caller))


def members_of(
    token: str, owner: Registered, clock: FrozenClock, scope: str | None
) -> dict[str, object]:
    """RFC 7662 §2.2 members of ``token``, issued to ``owner`` now for 3600 s."""
    issued = int(clock.now().timestamp())
    members: dict[str, object] = {"active": True}
    if scope is not None:
        members["scope"] = scope
    return members | {
        "client_id": owner.client_id,
        "token_type": "Bearer",
        "exp": issued + 3600,
        "iat": issued,
        "nbf": issued,
        "sub": owner.client_id,
        "iss": ISSUER,
        "jti": token_id(access_token_digest(token)),
    }


@pytest.fixture
async def resource_server(sql: OpenedStores, clock: FrozenClock) -> Registered:
    """A client registered with ``--introspect``: it may introspect any token."""
    return await register(sql.clients, clock, "", "", name="resource server", can_introspect=True)


# --- §2.1 request, §2.2 response: one's own tokens ---------------------------------------


async def test_a_client_introspects_its_own_token(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock
) -> None:
    """§2.1 with client_secret_basic; §2.2: active, and exactly the members of the token,
    in the order they are documented."""
    token = await issue(http, registered, "reports:write profiles:read")
    response = await introspect(http, registered, token)
    members = assert_active(response)
    expected = members_of(token, registered, clock, "profiles:read reports:write")
    assert members == expected
    assert list(members) == list(expected)


async def test_body_credentials_work_as_at_the_token_endpoint(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock
) -> None:
    """§2.1: "The method of authentication ... is beyond the scope" of RFC 7662; here it is
    the token endpoint's, client_secret_post included (RFC 6749 §2.3.1)."""
    token = await issue(http, registered)
    credentials = {"client_id": registered.client_id, "client_secret": registered.secret}
    response = await post_form(http, INTROSPECT, {"token": token, **credentials})
    assert assert_active(response) == members_of(token, registered, clock, "profiles:read")


async def test_a_token_without_scope_has_no_scope_member(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """§2.2 ``scope`` is OPTIONAL, and RFC 6749 §3.3 has no empty scope: a token issued
    without scope is described without the member, as its token response was."""
    unscoped = await register(sql.clients, clock, "", "", name="unscoped")
    token = await issue(http, unscoped)
    members = assert_active(await introspect(http, unscoped, token))
    assert members == members_of(token, unscoped, clock, None)
    assert "scope" not in members


@pytest.mark.parametrize("hint", ["access_token", "refresh_token", "id_token", "x" * 100])
async def test_the_token_type_hint_is_only_a_hint(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock, hint: str
) -> None:
    """§2.1: a wrong hint still finds the token ("MUST extend its search"); an unknown
    hint is ignored (the server MAY), not refused."""
    token = await issue(http, registered)
    response = await introspect(http, registered, token, token_type_hint=hint)
    assert assert_active(response) == members_of(token, registered, clock, "profiles:read")


# --- §2.2 inactive: exactly {"active": false} --------------------------------------------


async def test_unknown_and_malformed_tokens_are_inactive(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock
) -> None:
    """§2.2: a token the server does not know, or that is not one of its tokens at all."""
    token = await issue(http, registered)
    for candidate in (
        generate_access_token(clock.now()),  # well formed, never issued
        altered(token),  # a checksum that fails
        token[:-1],
        "not-a-token",
        "ag_at_",
        "\u2028" * 3,
    ):
        assert_inactive(await introspect(http, registered, candidate))


async def test_an_expired_token_is_inactive(
    http: httpx.AsyncClient, registered: Registered, clock: FrozenClock
) -> None:
    """§2.2: active until its ``exp``, inactive from then on (§4: expiry is checked)."""
    token = await issue(http, registered)
    clock.advance(3599.999)
    assert_active(await introspect(http, registered, token))
    clock.advance(0.001)
    assert_inactive(await introspect(http, registered, token))


async def test_a_revoked_token_is_inactive_at_the_next_request(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """§4 "MUST perform all applicable checks against a token's state": revoked (RFC 7009)
    means inactive at once."""
    token = await issue(http, registered)
    assert_active(await introspect(http, registered, token))
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth_of(registered)))
    assert_inactive(await introspect(http, registered, token))


async def test_tokens_of_a_disabled_client_are_inactive(
    http: httpx.AsyncClient,
    registered: Registered,
    resource_server: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """Disabling a client revokes its tokens: a resource server sees them inactive."""
    token = await issue(http, registered)
    assert_active(await introspect(http, resource_server, token))
    await set_enabled(sql.clients, sql.tokens, clock, registered.client, False)
    assert_inactive(await introspect(http, resource_server, token))


# --- §4: visibility -----------------------------------------------------------------------


async def test_another_clients_token_is_inactive_to_it_and_stays_valid(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    resource_server: Registered,
    clock: FrozenClock,
) -> None:
    """§2.2 ("a token the protected resource is not allowed to know about" is inactive) and
    §4 (no token scanning): the other client learns exactly what an unknown token tells,
    and the token stays valid for its owner."""
    token = await issue(http, registered)
    unknown = await introspect(http, other_client, generate_access_token(clock.now()))
    foreign = await introspect(http, other_client, token)
    assert_inactive(foreign)
    assert foreign.content == unknown.content
    assert foreign.headers == unknown.headers
    assert_active(await introspect(http, registered, token))
    assert_active(await introspect(http, resource_server, token))


async def test_a_resource_server_introspects_any_token(
    http: httpx.AsyncClient,
    registered: Registered,
    other_client: Registered,
    resource_server: Registered,
    clock: FrozenClock,
) -> None:
    """A client registered with ``--introspect`` learns about every client's tokens, with
    the same members their owners see; inactive ones stay inactive to it."""
    first = await issue(http, registered, "reports:write")
    second = await issue(http, other_client)
    assert assert_active(await introspect(http, resource_server, first)) == members_of(
        first, registered, clock, "reports:write"
    )
    assert assert_active(await introspect(http, resource_server, second)) == members_of(
        second, other_client, clock, "profiles:read"
    )
    assert_inactive(await introspect(http, resource_server, generate_access_token(clock.now())))


# --- §2.1 authentication, §2.3 errors ------------------------------------------------------


async def test_a_request_without_credentials_is_refused(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """§2.1 "the endpoint MUST also require some form of authorization" (against token
    scanning); §2.3: invalid credentials are RFC 6749 §5.2's 401, the seed's exact body
    with the Basic challenge."""
    token = await issue(http, registered)
    assert_invalid_client(await post_form(http, INTROSPECT, {"token": token}))


@pytest.mark.parametrize("who", ["wrong secret", "unknown client", "bearer token", "secret only"])
async def test_bad_credentials_are_invalid_client(
    http: httpx.AsyncClient, registered: Registered, who: str
) -> None:
    """§2.3: 401 invalid_client, whatever the caller got wrong; a bearer token is not a
    credential here (the caller authenticates as a client)."""
    token = await issue(http, registered)
    params: dict[str, str] = {"token": token}
    authorization: str | None = None
    if who == "wrong secret":
        authorization = basic(registered.client_id, altered(registered.secret))
    elif who == "unknown client":
        authorization = basic("ag_ci_0000000000000000000000", registered.secret)
    elif who == "bearer token":
        authorization = bearer(token)["Authorization"]
    else:
        params["client_secret"] = registered.secret
    assert_invalid_client(await post_form(http, INTROSPECT, params, authorization))


async def test_a_disabled_resource_server_may_not_introspect(
    http: httpx.AsyncClient,
    registered: Registered,
    resource_server: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    token = await issue(http, registered)
    await set_enabled(sql.clients, sql.tokens, clock, resource_server.client, False)
    assert_invalid_client(await introspect(http, resource_server, token))


@pytest.mark.parametrize("params", [{}, {"token": ""}, {"token_type_hint": "access_token"}])
async def test_a_request_without_a_token_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered, params: dict[str, str]
) -> None:
    """§2.1 ``token`` is REQUIRED; §2.3: a malformed request is RFC 6749 §5.2's 400
    invalid_request (an empty value counts as omitted, RFC 6749 §3.2)."""
    response = await post_form(http, INTROSPECT, params, auth_of(registered))
    assert_oauth_error(response, 400, "invalid_request", "The token parameter is missing")


async def test_parameters_travel_in_the_body_only(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """§2.1: the request is a POST with a form body; a token in the URL is refused (it
    would be logged by every proxy on the way)."""
    token = await issue(http, registered)
    response = await http.post(
        f"{INTROSPECT}?token={token}",
        content=b"",
        headers={"Content-Type": FORM, "Authorization": auth_of(registered)},
    )
    assert_oauth_error(
        response,
        400,
        "invalid_request",
        "Parameters must be sent in the request body, not the URL",
    )


async def test_a_repeated_token_is_invalid_request(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §3.2 (the form rules every OAuth endpoint shares): no repeated parameter."""
    token = await issue(http, registered)
    response = await http.post(
        INTROSPECT,
        content=f"token={token}&token={token}".encode(),
        headers={"Content-Type": FORM, "Authorization": auth_of(registered)},
    )
    assert_oauth_error(response, 400, "invalid_request", "A parameter is included more than once")
