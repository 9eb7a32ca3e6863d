"""Fixtures of the guard's tests: the stand-in authorization server and the remote
verifiers that ask it (short timeouts, the test's clock)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from tests.clock import FrozenClock
from tests.guard.stand_in_server import AUDIENCE, StandInServer, serving

RS_CLIENT_ID = "ag_ci_resource server"  # a space, to see it form-urlencoded (RFC 6749 §2.3.1)
RS_SECRET = "ag_cs_s3cret+/="
# Short enough for quick tests of a hanging server, long enough for a loaded machine.
TIMEOUT_SECONDS = 1.0


@pytest.fixture
def stand_in() -> Iterator[StandInServer]:
    """A third-party authorization server on 127.0.0.1, for this test only."""
    with serving(StandInServer()) as server:
        yield server


@pytest.fixture
async def jwt_verifier(stand_in: StandInServer, clock: FrozenClock) -> AsyncIterator[JwtVerifier]:
    """A ``JwtVerifier`` of the stand-in's tokens, on the test's clock."""
    async with JwtVerifier(
        stand_in.issuer,
        AUDIENCE,
        clock=clock,
        monotonic=clock.monotonic,
        timeout_seconds=TIMEOUT_SECONDS,
    ) as verifier:
        yield verifier


@pytest.fixture
async def introspection_verifier(
    stand_in: StandInServer, clock: FrozenClock
) -> AsyncIterator[IntrospectionVerifier]:
    """An ``IntrospectionVerifier`` asking the stand-in (found from its metadata)."""
    async with IntrospectionVerifier(
        RS_CLIENT_ID,
        RS_SECRET,
        issuer=stand_in.issuer,
        clock=clock,
        monotonic=clock.monotonic,
        timeout_seconds=TIMEOUT_SECONDS,
    ) as verifier:
        yield verifier
