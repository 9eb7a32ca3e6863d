"""Fixtures of the web tests that need more than the root conftest's: the workload
identity federation's stand-in issuer, a client bound to it, and an app whose issuer
fetches time out quickly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from anti_grazer.store.runtime import OpenedStores
from tests.client_assertions import rsa_key
from tests.clock import FrozenClock
from tests.guard.stand_in_server import StandInServer, serving
from tests.support import Registered, create_app, running, settings_for
from tests.web.federation_helpers import PROD_RULE, TIMEOUT_SECONDS, Federation


@pytest.fixture
def stand_in_issuer() -> Iterator[StandInServer]:
    """An OpenID issuer on 127.0.0.1 signing with one RSA key (as Kubernetes does)."""
    with serving(StandInServer(keys=[rsa_key()])) as server:
        yield server


@pytest.fixture
async def federation(
    stand_in_issuer: StandInServer, sql: OpenedStores, clock: FrozenClock, registered: Registered
) -> Federation:
    """The stand-in trusted, and ``registered`` bound to it for the prod namespace."""
    built = Federation(stand_in_issuer, registered, sql, clock)
    await built.trust()
    await built.bind(PROD_RULE)
    return built


@pytest.fixture
async def fed_http(database_url: str, clock: FrozenClock) -> AsyncIterator[httpx.AsyncClient]:
    """The app (issuer fetches bounded by ``TIMEOUT_SECONDS``, their intervals timed by
    the test's clock) and a client to it."""
    settings = settings_for(database_url, federation_timeout_seconds=TIMEOUT_SECONDS)
    async with running(create_app(settings, clock=clock, monotonic=clock.monotonic)) as http:
        yield http
