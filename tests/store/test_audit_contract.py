"""The storage contract of the ``AuditStore`` port: memory, SQLite, and PostgreSQL when
``ANTI_GRAZER_TEST_POSTGRES_URL`` names a throwaway database, behave alike — every field
survives, the filters and the limit select the newest events (listed oldest first), and
a purge deletes exactly the events older than its instant."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from anti_grazer.protocol.audit import (
    CLIENT_CREATED,
    KEY_CREATED,
    REFUSED,
    TOKEN_REVOKED,
    AuditEvent,
)
from anti_grazer.protocol.ports import AuditStore, ClientStore, TokenStore
from anti_grazer.store.memory import memory_stores
from anti_grazer.store.runtime import open_stores
from tests.support import (
    STORE_BACKENDS,
    at,
    digest_of,
    fresh_database_url,
    make_client,
    make_token,
)


@pytest.fixture(params=STORE_BACKENDS)
async def backend_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[ClientStore, TokenStore, AuditStore]]:
    """A client, a token and an audit store over one fresh backend."""
    if request.param == "memory":
        memory = memory_stores()
        yield memory.clients, memory.tokens, memory.audit
        return
    async with open_stores(await fresh_database_url(request.param, tmp_path)) as opened:
        assert opened.audit is not None
        yield opened.clients, opened.tokens, opened.audit


@pytest.fixture
def audit(backend_stores: tuple[ClientStore, TokenStore, AuditStore]) -> AuditStore:
    return backend_stores[2]


def event(seconds: float, kind: str = CLIENT_CREATED, client_id: str | None = "c1") -> AuditEvent:
    return AuditEvent(
        at(seconds),
        kind,
        "cli:alice",
        client_id,
        client_id=client_id,
        details={"name": "svc ☃", "secret_id": "ag_sid_x", "overlap_seconds": 86400, "ok": True},
    )


async def test_every_field_survives(audit: AuditStore) -> None:
    recorded = AuditEvent(
        at(1.5), TOKEN_REVOKED, "client:c9", "tok-id", REFUSED, "c9", {"none": None}
    )
    await audit.record(recorded)
    assert await audit.list_events() == [recorded]


async def test_filters_and_limit_keep_the_newest_oldest_first(audit: AuditStore) -> None:
    events = [
        event(10),
        event(20, KEY_CREATED, None),
        event(30, client_id="c2"),
        event(40),
        event(50, TOKEN_REVOKED),
    ]
    for recorded in reversed(events):  # the store orders them, not the insertion
        await audit.record(recorded)
    assert await audit.list_events() == events
    assert await audit.list_events(limit=2) == events[3:]
    assert await audit.list_events(since=at(30)) == events[2:]
    assert await audit.list_events(client_id="c1") == [events[0], events[3], events[4]]
    assert await audit.list_events(kind=CLIENT_CREATED, client_id="c1") == [events[0], events[3]]
    assert await audit.list_events(kind=KEY_CREATED) == [events[1]]
    assert await audit.list_events(client_id="nobody") == []


async def test_purge_deletes_exactly_the_older_events(audit: AuditStore) -> None:
    for seconds in (10, 20, 30):
        await audit.record(event(seconds))
    assert await audit.purge_before(at(20)) == 1
    assert [e.at for e in await audit.list_events()] == [at(20), at(30)]
    assert await audit.purge_before(at(20)) == 0


async def test_a_revocation_records_its_event_only_when_it_revokes(
    backend_stores: tuple[ClientStore, TokenStore, AuditStore],
) -> None:
    """``TokenStore.revoke_token(..., audit)``: the event is stored with the revocation
    that made it, and not for someone else's token, an unknown one, or a repeat."""
    clients, tokens, audit = backend_stores
    await clients.add_client(make_client())
    await clients.add_client(make_client("client-b"))
    record = make_token("one")
    await tokens.add_token(record)
    revoked = event(5, TOKEN_REVOKED, "client-a")
    assert await tokens.revoke_token(record.digest, "client-b", at(5), revoked) is False
    assert await tokens.revoke_token(digest_of("unknown"), None, at(5), revoked) is False
    assert await audit.list_events() == []
    assert await tokens.revoke_token(record.digest, "client-a", at(5), revoked) is True
    again = event(6, TOKEN_REVOKED, "client-a")
    assert await tokens.revoke_token(record.digest, "client-a", at(6), again) is True
    assert await audit.list_events() == [revoked]
    stored = await tokens.get_token(record.digest)
    assert stored is not None
    assert stored.revoked_at == at(5)
