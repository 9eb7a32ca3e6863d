"""Fixtures of the store tests: the caching stores the cache tests share."""

from __future__ import annotations

import pytest

from tests.store.cache_helpers import Setup
from tests.support import make_client, make_token


@pytest.fixture
async def setup() -> Setup:
    """Caching stores (TTL 60 s) with client ``client-a`` and its token ``t1`` stored."""
    built = Setup()
    await built.clients.add_client(make_client())
    await built.tokens.add_token(make_token("t1"))
    return built
