"""The authorization server's token endpoint rules (protocol/server.py
``AuthorizationServer.token``), called directly over the memory stores — no HTTP: the
client_credentials grant (RFC 6749 §4.4), client authentication (§2.3.1), scope (§3.3),
the token's lifetime and response (§5.1), the stored record, and the errors of §5.2."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import timedelta

import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.errors import (
    InvalidClientError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.server import AuthorizationServer, TokenPolicy
from anti_grazer.protocol.tokens import access_token_digest, is_well_formed_access_token
from anti_grazer.store.memory import MemoryStores
from tests.clock import FrozenClock
from tests.doubles import RecordingTokenStore
from tests.http_helpers import CLIENT_CREDENTIALS, basic
from tests.protocol.server_helpers import body_credentials, issue, stored
from tests.support import Registered, altered, register

# --- grant type (§4.4.2, §5.2) -----------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"scope": "profiles:read"}])
async def test_a_missing_grant_type_is_invalid_request_before_authentication(
    server: AuthorizationServer, params: Mapping[str, str]
) -> None:
    """RFC 6749 §4.4.2: grant_type is REQUIRED; §5.2 invalid_request.  It is checked
    before the client authenticates, so the error names no client."""
    with pytest.raises(InvalidRequestError) as raised:
        await server.token(params, None)
    assert raised.value.description == "The grant_type parameter is missing"
    assert raised.value.client_id is None


@pytest.mark.parametrize(
    "grant_type",
    ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS", "implicit"],
)
async def test_an_unknown_grant_type_is_unsupported_grant_type(
    server: AuthorizationServer,
    tokens: RecordingTokenStore,
    client: Registered,
    grant_type: str,
) -> None:
    """RFC 6749 §5.2 unsupported_grant_type (values are case-sensitive), even with valid
    credentials; no token is stored."""
    with pytest.raises(UnsupportedGrantTypeError) as raised:
        await server.token({"grant_type": grant_type}, basic(client.client_id, client.secret))
    assert (raised.value.code, raised.value.status) == ("unsupported_grant_type", 400)
    assert raised.value.client_id is None
    assert tokens.added == []


# --- client authentication (§2.3.1, §5.2) ------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    ["unknown id (basic)", "wrong secret (basic)", "unknown id (body)", "wrong secret (body)"],
)
async def test_an_unknown_id_and_a_wrong_secret_are_the_same_invalid_client(
    server: AuthorizationServer,
    tokens: RecordingTokenStore,
    client: Registered,
    credentials: str,
) -> None:
    """RFC 6749 §5.2 invalid_client (401), alike for an unknown id and a wrong secret
    (DESIGN.md §4.1); the client never authenticated, so the error names none."""
    unknown, wrong = "ag_ci_doesnotexist", altered(client.secret)
    params, authorization = {
        "unknown id (basic)": (CLIENT_CREDENTIALS, basic(unknown, client.secret)),
        "wrong secret (basic)": (CLIENT_CREDENTIALS, basic(client.client_id, wrong)),
        "unknown id (body)": (
            {**CLIENT_CREDENTIALS, "client_id": unknown, "client_secret": client.secret},
            None,
        ),
        "wrong secret (body)": (
            {**CLIENT_CREDENTIALS, "client_id": client.client_id, "client_secret": wrong},
            None,
        ),
    }[credentials]
    with pytest.raises(InvalidClientError) as raised:
        await server.token(params, authorization)
    assert (raised.value.status, raised.value.description) == (401, "Client authentication failed")
    assert raised.value.client_id is None
    assert tokens.added == []


async def test_no_credentials_are_invalid_client(server: AuthorizationServer) -> None:
    """RFC 6749 §5.2: a request with no client authentication is invalid_client."""
    with pytest.raises(InvalidClientError) as raised:
        await server.token(CLIENT_CREDENTIALS, None)
    assert raised.value.client_id is None


async def test_two_authentication_methods_are_invalid_request(
    server: AuthorizationServer, client: Registered
) -> None:
    """RFC 6749 §2.3: the client MUST NOT use more than one authentication method."""
    with pytest.raises(InvalidRequestError) as raised:
        await server.token(body_credentials(client), basic(client.client_id, client.secret))
    assert raised.value.description == "The client used more than one authentication method"
    assert raised.value.client_id is None


async def test_a_disabled_client_is_invalid_client(
    server: AuthorizationServer, stores: MemoryStores, clock: FrozenClock, client: Registered
) -> None:
    """RFC 6749 §5.2: a disabled client's right secret fails like a wrong one."""
    await set_enabled(stores.clients, stores.tokens, clock, client.client, enabled=False)
    with pytest.raises(InvalidClientError) as raised:
        await server.token(body_credentials(client), None)
    assert raised.value.client_id is None


