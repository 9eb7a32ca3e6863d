"""A ``private_key_jwt`` client that publishes its keys at a ``jwks_uri`` (RFC 7591 §2),
served here by a real HTTP server on 127.0.0.1 that counts its requests: the set is
fetched once and held, fetched once more for an unknown ``kid`` (a rotation) and no more
within the refresh interval, and a set that cannot be had is a prompt ``invalid_client``,
never a hang or a 5xx."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator

import httpx
import pytest
from joserfc.jwk import Key

from anti_grazer.protocol.models import Client
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.client_assertions import (
    ISSUER,
    assertion_claims,
    assertion_form,
    es256_key,
    refusal_reasons,
    register_keys,
    sign_assertion,
)
from tests.clock import FrozenClock
from tests.guard.stand_in_server import (
    JWKS,
    Answer,
    StandInServer,
    closed_port_url,
    serving,
)
from tests.http_helpers import TOKEN, assert_invalid_client, assert_issued
from tests.support import create_app, settings_for

TIMEOUT_SECONDS = 0.5
REFRESH_INTERVAL_SECONDS = 1.0


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(
        settings_for(
            database_url,
            issuer=ISSUER,
            client_jwks_timeout_seconds=TIMEOUT_SECONDS,
            client_jwks_refresh_interval_seconds=REFRESH_INTERVAL_SECONDS,
        ),
        clock=clock,
    )


@pytest.fixture
def published() -> Iterator[StandInServer]:
    """The client's own server, publishing its JWK Set at ``JWKS``."""
    with serving(StandInServer(keys=[es256_key()])) as server:
        yield server


@pytest.fixture
async def client(sql: OpenedStores, clock: FrozenClock, published: StandInServer) -> Client:
    return await register_keys(sql.clients, clock, jwks_uri=published.issuer + JWKS)


async def token_with(
    http: httpx.AsyncClient, key: Key, client: Client, clock: FrozenClock
) -> httpx.Response:
    assertion = sign_assertion(key, assertion_claims(client.client_id, clock.now()))
    return await http.post(TOKEN, data=assertion_form(assertion))


async def test_the_key_set_is_fetched_once_and_held(
    http: httpx.AsyncClient, client: Client, published: StandInServer, clock: FrozenClock
) -> None:
    """RFC 7523 §3 item 9 with RFC 7591 §2 ``jwks_uri``: the assertion verifies with the
    published key; the set is held, not fetched per request."""
    (key,) = published.keys
    for _ in range(3):
        assert_issued(await token_with(http, key, client, clock), "profiles:read")
    assert published.hits == {JWKS: 1}


async def test_an_unknown_kid_fetches_the_set_once_more(
    http: httpx.AsyncClient,
    client: Client,
    published: StandInServer,
    clock: FrozenClock,
    log_stream: io.StringIO,
) -> None:
    """A client that rotates its key publishes the new one; the first assertion signed
    by it makes one fetch and succeeds.  A kid that is still unknown makes no further
    fetch within the refresh interval (CLIENT_JWKS_REFRESH_INTERVAL_SECONDS)."""
    (old,) = published.keys
    assert_issued(await token_with(http, old, client, clock), "profiles:read")
    await asyncio.sleep(REFRESH_INTERVAL_SECONDS + 0.1)  # the interval since the first fetch
    new = es256_key()
    published.keys = [old, new]
    assert_issued(await token_with(http, new, client, clock), "profiles:read")
    assert published.hits == {JWKS: 2}
    for _ in range(3):
        assert_invalid_client(await token_with(http, es256_key(), client, clock))
    assert published.hits == {JWKS: 2}
    reasons = refusal_reasons(log_stream)
    assert reasons == ["no key of the client has this kid"] * 3


@pytest.mark.parametrize(
    "answer",
    [Answer(hang=True), Answer(500, b"{}"), Answer(200, b"not json"), Answer(200, b'{"k": 1}')],
    ids=["hangs", "500", "not JSON", "not a JWK Set"],
)
async def test_a_set_that_cannot_be_had_is_a_prompt_invalid_client(
    http: httpx.AsyncClient,
    client: Client,
    published: StandInServer,
    clock: FrozenClock,
    log_stream: io.StringIO,
    answer: Answer,
) -> None:
    """RFC 7523 §3.2: the assertion cannot be verified, so ``invalid_client`` (401, never
    a 5xx), within CLIENT_JWKS_TIMEOUT_SECONDS for a server that does not answer."""
    (key,) = published.keys
    published.answers[JWKS] = answer
    started = time.monotonic()
    assert_invalid_client(await token_with(http, key, client, clock))
    assert time.monotonic() - started < TIMEOUT_SECONDS + 2.0
    reasons = refusal_reasons(log_stream)
    assert reasons == ["the client's jwks_uri could not be fetched"]


async def test_an_unreachable_jwks_uri_is_invalid_client(
    http: httpx.AsyncClient, sql: OpenedStores, clock: FrozenClock
) -> None:
    """Connection refused: ``invalid_client`` at once, and again without a new attempt
    before the retry delay (the first failure is not paid twice)."""
    client = await register_keys(sql.clients, clock, jwks_uri=closed_port_url() + JWKS)
    key = es256_key()
    started = time.monotonic()
    for _ in range(2):
        assert_invalid_client(await token_with(http, key, client, clock))
    assert time.monotonic() - started < TIMEOUT_SECONDS * 2 + 2.0
