"""Introspection on several instances over one database (two in-process apps on one
SQLite file, or on PostgreSQL when ``ANTI_GRAZER_TEST_DATABASE_URL`` names one), each
caching records for 30 s: a token revoked, or a client disabled, through one instance or
straight in the database (the CLI) is inactive at the very next introspection on the
other (RFC 7662 §4: "MUST perform all applicable checks against a token's state"), where
the bearer guard may accept it for the cache's TTL on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from anti_grazer.protocol.client_admin import set_enabled
from anti_grazer.protocol.tokens import access_token_digest
from anti_grazer.store.runtime import OpenedStores
from tests.clock import FrozenClock
from tests.http_helpers import (
    INTROSPECT,
    REVOKE,
    assert_active,
    assert_inactive,
    assert_revoked_ok,
    basic,
    post_form,
    read_profile,
)
from tests.support import Registered, create_app, issue, register, running, settings_for

CACHE_TTL_SECONDS = 30.0


@dataclass(frozen=True)
class TwoInstances:
    first: httpx.AsyncClient
    second: httpx.AsyncClient


@pytest.fixture
async def instances(database_url: str, clock: FrozenClock) -> AsyncIterator[TwoInstances]:
    settings = settings_for(database_url, cache_ttl_seconds=CACHE_TTL_SECONDS)
    async with (
        running(create_app(settings, clock=clock)) as first,
        running(create_app(settings, clock=clock)) as second,
    ):
        yield TwoInstances(first, second)


@pytest.fixture
async def resource_server(sql: OpenedStores, clock: FrozenClock) -> Registered:
    return await register(sql.clients, clock, "", "", name="resource server", can_introspect=True)


async def introspect(http: httpx.AsyncClient, caller: Registered, token: str) -> httpx.Response:
    return await post_form(
        http, INTROSPECT, {"token": token}, basic(caller.client_id, caller.secret)
    )


async def warm(instances: TwoInstances, caller: Registered, token: str) -> None:
    """Both instances know the token active, and their caches hold it and the caller."""
    for http in (instances.first, instances.second):
        for _ in range(3):
            assert_active(await introspect(http, caller, token))
            assert (await read_profile(http, token)).status_code == 200


async def test_revoked_on_one_instance_inactive_at_once_on_the_other(
    instances: TwoInstances, registered: Registered, resource_server: Registered
) -> None:
    token = await issue(instances.first, registered)
    await warm(instances, resource_server, token)
    revoked = await post_form(
        instances.first,
        REVOKE,
        {"token": token},
        basic(registered.client_id, registered.secret),
    )
    assert_revoked_ok(revoked)
    assert_inactive(await introspect(instances.second, resource_server, token))
    assert_inactive(await introspect(instances.second, registered, token))
    assert_inactive(await introspect(instances.first, resource_server, token))


async def test_revoked_by_the_cli_inactive_at_once_everywhere(
    instances: TwoInstances,
    registered: Registered,
    resource_server: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """``anti-grazer tokens revoke`` writes the database directly, as here."""
    token = await issue(instances.first, registered)
    await warm(instances, resource_server, token)
    assert await sql.tokens.revoke_token(access_token_digest(token), None, clock.now())
    for http in (instances.first, instances.second):
        assert_inactive(await introspect(http, resource_server, token))


async def test_a_client_disabled_elsewhere_has_no_active_token(
    instances: TwoInstances,
    registered: Registered,
    resource_server: Registered,
    sql: OpenedStores,
    clock: FrozenClock,
) -> None:
    """``anti-grazer clients disable`` revokes every token of the client in the database:
    inactive at once on both instances."""
    tokens = [await issue(http, registered) for http in (instances.first, instances.second)]
    for token in tokens:
        await warm(instances, resource_server, token)
    await set_enabled(sql.clients, sql.tokens, clock, registered.client, False)
    for http in (instances.first, instances.second):
        for token in tokens:
            assert_inactive(await introspect(http, resource_server, token))
