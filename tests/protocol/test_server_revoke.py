"""The authorization server's revocation rules (protocol/server.py
``AuthorizationServer.revoke``), called directly over the memory stores — no HTTP:
RFC 7009 §2.1 request and client authentication, §2.2 response, §2.2.1 errors."""

from __future__ import annotations

import pytest

from anti_grazer.protocol.errors import (
    InvalidClientError,
    InvalidRequestError,
    UnauthorizedClientError,
    UnsupportedTokenTypeError,
)
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.protocol.tokens import generate_access_token
from anti_grazer.store.memory import MemoryStores
from tests.clock import FrozenClock
from tests.http_helpers import basic
from tests.protocol.server_helpers import issue, revoke, stored
from tests.support import Registered, altered


async def test_a_client_revokes_its_own_token(
    server: AuthorizationServer, stores: MemoryStores, client: Registered, clock: FrozenClock
) -> None:
    """RFC 7009 §2.1, §2.2: the authenticated client's token is revoked at once; the
    call returns the client's id (for the access log)."""
    token = await issue(server, client)
    clock.advance(10)
    assert await revoke(server, client, token=token) == client.client_id
    record = await stored(stores, token)
    assert record.revoked_at == clock.now()
    assert not record.is_active(clock.now())


async def test_another_clients_token_is_unauthorized_client_and_untouched(
    server: AuthorizationServer, stores: MemoryStores, client: Registered, other: Registered
) -> None:
    """RFC 7009 §2.1: the server verifies the token was issued to the requesting client;
    another client's request is refused, naming the requester, and the token stays as
    it was."""
    token = await issue(server, client)
    before = await stored(stores, token)
    with pytest.raises(UnauthorizedClientError) as raised:
        await revoke(server, other, token=token)
    assert raised.value.description == "The token was not issued to this client"
    assert raised.value.client_id == other.client_id
    assert await stored(stores, token) == before


@pytest.mark.parametrize("case", ["unknown", "malformed", "bad checksum", "expired", "revoked"])
async def test_tokens_needing_no_work_are_revoked_successfully(
    server: AuthorizationServer,
    stores: MemoryStores,
    client: Registered,
    clock: FrozenClock,
    case: str,
) -> None:
    """RFC 7009 §2.2: an invalid token — unknown, malformed, expired or already revoked —
    is no error (the purpose of revocation is met); a revoked one keeps its first
    revocation time."""
    token = await issue(server, client)
    first_revocation = clock.now()
    presented = {
        "unknown": generate_access_token(clock.now()),
        "malformed": "not-a-token",
        "bad checksum": altered(token),
        "expired": token,
        "revoked": token,
    }[case]
    if case == "expired":
        clock.advance(3601)
    if case == "revoked":
        await revoke(server, client, token=token)
        clock.advance(60)
    assert await revoke(server, client, token=presented) == client.client_id
    record = await stored(stores, token)
    if case == "revoked":
        assert record.revoked_at == first_revocation
    elif case != "expired":
        assert record.revoked_at is None


@pytest.mark.parametrize("hint", ["access_token", "refresh_token"])
async def test_a_known_hint_right_or_wrong_still_revokes(
    server: AuthorizationServer,
    stores: MemoryStores,
    client: Registered,
    clock: FrozenClock,
    hint: str,
) -> None:
    """RFC 7009 §2.1: token_type_hint is a hint; when wrong (refresh_token for an access
    token) the server MUST extend its search and revoke the token."""
    token = await issue(server, client)
    await revoke(server, client, token=token, token_type_hint=hint)
    assert (await stored(stores, token)).revoked_at == clock.now()


@pytest.mark.parametrize("hint", ["id_token", "ACCESS_TOKEN", "urn:x:unknown"])
async def test_an_unknown_hint_is_unsupported_token_type(
    server: AuthorizationServer, stores: MemoryStores, client: Registered, hint: str
) -> None:
    """RFC 7009 §2.2.1 unsupported_token_type; the token is left alone and the error
    names the authenticated client."""
    token = await issue(server, client)
    with pytest.raises(UnsupportedTokenTypeError) as raised:
        await revoke(server, client, token=token, token_type_hint=hint)
    assert (raised.value.code, raised.value.status) == ("unsupported_token_type", 400)
    assert raised.value.client_id == client.client_id
    assert (await stored(stores, token)).revoked_at is None


async def test_a_missing_token_is_invalid_request(
    server: AuthorizationServer, client: Registered
) -> None:
    """RFC 7009 §2.1: ``token`` is REQUIRED; the authenticated client is named."""
    with pytest.raises(InvalidRequestError) as raised:
        await revoke(server, client)
    assert raised.value.description == "The token parameter is missing"
    assert raised.value.client_id == client.client_id


@pytest.mark.parametrize("authorization", ["wrong secret", "none"])
async def test_revocation_requires_client_authentication(
    server: AuthorizationServer, stores: MemoryStores, client: Registered, authorization: str
) -> None:
    """RFC 7009 §2.1: the client authenticates as at the token endpoint; a failure is
    invalid_client naming no client, before the token parameter is even read, and the
    token stays valid."""
    token = await issue(server, client)
    header = basic(client.client_id, altered(client.secret)) if authorization != "none" else None
    for params in ({"token": token}, {}):
        with pytest.raises(InvalidClientError) as raised:
            await server.revoke(params, header)
        assert raised.value.client_id is None
    assert (await stored(stores, token)).revoked_at is None
