"""The storage contract (DESIGN.md §4.10): every backend of the ``ClientStore`` and
``TokenStore`` ports behaves alike — memory, SQLite, and PostgreSQL when
``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.errors import DuplicateClientError, UnknownClientError
from tests.support import (
    T0,
    StorePair,
    at,
    digest_of,
    make_client,
    make_token,
)

# -- clients ----------------------------------------------------------------------------


async def test_unknown_client_is_none(stores: StorePair) -> None:
    assert await stores.clients.get_client("nobody") is None
    assert await stores.clients.list_clients() == []


async def test_added_client_reads_back_equal(stores: StorePair) -> None:
    """Every field survives the round trip, microseconds and time zone included."""
    client = make_client(ttl=120)
    bare = make_client("client-b", allowed="", default="")
    resource_server = replace(make_client("client-c"), can_introspect=True)
    jwt = replace(make_client("client-d"), token_format="jwt")
    await stores.clients.add_client(client)
    await stores.clients.add_client(bare)
    await stores.clients.add_client(resource_server)
    await stores.clients.add_client(jwt)
    assert await stores.clients.get_client("client-a") == client
    assert await stores.clients.get_client("client-b") == bare
    assert await stores.clients.get_client("client-c") == resource_server
    assert await stores.clients.get_client("client-d") == jwt
    assert not client.can_introspect
    found = await stores.clients.get_client("client-a")
    assert found is not None
    assert found.created_at.tzinfo is not None
    assert found.created_at.utcoffset() == timedelta(0)
    assert bare.allowed_scopes == frozenset()


async def test_duplicate_client_is_refused_and_the_first_kept(stores: StorePair) -> None:
    first = make_client()
    await stores.clients.add_client(first)
    with pytest.raises(DuplicateClientError):
        await stores.clients.add_client(replace(first, name="impostor"))
    assert await stores.clients.get_client("client-a") == first
    assert await stores.clients.list_clients() == [first]


async def test_update_replaces_every_field_but_the_creation_time(stores: StorePair) -> None:
    client = make_client()
    await stores.clients.add_client(client)
    changed = replace(
        client,
        name="renamed",
        allowed_scopes=frozenset({"reports:read"}),
        default_scopes=frozenset(),
        token_ttl_seconds=60,
        enabled=False,
        created_at=at(999),
        updated_at=at(10),
        can_introspect=True,
    )
    await stores.clients.update_client(changed)
    assert await stores.clients.get_client("client-a") == replace(changed, created_at=T0)


async def test_update_of_unknown_client_raises_and_adds_nothing(stores: StorePair) -> None:
    with pytest.raises(UnknownClientError):
        await stores.clients.update_client(make_client("ghost"))
    assert await stores.clients.get_client("ghost") is None
    assert await stores.clients.list_clients() == []


async def test_delete_client(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    await stores.clients.add_client(make_client("client-b"))
    assert await stores.clients.delete_client("client-a") is True
    assert await stores.clients.get_client("client-a") is None
    assert await stores.clients.delete_client("client-a") is False
    assert await stores.clients.delete_client("never-was") is False
    assert [c.client_id for c in await stores.clients.list_clients()] == ["client-b"]


async def test_update_changes_the_token_format(stores: StorePair) -> None:
    client = make_client()
    await stores.clients.add_client(client)
    await stores.clients.update_client(replace(client, token_format="jwt"))
    assert await stores.clients.get_client("client-a") == replace(client, token_format="jwt")


async def test_list_orders_by_creation_then_id(stores: StorePair) -> None:
    late = make_client("client-a", created_at=at(20))
    early = make_client("client-z", created_at=at(-5))
    tie_b = make_client("client-c", created_at=at(10))
    tie_a = make_client("client-b", created_at=at(10))
    for client in (late, early, tie_b, tie_a):
        await stores.clients.add_client(client)
    assert await stores.clients.list_clients() == [early, tie_a, tie_b, late]


# -- audiences (RFC 8707 resource indicators) -------------------------------------------

API = "https://api.example/v1"
REPORTS = "urn:example:reports"


async def test_a_clients_audiences_read_back_in_order(stores: StorePair) -> None:
    """A client's audiences survive adding, listing and updating, in their order (the
    first is its default audience), and an update can remove them all."""
    client = replace(make_client(), audiences=(REPORTS, API))
    await stores.clients.add_client(client)
    assert await stores.clients.get_client("client-a") == client
    assert await stores.clients.list_clients() == [client]
    for audiences in ((API, REPORTS), (API,), ()):
        changed = replace(client, audiences=audiences, updated_at=at(5))
        await stores.clients.update_client(changed)
        assert await stores.clients.get_client("client-a") == changed


async def test_a_tokens_audience_reads_back(stores: StorePair) -> None:
    """A token's audience: none (no specific restriction), one, several in the order
    granted, and one that looks like the JSON array several are stored as."""
    await stores.clients.add_client(make_client())
    records = [
        replace(make_token(label), audience=audience)
        for label, audience in (
            ("none", ()),
            ("one", (API,)),
            ("two", (REPORTS, API)),
            ("odd", ('["not", "two"]',)),
        )
    ]
    for record in records:
        await stores.tokens.add_token(record)
    for record in records:
        assert await stores.tokens.get_token(record.digest) == record


# -- tokens -----------------------------------------------------------------------------


async def test_added_token_reads_back_equal(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    record = make_token("one", scopes="reports:write profiles:read")
    unscoped = make_token("two", scopes="")
    jwt = replace(make_token("three"), jti="jti-of-three", audience=("https://api.example",))
    await stores.tokens.add_token(record)
    await stores.tokens.add_token(unscoped)
    await stores.tokens.add_token(jwt)
    assert await stores.tokens.get_token(record.digest) == record
    assert await stores.tokens.get_token(unscoped.digest) == unscoped
    assert await stores.tokens.get_token(jwt.digest) == jwt
    assert await stores.tokens.get_token(digest_of("unknown")) is None


async def test_last_jwt_expiry_of_an_issue_window(stores: StorePair) -> None:
    """The latest expiry of the JWTs issued in a window, bounds included, revoked ones
    too; opaque tokens and JWTs issued outside it do not count."""
    await stores.clients.add_client(make_client())

    def jwt(label: str, issued: float, expires: float) -> TokenRecord:
        record = replace(make_token(label), jti=f"jti-{label}", audience=("https://api.example",))
        return replace(record, issued_at=at(issued), expires_at=at(expires))

    inside = [jwt("first", 0, 600), jwt("last", 100, 700), jwt("revoked", 50, 900)]
    outside = [jwt("before", -1, 5000), jwt("after", 101, 5000)]
    opaque = replace(make_token("opaque"), issued_at=at(10), expires_at=at(9000))
    for record in (*inside, *outside, opaque):
        await stores.tokens.add_token(record)
    await stores.tokens.revoke_token(inside[2].digest, None, at(60))
    assert await stores.tokens.last_jwt_expiry(at(0), at(100)) == at(900)
    assert await stores.tokens.last_jwt_expiry(at(200), at(300)) is None


async def test_token_of_unknown_client_is_refused(stores: StorePair) -> None:
    with pytest.raises(InactiveClientError):
        await stores.tokens.add_token(make_token("orphan", "ghost"))
    assert await stores.tokens.get_token(digest_of("orphan")) is None


async def test_token_of_disabled_client_is_refused(stores: StorePair) -> None:
    """No token is stored for a client disabled before the insert commits: a disable
    (which revokes the client's tokens) cannot be outlived by a racing issuance."""
    client = make_client()
    await stores.clients.add_client(client)
    await stores.clients.update_client(replace(client, enabled=False))
    with pytest.raises(InactiveClientError):
        await stores.tokens.add_token(make_token("late"))
    assert await stores.tokens.get_token(digest_of("late")) is None


async def test_revoke_own_token(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    record = make_token("one")
    await stores.tokens.add_token(record)
    assert await stores.tokens.revoke_token(record.digest, "client-a", at(5)) is True
    assert await stores.tokens.get_token(record.digest) == replace(record, revoked_at=at(5))


async def test_revoke_refuses_another_clients_token(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    await stores.clients.add_client(make_client("client-b"))
    record = make_token("one")
    await stores.tokens.add_token(record)
    assert await stores.tokens.revoke_token(record.digest, "client-b", at(5)) is False
    assert await stores.tokens.get_token(record.digest) == record


async def test_revoke_for_any_client(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    record = make_token("one")
    await stores.tokens.add_token(record)
    assert await stores.tokens.revoke_token(record.digest, None, at(7)) is True
    assert await stores.tokens.get_token(record.digest) == replace(record, revoked_at=at(7))


async def test_revoke_unknown_token(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    assert await stores.tokens.revoke_token(digest_of("unknown"), "client-a", at(5)) is False
    assert await stores.tokens.revoke_token(digest_of("unknown"), None, at(5)) is False


async def test_revoke_is_idempotent_and_keeps_the_first_time(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    record = make_token("one")
    await stores.tokens.add_token(record)
    assert await stores.tokens.revoke_token(record.digest, "client-a", at(5)) is True
    assert await stores.tokens.revoke_token(record.digest, "client-a", at(50)) is True
    assert await stores.tokens.revoke_token(record.digest, None, at(60)) is True
    assert await stores.tokens.get_token(record.digest) == replace(record, revoked_at=at(5))


async def test_revoke_client_tokens(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    await stores.clients.add_client(make_client("client-b"))
    mine = [make_token(f"a{i}") for i in range(3)]
    already = make_token("a-revoked")
    theirs = make_token("b0", "client-b")
    for record in (*mine, already, theirs):
        await stores.tokens.add_token(record)
    await stores.tokens.revoke_token(already.digest, None, at(1))

    assert await stores.tokens.revoke_client_tokens("client-a", at(9)) == 3
    for record in mine:
        assert await stores.tokens.get_token(record.digest) == replace(record, revoked_at=at(9))
    assert await stores.tokens.get_token(already.digest) == replace(already, revoked_at=at(1))
    assert await stores.tokens.get_token(theirs.digest) == theirs
    assert await stores.tokens.revoke_client_tokens("client-a", at(10)) == 0
    assert await stores.tokens.revoke_client_tokens("ghost", at(10)) == 0


async def test_purge_expired_in_batches(stores: StorePair) -> None:
    """Batches smaller than the expired rows: all go, the live and the revoked-but-live
    stay; a token expiring exactly ``now`` is expired."""
    await stores.clients.add_client(make_client())
    await stores.clients.add_client(make_client("client-b"))
    expired = [
        make_token(f"old{i}", "client-a" if i % 2 else "client-b", expires_in=-i) for i in range(7)
    ]
    live = make_token("live", expires_in=1)
    revoked_live = make_token("revoked-live", expires_in=100)
    for record in (*expired, live, revoked_live):
        await stores.tokens.add_token(record)
    await stores.tokens.revoke_token(revoked_live.digest, None, T0)

    assert await stores.tokens.purge_expired(T0, batch_size=3) == 7
    for record in expired:
        assert await stores.tokens.get_token(record.digest) is None
    assert await stores.tokens.get_token(live.digest) == live
    assert await stores.tokens.get_token(revoked_live.digest) == replace(
        revoked_live, revoked_at=T0
    )
    assert await stores.tokens.purge_expired(T0, batch_size=3) == 0


async def test_purge_with_batch_equal_to_rows(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    for i in range(4):
        await stores.tokens.add_token(make_token(f"old{i}", expires_in=-10))
    assert await stores.tokens.purge_expired(T0, batch_size=2) == 4
    assert await stores.tokens.purge_expired(T0, batch_size=1) == 0


@pytest.mark.parametrize("batch_size", [0, -1])
async def test_purge_refuses_a_non_positive_batch(stores: StorePair, batch_size: int) -> None:
    await stores.clients.add_client(make_client())
    record = make_token("old", expires_in=-10)
    await stores.tokens.add_token(record)
    with pytest.raises(ValueError, match=r"^batch_size must be positive$"):
        await stores.tokens.purge_expired(T0, batch_size=batch_size)
    assert await stores.tokens.get_token(record.digest) == record


async def test_deleting_a_client_deletes_its_tokens(stores: StorePair) -> None:
    await stores.clients.add_client(make_client())
    await stores.clients.add_client(make_client("client-b"))
    mine = [make_token("a0"), make_token("a1")]
    theirs = make_token("b0", "client-b")
    for record in (*mine, theirs):
        await stores.tokens.add_token(record)
    assert await stores.clients.delete_client("client-a") is True
    for record in mine:
        assert await stores.tokens.get_token(record.digest) is None
    assert await stores.tokens.get_token(theirs.digest) == theirs
    # A client re-created under the same id does not get the old tokens back.
    await stores.clients.add_client(make_client())
    for record in mine:
        assert await stores.tokens.get_token(record.digest) is None
    assert await stores.tokens.revoke_client_tokens("client-a", at(1)) == 0