# --- unauthorized_client (§5.2) ----------------------------------------------------------


async def test_a_client_not_allowed_the_grant_is_unauthorized_client(
    server: AuthorizationServer,
    stores: MemoryStores,
    tokens: RecordingTokenStore,
    client: Registered,
) -> None:
    """RFC 6749 §5.2 unauthorized_client: the authenticated client may not use this grant
    type; the error names it, and no token is stored."""
    await stores.clients.update_client(replace(client.client, grant_types=frozenset()))
    with pytest.raises(UnauthorizedClientError) as raised:
        await server.token(body_credentials(client), None)
    assert raised.value.description == "The client is not allowed to use this grant type"
    assert raised.value.client_id == client.client_id
    assert tokens.added == []


# --- scope (§3.3) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("default", "requested", "granted"),
    [
        ("profiles:read", None, "profiles:read"),
        ("", None, "profiles:read reports:write"),
        ("profiles:read", "reports:write", "reports:write"),
        ("", "profiles:read", "profiles:read"),
        ("profiles:read", "reports:write profiles:read", "profiles:read reports:write"),
    ],
)
async def test_the_granted_scope(
    server: AuthorizationServer,
    stores: MemoryStores,
    clock: FrozenClock,
    default: str,
    requested: str | None,
    granted: str,
) -> None:
    """RFC 6749 §3.3: an omitted scope gets the client's default — its default scopes, or
    every allowed scope when it has none (DESIGN.md §4.5); a requested scope within the
    allowed set is granted as asked; the response states it (§5.1), sorted."""
    who = await register(stores.clients, clock, default_scope=default)
    params = body_credentials(who) if requested is None else body_credentials(who, scope=requested)
    response = await server.token(params, None)
    assert response.scope == granted
    assert (await stored(stores, response.access_token)).scopes == frozenset(granted.split())


@pytest.mark.parametrize("requested", ["admin", "profiles:read admin", "profiles:write"])
async def test_a_scope_outside_the_allowed_set_is_invalid_scope_naming_nothing_secret(
    server: AuthorizationServer,
    tokens: RecordingTokenStore,
    client: Registered,
    requested: str,
) -> None:
    """RFC 6749 §3.3, §5.2 invalid_scope: the fixed description echoes neither the
    requested scope nor any credential; the authenticated client is named on the error
    (for the log), and no token is stored."""
    with pytest.raises(InvalidScopeError) as raised:
        await server.token(body_credentials(client, scope=requested), None)
    error = raised.value
    assert error.body() == {
        "error": "invalid_scope",
        "error_description": "The requested scope is invalid or not allowed for this client",
    }
    for secret_or_echo in ("admin", "profiles:write", client.secret, client.client_id):
        assert secret_or_echo not in str(error)
        assert secret_or_echo not in error.description
    assert error.client_id == client.client_id
    assert tokens.added == []


