"""Secret rotation with overlap through HTTP (issue 17 item 3): the previous secret
authenticates at the token, revocation and introspection endpoints until its overlap
ends, after ``retire-secret``, or never with ``--overlap 0``, and then gets the one
``invalid_client`` 401 of RFC 6749 §5.2 (RFC 7009 §2.2.1, RFC 7662 §2.3); at most two
secrets are live; a secret with a TTL expires; the access line names the secret id."""

from __future__ import annotations

import io
from datetime import timedelta

import httpx

from anti_grazer.protocol.client_admin import retire_previous_secrets, rotate_secret
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    INTROSPECT,
    REVOKE,
    assert_active,
    assert_invalid_client,
    assert_revoked_ok,
    basic,
    post_form,
)
from tests.support import Registered, issue, log_events, register, request_token

HOUR = timedelta(hours=1)


async def rotated(
    sql: OpenedStores, clock: FrozenClock, who: Registered, overlap: timedelta
) -> Registered:
    """``who`` after a rotation (as ``clients rotate-secret`` does): its new secret."""
    client = await sql.clients.get_client(who.client_id)
    assert client is not None
    _, value = await rotate_secret(sql.clients, clock, client, overlap=overlap)
    return Registered(client, value)


async def assert_authenticates(http: httpx.AsyncClient, who: Registered) -> None:
    """``who``'s secret works at all three endpoints (RFC 6749 §2.3.1 Basic)."""
    token = await issue(http, who)
    credentials = basic(who.client_id, who.secret)
    assert_active(await post_form(http, INTROSPECT, {"token": token}, credentials))
    assert_revoked_ok(await post_form(http, REVOKE, {"token": token}, credentials))


async def assert_refused(http: httpx.AsyncClient, who: Registered) -> None:
    """``who``'s secret gets 401 invalid_client at all three endpoints."""
    assert_invalid_client(await request_token(http, who.client_id, who.secret))
    credentials = basic(who.client_id, who.secret)
    for path in (INTROSPECT, REVOKE):
        assert_invalid_client(await post_form(http, path, {"token": "x"}, credentials))


async def test_the_previous_secret_works_until_the_overlap_ends(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    new = await rotated(sql, clock, registered, HOUR)
    await assert_authenticates(http, registered)
    await assert_authenticates(http, new)
    clock.advance(3599)
    await assert_authenticates(http, registered)
    clock.advance(1)
    await assert_refused(http, registered)
    await assert_authenticates(http, new)


async def test_overlap_zero_ends_the_previous_secret_at_once(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    new = await rotated(sql, clock, registered, timedelta(0))
    await assert_refused(http, registered)
    await assert_authenticates(http, new)


async def test_retire_secret_ends_the_overlap_early(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    new = await rotated(sql, clock, registered, HOUR)
    await assert_authenticates(http, registered)
    assert await retire_previous_secrets(sql.clients, clock, registered.client) == 1
    await assert_refused(http, registered)
    await assert_authenticates(http, new)


async def test_a_third_rotation_ends_the_oldest_secret_at_once(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    """At most two live secrets: the first is refused though its overlap had not ended."""
    second = await rotated(sql, clock, registered, HOUR)
    clock.advance(60)
    third = await rotated(sql, clock, second, HOUR)
    await assert_refused(http, registered)
    await assert_authenticates(http, second)
    await assert_authenticates(http, third)


async def test_a_secret_with_a_ttl_expires(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    """``--secret-ttl``: the new secret authenticates until it expires."""
    client = registered.client
    _, value = await rotate_secret(
        sql.clients, clock, client, overlap=timedelta(0), secret_ttl=HOUR
    )
    expiring = Registered(client, value)
    clock.advance(3599)
    await assert_authenticates(http, expiring)
    clock.advance(1)
    await assert_refused(http, expiring)


async def test_an_unknown_id_and_a_wrong_secret_get_the_same_answer(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> None:
    """RFC 6749 §5.2: nothing tells an unknown client id from a wrong or ended secret of
    a known one, with two live secrets as with one."""
    await rotated(sql, clock, registered, HOUR)
    answers = [
        await request_token(http, "ag_ci_" + "x" * 22, registered.secret),
        await request_token(http, registered.client_id, registered.secret + "x"),
    ]
    for answer in answers:
        assert_invalid_client(answer)
    first, second = answers
    assert (first.status_code, first.content) == (second.status_code, second.content)
    assert first.headers == second.headers


async def test_the_access_line_names_the_secret_that_authenticated(
    log_stream: io.StringIO,
    http: httpx.AsyncClient,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """Each OAuth endpoint's access line carries the public id of the secret used (also
    when the authenticated client is refused afterwards), never a secret; a refused
    client authentication names none."""
    old = await register(sql.clients, clock)
    new = await rotated(sql, clock, old, HOUR)
    stored = await sql.clients.get_client(old.client_id)
    assert stored is not None
    old_id, new_id = (s.secret_id for s in stored.secrets)
    token = await issue(http, old)
    await issue(http, new)
    credentials = basic(new.client_id, new.secret)
    await post_form(http, INTROSPECT, {"token": token}, credentials)
    await post_form(http, REVOKE, {"token": token}, credentials)
    await request_token(http, new.client_id, new.secret, scope="not-allowed")
    await request_token(http, new.client_id, "wrong")
    lines = [e for e in log_events(log_stream) if e.get("event") == "request"]
    assert [(line["status"], line.get("secret_id")) for line in lines] == [
        (200, old_id),
        (200, new_id),
        (200, new_id),
        (200, new_id),
        (400, new_id),
        (401, None),
    ]
    output = log_stream.getvalue()
    assert old.secret not in output
    assert new.secret not in output
