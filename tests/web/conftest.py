"""Fixtures of the web tests that need more than the root conftest's: the workload
identity federation's stand-in issuer, a client bound to it, an app whose issuer
fetches time out quickly, and an app with rate limits counted in process or in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import httpx
import pytest

from anti_grazer.store.runtime import OpenedStores
from tests.client_assertions import rsa_key
from tests.clock import FrozenClock
from tests.guard.stand_in_server import StandInServer, serving
from tests.support import (
    COUNTER_BACKENDS,
    Registered,
    create_app,
    flushed_redis_url,
    running,
    settings_for,
)
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


Limited = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture(params=COUNTER_BACKENDS)
def limited(request: pytest.FixtureRequest, database_url: str, clock: FrozenClock) -> Limited:
    """The app with the given settings, counting in process or in Redis."""

    @asynccontextmanager
    async def serve(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        if request.param == "redis":
            overrides["rate_limit_storage"] = await flushed_redis_url()
        app = create_app(settings_for(database_url, **overrides), clock=clock)
        async with running(app) as http:
            yield http

    return serve