async def test_a_malformed_scope_is_invalid_scope(
    server: AuthorizationServer, client: Registered
) -> None:
    """RFC 6749 §3.3: scope = scope-token *( SP scope-token ); anything else is
    invalid_scope."""
    with pytest.raises(InvalidScopeError) as raised:
        await server.token(body_credentials(client, scope="profiles:read  reports:write"), None)
    assert raised.value.description == "The scope parameter is malformed"
    assert raised.value.client_id == client.client_id


async def test_a_client_without_scope_gets_a_token_without_scope(
    server: AuthorizationServer, stores: MemoryStores, clock: FrozenClock
) -> None:
    """RFC 6749 §3.3, §5.1: a client allowed no scope gets a token with none, and the
    response's ``scope`` is None (the §3.3 grammar has no empty scope)."""
    bare = await register(stores.clients, clock, scope="", default_scope="")
    response = await server.token(body_credentials(bare), None)
    assert response.scope is None
    assert (await stored(stores, response.access_token)).scopes == frozenset()


# --- lifetime (§4.4.3, §5.1 expires_in) --------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "client_ttl", "expected"),
    [
        (TokenPolicy(), None, 3600),
        (TokenPolicy(), 600, 600),
        (TokenPolicy(), 86400, 86400),
        (TokenPolicy(), 100_000, 86400),
        (TokenPolicy(900, 1800), None, 900),
        (TokenPolicy(900, 1800), 1200, 1200),
        (TokenPolicy(900, 1800), 7200, 1800),
        (TokenPolicy(7200, 1800), None, 1800),
    ],
)
async def test_the_lifetime_is_the_clients_else_the_default_capped_by_the_maximum(
    stores: MemoryStores,
    clock: FrozenClock,
    policy: TokenPolicy,
    client_ttl: int | None,
    expected: int,
) -> None:
    """RFC 6749 §5.1 expires_in (DESIGN.md §4.4): the client's own TTL when set, else the
    policy's default, never above the policy's maximum; the stored expiry agrees."""
    who = await register(stores.clients, clock, ttl=client_ttl)
    server = AuthorizationServer(stores.clients, stores.tokens, clock, policy)
    response = await server.token(body_credentials(who), None)
    assert response.expires_in == expected
    assert policy.ttl_for(who.client) == expected
    record = await stored(stores, response.access_token)
    assert record.expires_at == clock.now() + timedelta(seconds=expected)


# --- the response and the record (§4.4.3, §5.1; DESIGN.md §4.2, §4.3) ---------------------


async def test_the_token_response(
    server: AuthorizationServer, client: Registered, clock: FrozenClock
) -> None:
    """RFC 6749 §5.1: a Bearer access token with its lifetime and scope, issued to the
    client and the secret it used (for the access log); every request gets a new token
    (§4.4.3)."""
    response = await server.token(CLIENT_CREDENTIALS, basic(client.client_id, client.secret))
    token = response.access_token
    assert asdict(response) == {
        "client_id": client.client_id,
        "access_token": token,
        "expires_in": 3600,
        "scope": "profiles:read",
        "token_type": "Bearer",
        "secret_id": client.client.secrets[0].secret_id,
        "usage": None,
    }
    assert is_well_formed_access_token(token)
    assert (await issue(server, client)) != token


async def test_the_stored_record_holds_the_digest_never_the_token(
    server: AuthorizationServer,
    stores: MemoryStores,
    tokens: RecordingTokenStore,
    client: Registered,
    clock: FrozenClock,
) -> None:
    """DESIGN.md §4.2, §4.3 (RFC 6749 §10.3, RFC 6819 §5.1.4.1.3): the store keeps the
    token's digest with its client, scope, issue and expiry times, and not the token."""
    token = await issue(server, client)
    record = await stored(stores, token)
    assert record == TokenRecord(
        digest=access_token_digest(token),
        client_id=client.client_id,
        scopes=frozenset({"profiles:read"}),
        issued_at=clock.now(),
        expires_at=clock.now() + timedelta(seconds=3600),
        revoked_at=None,
    )
    assert record.digest != token
    assert token not in repr(record)
    assert tokens.added == [record]
