"""Fixtures of the authorization server's tests: the server over the memory stores, and
two registered clients."""

from __future__ import annotations

import pytest

from anti_grazer.protocol.server import AuthorizationServer
from anti_grazer.store.memory import MemoryStores, memory_stores
from tests.clock import FrozenClock
from tests.doubles import RecordingTokenStore
from tests.support import Registered, register


@pytest.fixture
def stores() -> MemoryStores:
    return memory_stores()


@pytest.fixture
def tokens(stores: MemoryStores) -> RecordingTokenStore:
    """The memory token store, keeping what each test's calls stored."""
    return RecordingTokenStore(stores.tokens)


@pytest.fixture
def server(
    stores: MemoryStores, tokens: RecordingTokenStore, clock: FrozenClock
) -> AuthorizationServer:
    """The server with the default policy: 3600 s, at most 86400 s."""
    return AuthorizationServer(stores.clients, tokens, clock)


@pytest.fixture
async def client(stores: MemoryStores, clock: FrozenClock) -> Registered:
    """Allowed ``reports:write profiles:read``, defaulting to ``profiles:read``."""
    return await register(stores.clients, clock)


@pytest.fixture
async def other(stores: MemoryStores, clock: FrozenClock) -> Registered:
    """A second, unrelated client."""
    return await register(stores.clients, clock, name="other client")
