"""Fixtures of the private_key_jwt tests (RFC 7523 §2.2): the app with an issuer (the
audience assertions name), a client's ES256 key, and the client registered with its
public half."""

from __future__ import annotations

import pytest
from joserfc.jwk import Key

from anti_grazer.protocol.models import Client
from anti_grazer.store.runtime import OpenedStores
from anti_grazer.web.edge import Edge
from tests.client_assertions import ISSUER, es256_key, public_jwks, register_keys
from tests.clock import FrozenClock
from tests.support import create_app, settings_for


@pytest.fixture
def app(database_url: str, clock: FrozenClock) -> Edge:
    return create_app(settings_for(database_url, issuer=ISSUER), clock=clock)


@pytest.fixture
def key() -> Key:
    return es256_key()


@pytest.fixture
async def client(sql: OpenedStores, clock: FrozenClock, key: Key) -> Client:
    return await register_keys(sql.clients, clock, jwks=public_jwks(key))
