"""When the authorization server cannot answer: unreachable, hanging, a 5xx, something
unusable.  Both remote verifiers then raise ``TemporarilyUnavailableError``, and every
adapter of the guard answers it ``503`` with ``Retry-After``: never a 200, never a 500,
never a verdict on the token."""

from __future__ import annotations

import io
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from anti_grazer.guard.core import TokenVerifier
from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from anti_grazer.logs import configure_logging
from anti_grazer.protocol.errors import TemporarilyUnavailableError
from tests.clock import FrozenClock
from tests.guard.apps import fastapi_api_over, middleware_api_over, starlette_api_over
from tests.guard.conftest import RS_CLIENT_ID, RS_SECRET
from tests.guard.stand_in_server import (
    AUDIENCE,
    INTROSPECT,
    JWKS,
    METADATA,
    Answer,
    StandInServer,
    access_claims,
    closed_port_url,
    ec_key,
    sign,
)
from tests.http_helpers import bearer

UNAVAILABLE_BODY = {
    "error": "temporarily_unavailable",
    "error_description": "The access token cannot be checked now; retry later",
}
SHORT_TIMEOUT = 0.3
Verifier = IntrospectionVerifier | JwtVerifier
VerifierFactory = Callable[[str, float], Verifier]


def introspection(issuer: str, timeout: float) -> Verifier:
    return IntrospectionVerifier(RS_CLIENT_ID, RS_SECRET, issuer=issuer, timeout_seconds=timeout)


def jwt(issuer: str, timeout: float) -> Verifier:
    return JwtVerifier(issuer, AUDIENCE, timeout_seconds=timeout)


# Each verifier with each request it makes: (the verifier, the path that fails).
EXCHANGES = [(introspection, METADATA), (introspection, INTROSPECT), (jwt, METADATA), (jwt, JWKS)]
EXCHANGE_IDS = ["introspection-metadata", "introspection", "jwt-metadata", "jwt-jwks"]


def token_for(stand_in: StandInServer) -> str:
    """A token either verifier would accept from a healthy server (a signed JWT, valid
    now by the system clock, which these verifiers keep)."""
    return sign(stand_in.keys[0], access_claims(stand_in.issuer, FrozenClock().now()))


def a_jwt(issuer: str) -> str:
    """A well-formed JWT access token of ``issuer`` (one the header checks let through)."""
    return sign(ec_key(), access_claims(issuer, FrozenClock().now()))


async def unavailable(verifier: TokenVerifier, token: str) -> float:
    """Assert ``verifier`` raises ``TemporarilyUnavailableError``; the seconds it took."""
    started = time.monotonic()
    with pytest.raises(TemporarilyUnavailableError):
        await verifier.verify(token)
    return time.monotonic() - started


@pytest.mark.parametrize("make", [introspection, jwt], ids=["introspection", "jwt"])
async def test_an_unreachable_server_is_503_at_once(make: VerifierFactory) -> None:
    """Connection refused: 503 at once, not after the timeout."""
    issuer = closed_port_url()
    async with make(issuer, 5.0) as verifier:
        assert await unavailable(verifier, a_jwt(issuer)) < 2.0


@pytest.mark.parametrize(("make", "path"), EXCHANGES, ids=EXCHANGE_IDS)
async def test_a_hanging_server_is_503_after_the_timeout(
    make: VerifierFactory, path: str, stand_in: StandInServer
) -> None:
    """An exchange that does not end within ``timeout_seconds`` (5 s by default, short
    here) is a 503 then: no request waits longer."""
    stand_in.answers[path] = Answer(hang=True)
    async with make(stand_in.issuer, SHORT_TIMEOUT) as verifier:
        elapsed = await unavailable(verifier, token_for(stand_in))
    assert SHORT_TIMEOUT <= elapsed < SHORT_TIMEOUT + 1.5


@pytest.mark.parametrize(("make", "path"), EXCHANGES, ids=EXCHANGE_IDS)
@pytest.mark.parametrize(
    "answer",
    [
        Answer(500, b'{"error":"server_error"}'),
        Answer(502, b"bad gateway"),
        Answer(503, b""),
        Answer(401, b'{"error":"invalid_client"}'),
        Answer(302, b""),
        Answer(200, b"<html>maintenance</html>"),
        Answer(200, b'["active", true]'),
        Answer(200, b" " * (1 << 20) + b'{"active": false}'),
    ],
    ids=["500", "502", "503", "401", "redirect", "html", "array", "huge"],
)
async def test_an_unusable_answer_is_503(
    make: VerifierFactory, path: str, answer: Answer, stand_in: StandInServer
) -> None:
    """A 5xx, any other status than 200 (the resource server's own credentials refused,
    a redirect: none is followed), a body that is not one JSON object of at most 1 MiB:
    the authorization server cannot be used now, whatever the token."""
    stand_in.answers[path] = answer
    async with make(stand_in.issuer, 5.0) as verifier:
        await unavailable(verifier, token_for(stand_in))


def _unavailable_verifier() -> IntrospectionVerifier:
    return IntrospectionVerifier(RS_CLIENT_ID, RS_SECRET, issuer=closed_port_url())


@pytest.mark.parametrize(
    "adapter",
    [fastapi_api_over, starlette_api_over, middleware_api_over],
    ids=["fastapi", "starlette", "middleware"],
)
async def test_every_adapter_answers_503_with_retry_after(
    adapter: Callable[[TokenVerifier], ASGIApp],
) -> None:
    """Through HTTP, on a FastAPI route (``require_scopes``), a Starlette endpoint
    (``requires_bearer``) and behind ``BearerAuthMiddleware``: ``503`` (RFC 9110
    §15.6.4) with ``Retry-After`` (§10.2.3), the ``temporarily_unavailable`` body, not
    cached, and no Bearer challenge (the token was not judged)."""
    async with _unavailable_verifier() as verifier:
        transport = httpx.ASGITransport(app=adapter(verifier))
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as api:
            response = await api.get("/read", headers=bearer("eyJ.eyJ.c2ln"))
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE_BODY
    assert response.headers["content-type"] == "application/json"
    assert response.headers["retry-after"] == "5"
    assert response.headers["cache-control"] == "no-store"
    assert "www-authenticate" not in response.headers


async def test_the_failure_is_logged_without_the_token_or_secret(
    stand_in: StandInServer,
) -> None:
    """DESIGN.md §4.8: the log says why the server was unavailable, never the token or
    the resource server's secret."""
    stream = io.StringIO()
    configure_logging("info", stream)
    token = "ag_at_" + "T0k3n" * 8
    stand_in.answers[INTROSPECT] = Answer(500, token.encode())
    async with introspection(stand_in.issuer, 5.0) as verifier:
        await unavailable(verifier, token)
    logged = stream.getvalue()
    assert "remote server unavailable" in logged
    assert "status 500" in logged
    assert stand_in.issuer + INTROSPECT in logged
    assert "T0k3n" not in logged
    assert "s3cret" not in logged
