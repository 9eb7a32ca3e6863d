"""The seed's token request, verbatim, for clients registered with ``anti-grazer clients
create``: RFC 6749 §3.3 (an omitted scope gets the client's pre-defined default, which
is every allowed scope unless ``--default-scope`` names fewer; DESIGN.md §4.5) and §5.1
(the response states the granted scope, and has no ``scope`` member when there is none).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import insert

from anti_grazer.protocol.tokens import (
    access_token_digest,
    client_secret_digest,
    generate_client_id,
    generate_client_secret,
)
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.tables import client_secrets, clients
from tests.http_helpers import FORM, assert_issued, assert_oauth_error, bearer
from tests.support import invoke_cli

FORM_HEADERS = {"Content-Type": FORM}


def seed_body(client_id: str, client_secret: str) -> bytes:
    """The seed's example body, parameters in its order."""
    body = f"client_id={client_id}&client_secret={client_secret}&grant_type=client_credentials"
    return body.encode()


async def anti_grazer(database_url: str, *args: str) -> str:
    """Run ``anti-grazer ARGS`` in-process on ``database_url``; its standard output.  In a
    thread: the command runs its own event loop."""

    def invoke() -> str:
        result = invoke_cli(database_url, *args)
        assert result.exit_code == 0, result.output
        return result.stdout

    return await asyncio.to_thread(invoke)


async def create(database_url: str, *options: str) -> tuple[str, str]:
    """``anti-grazer clients create partner OPTIONS --json``: the id and the secret."""
    created = json.loads(
        await anti_grazer(database_url, "clients", "create", "partner", *options, "--json")
    )
    return created["client_id"], created["client_secret"]


async def shown_default_scope(database_url: str, client_id: str) -> str:
    """The ``default_scope`` that ``clients show`` prints."""
    shown = json.loads(await anti_grazer(database_url, "clients", "show", client_id))
    default: str = shown["default_scope"]
    return default


async def seed_request(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    return await http.post(
        "/oauth/token", content=seed_body(client_id, secret), headers=FORM_HEADERS
    )


@pytest.mark.parametrize(
    ("options", "granted"),
    [
        ((), None),
        (("--scope", "reports:write profiles:read"), "profiles:read reports:write"),
        (
            ("--scope", "reports:write profiles:read", "--default-scope", "profiles:read"),
            "profiles:read",
        ),
    ],
    ids=["no-options", "scope-only", "explicit-default"],
)
async def test_the_seed_request_gets_the_clients_default_scope(
    http: httpx.AsyncClient,
    sql: OpenedStores,
    database_url: str,
    options: tuple[str, ...],
    granted: str | None,
) -> None:
    """RFC 6749 §3.3: the seed's request names no scope, so it gets the default: the
    ``--default-scope`` when given, else every ``--scope`` (none for a client created
    without options: a token without scope, and no ``scope`` member, §5.1).  ``clients
    show`` prints that effective default."""
    client_id, secret = await create(database_url, *options)
    assert await shown_default_scope(database_url, client_id) == (granted or "")
    token = assert_issued(await seed_request(http, client_id, secret), granted)
    record = await sql.tokens.get_token(access_token_digest(token))
    assert record is not None
    assert record.scopes == frozenset((granted or "").split())


async def test_the_default_scope_token_is_accepted_by_the_api(
    http: httpx.AsyncClient, database_url: str
) -> None:
    """RFC 6750 §2.1: the token the seed's request got for a ``--scope``-only client
    carries ``profiles:read``, so the profile route answers."""
    client_id, secret = await create(database_url, "--scope", "reports:write profiles:read")
    token = assert_issued(
        await seed_request(http, client_id, secret), "profiles:read reports:write"
    )
    response = await http.get("/v1/profiles/facebook/grazer.1", headers=bearer(token))
    assert response.status_code == 200
    assert response.json() == {
        "platform": "facebook",
        "profile_id": "grazer.1",
        "reporters": 0,
        "status": "clear",
    }


async def test_a_scope_outside_the_allowed_set_is_still_invalid_scope(
    http: httpx.AsyncClient, database_url: str
) -> None:
    """RFC 6749 §3.3, §5.2: the default applies to an omitted scope only."""
    client_id, secret = await create(database_url, "--scope", "profiles:read")
    response = await http.post(
        "/oauth/token",
        content=seed_body(client_id, secret) + b"&scope=reports:write",
        headers=FORM_HEADERS,
    )
    assert_oauth_error(
        response,
        400,
        "invalid_scope",
        "The requested scope is invalid or not allowed for this client",
    )


async def test_a_row_stored_before_the_rule_gets_every_allowed_scope(
    http: httpx.AsyncClient, sql: OpenedStores, database_url: str
) -> None:
    """A client row written before the default rule, with an empty ``default_scopes``
    column (it then meant "no default"), follows the same rule: every allowed scope."""
    client_id, secret = generate_client_id(), generate_client_secret()
    now = datetime.now(UTC)
    async with sql.engine.begin() as connection:
        await connection.execute(
            insert(clients).values(
                client_id=client_id,
                name="old partner",
                allowed_scopes="profiles:read reports:write",
                default_scopes="",
                grant_types="client_credentials",
                token_ttl_seconds=None,
                enabled=True,
                created_at=now,
                updated_at=now,
            )
        )
        await connection.execute(
            insert(client_secrets).values(
                secret_id="ag_sid_old",
                client_id=client_id,
                digest=client_secret_digest(secret),
                created_at=now,
            )
        )
    assert await shown_default_scope(database_url, client_id) == "profiles:read reports:write"
    assert_issued(await seed_request(http, client_id, secret), "profiles:read reports:write")
