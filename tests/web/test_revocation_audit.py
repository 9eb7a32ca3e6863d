"""A revocation at ``POST /oauth/revoke`` (RFC 7009 §2.1) is an audited security event:
recorded once, when the token stops working, with the revoking client as actor and the
token's public id (its introspection ``jti``) as subject, and logged as one JSON line;
never the token itself."""

from __future__ import annotations

import io

import httpx

from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.protocol.tokens import token_id
from anti_grazer.store.runtime import OpenedStores
from tests.http_helpers import REVOKE, assert_revoked_ok, basic, post_form
from tests.support import Registered, issue, log_events


async def test_a_revocation_is_recorded_once_with_the_client_as_actor(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    registered: Registered,
    log_stream: io.StringIO,
) -> None:
    token = await issue(http, registered)
    auth = basic(registered.client_id, registered.secret)
    for _ in range(2):  # the second finds it revoked already: nothing new happens
        assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, auth))

    digest = presented_token_digest(token)
    assert digest is not None
    [event] = await sql.audit.list_events()
    assert event.kind == "token.revoked"
    assert event.actor == f"client:{registered.client_id}"
    assert event.subject == token_id(digest)
    assert event.client_id == registered.client_id
    assert event.outcome == "success"

    lines = [
        line for line in log_events(log_stream) if line.get("logger_name") == "anti_grazer.audit"
    ]
    assert len(lines) == 1, log_stream.getvalue()
    assert {key: lines[0][key] for key in ("event", "kind", "actor", "subject", "outcome")} == {
        "event": "audit",
        "kind": "token.revoked",
        "actor": f"client:{registered.client_id}",
        "subject": token_id(digest),
        "outcome": "success",
    }
    assert token not in log_stream.getvalue()


async def test_an_unknown_token_records_nothing(
    http: httpx.AsyncClient, sql: OpenedStores, registered: Registered
) -> None:
    auth = basic(registered.client_id, registered.secret)
    assert_revoked_ok(await post_form(http, REVOKE, {"token": "ag_at_nothing"}, auth))
    assert await sql.audit.list_events() == []
