"""``AuthorizationServer.introspect`` (RFC 7662) called directly over the memory stores:
the members built from the token's record, the ``jti`` derived from its storage key
without giving it away, who may see what, and the store introspection reads."""

from __future__ import annotations

import re
from dataclasses import replace

from anti_grazer.protocol.introspection import INACTIVE, active_members, may_introspect
from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.protocol.tokens import access_token_digest, token_id
from anti_grazer.store.memory import MemoryStores
from tests.clock import FrozenClock
from tests.doubles import CountingTokenStore
from tests.http_helpers import basic
from tests.protocol.server_helpers import issue, stored
from tests.support import Registered, make_client, make_token


async def test_members_come_from_the_record(
    server: AuthorizationServer, stores: MemoryStores, client: Registered
) -> None:
    """§2.2: every member from the stored record, times as whole seconds since the epoch;
    without an issuer configured, no ``iss``."""
    token = await issue(server, client)
    record = await stored(stores, token)
    answer = await server.introspect({"token": token}, basic(client.client_id, client.secret))
    issued = int(record.issued_at.timestamp())
    assert answer.client_id == client.client_id
    assert answer.members == {
        "active": True,
        "scope": "profiles:read",
        "client_id": client.client_id,
        "token_type": "Bearer",
        "exp": issued + 3600,
        "iat": issued,
        "nbf": issued,
        "sub": client.client_id,
        "jti": token_id(record.digest),
    }
    assert active_members(record, "https://as.example.com")["iss"] == "https://as.example.com"


def test_times_are_whole_seconds_rounded_down() -> None:
    """§2.2: NumericDate (RFC 7519 §2) values; a token issued at .123456 s counts from the
    second it was issued in."""
    record = make_token("t")  # issued at T0, 12:00:00.123456, for 3600 s
    members = active_members(record, None)
    assert members["iat"] == members["nbf"] == int(record.issued_at.timestamp())
    assert members["exp"] == int(record.expires_at.timestamp())
    assert isinstance(members["iat"], int)


def test_the_jti_is_stable_unique_and_hides_the_storage_key() -> None:
    """RFC 7519 §4.1.7: a unique identifier; the same on every call (and instance), and
    no part of the digest the token is stored under (nor of its hash inside)."""
    digests = [access_token_digest(f"ag_at_{n:08d}{'x' * 49}") for n in range(200)]
    ids = [token_id(digest) for digest in digests]
    assert len(set(ids)) == len(ids)
    assert ids == [token_id(digest) for digest in digests]
    for digest, identifier in zip(digests, ids, strict=True):
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", identifier)
        assert digest[8:20] not in identifier
        assert digest[-12:] not in identifier.lower()


def test_a_client_sees_its_own_tokens_a_resource_server_every_token() -> None:
    """§2.1, §4: who may learn about a token."""
    record = make_token("t", "client-a")
    owner, stranger = make_client("client-a"), make_client("client-b")
    resource_server = replace(make_client("client-c"), can_introspect=True)
    assert may_introspect(owner, record)
    assert not may_introspect(stranger, record)
    assert may_introspect(resource_server, record)


async def test_introspection_reads_its_own_store(
    stores: MemoryStores, clock: FrozenClock, client: Registered
) -> None:
    """Given ``introspected_tokens`` (a served app's store behind its cache),
    introspection reads it, never the cached ``tokens``: each request one look-up there,
    so a revocation made by any process shows at once."""
    cached = CountingTokenStore(stores.tokens)
    uncached = CountingTokenStore(stores.tokens)
    server = AuthorizationServer(stores.clients, cached, clock, introspected_tokens=uncached)
    token = await issue(server, client)
    authorization = basic(client.client_id, client.secret)
    for _ in range(3):
        assert (await server.introspect({"token": token}, authorization)).members["active"]
    await stores.tokens.revoke_token(access_token_digest(token), None, clock.now())
    assert (await server.introspect({"token": token}, authorization)).members == INACTIVE
    assert (cached.lookups, uncached.lookups) == (0, 4)


async def test_a_malformed_token_costs_no_lookup(
    stores: MemoryStores, clock: FrozenClock, client: Registered
) -> None:
    """A token that fails its checksum is inactive without a storage lookup."""
    counting = CountingTokenStore(stores.tokens)
    server = AuthorizationServer(stores.clients, stores.tokens, clock, introspected_tokens=counting)
    authorization = basic(client.client_id, client.secret)
    answer = await server.introspect({"token": "ag_at_" + "0" * 57}, authorization)
    assert answer.members == INACTIVE
    assert counting.lookups == 0
