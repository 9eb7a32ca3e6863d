"""The guard's remote verifiers (issue 16 item 5) against a live ``anti-grazer serve``:
an API that does not share its database protects its routes with
``IntrospectionVerifier`` (RFC 7662, as a ``--introspect`` client) or ``JwtVerifier``
(RFC 9068 §4, keys from the ``jwks_uri`` of the RFC 8414 metadata).  Each sees a valid
token's client and scopes, refuses a forged one (401) and a token without the route's
scope (403); introspection sees a revocation within its cache TTL, the JWT verifier
does not (it never asks); a server that has stopped answers is a 503, never a 200."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import httpx
import pytest
from fastapi import FastAPI

from anti_grazer.guard.core import TokenVerifier
from anti_grazer.guard.introspection import IntrospectionVerifier
from anti_grazer.guard.jwt_verifier import JwtVerifier
from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    run_cli,
    serving,
    sqlite_url,
    stop_process,
)
from tests.guard.apps import fastapi_api_over
from tests.http_helpers import REVOKE, TOKEN, assert_revoked_ok, bearer
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

pytestmark = pytest.mark.slow

INTROSPECTION_CACHE_SECONDS = 0.5


@dataclass(frozen=True)
class LiveServer:
    server: ServerProcess
    opaque: CreatedClient
    jwt: CreatedClient
    resource_server: CreatedClient

    @property
    def issuer(self) -> str:
        return self.server.base_url

    def token(self, client: CreatedClient, scope: str = "profiles:read") -> str:
        response = httpx.post(
            self.issuer + TOKEN,
            data={"grant_type": "client_credentials", "scope": scope},
            auth=(client.client_id, client.client_secret),
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def revoke(self, client: CreatedClient, token: str) -> None:
        answer = httpx.post(
            self.issuer + REVOKE,
            data={"token": token},
            auth=(client.client_id, client.client_secret),
        )
        assert_revoked_ok(answer)


@pytest.fixture
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e-verifiers")
    env = cli_environment(
        sqlite_url(folder / "anti-grazer.db"), key_encryption_key=KEY_ENCRYPTION_KEY
    )
    upgraded = run_cli(["db", "upgrade"], env)
    assert upgraded.returncode == 0, upgraded.stderr
    jwt_args = ["jwt", "--scope", "profiles:read reports:write", "--token-format", "jwt", "--json"]
    created = run_cli(["clients", "create", *jwt_args], env)
    assert created.returncode == 0, created.stderr
    jwt_client = json.loads(created.stdout)
    with serving(env, folder / "server.log") as server:
        yield LiveServer(
            server,
            create_client(env, "opaque"),
            CreatedClient(jwt_client["client_id"], jwt_client["client_secret"]),
            create_client(env, "reports backend", scope="", default_scope="", introspect=True),
        )


@asynccontextmanager
async def protected_api(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    """A FastAPI app of its own (``/read`` needs profiles:read, ``/write``
    reports:write) guarded by ``verifier``, called in-process; the verifier talks to the
    live server over HTTP."""
    app: FastAPI = fastapi_api_over(verifier)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


def introspection_verifier(live: LiveServer) -> IntrospectionVerifier:
    rs = live.resource_server
    return IntrospectionVerifier(
        rs.client_id,
        rs.client_secret,
        issuer=live.issuer,
        cache_ttl_seconds=INTROSPECTION_CACHE_SECONDS,
        timeout_seconds=2,
    )


async def test_introspection_verifier_over_a_live_server(live: LiveServer) -> None:
    """RFC 7662 §2: active tokens of either format pass with their client and scopes, a
    forged one is 401 invalid_token, a missing scope 403, and a revoked token is refused
    once the verifier's cache has let it go."""
    opaque, jwt = live.token(live.opaque), live.token(live.jwt)
    async with introspection_verifier(live) as verifier, protected_api(verifier) as api:
        for client, token in ((live.opaque, opaque), (live.jwt, jwt)):
            answer = await api.get("/read", headers=bearer(token))
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"client_id": client.client_id, "scopes": ["profiles:read"]}
            refused = await api.post("/write", headers=bearer(token))
            assert refused.status_code == 403
            assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
        forged = await api.get("/read", headers=bearer(opaque[:-4] + "AAAA"))
        assert forged.status_code == 401
        assert 'error="invalid_token"' in forged.headers["www-authenticate"]
        live.revoke(live.opaque, opaque)
        await anyio.sleep(INTROSPECTION_CACHE_SECONDS * 2)
        revoked = await api.get("/read", headers=bearer(opaque))
        assert revoked.status_code == 401


async def test_jwt_verifier_over_a_live_server(live: LiveServer) -> None:
    """RFC 9068 §4 with the keys of the server's metadata: our JWT passes, a tampered one
    is 401, a missing scope 403; an opaque token is no JWT (401).  A revoked JWT still
    passes offline until it expires (README says so)."""
    token = live.token(live.jwt)
    async with (
        JwtVerifier(live.issuer, live.issuer, timeout_seconds=2) as verifier,
        protected_api(verifier) as api,
    ):
        answer = await api.get("/read", headers=bearer(token))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"client_id": live.jwt.client_id, "scopes": ["profiles:read"]}
        assert (await api.post("/write", headers=bearer(token))).status_code == 403
        head, payload, signature = token.split(".")
        tampered = f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
        assert (await api.get("/read", headers=bearer(tampered))).status_code == 401
        opaque = live.token(live.opaque)
        assert (await api.get("/read", headers=bearer(opaque))).status_code == 401
        live.revoke(live.jwt, token)
        assert (await api.get("/read", headers=bearer(token))).status_code == 200


async def test_a_stopped_server_is_a_503_for_either_verifier(live: LiveServer) -> None:
    """The authorization server gone: 503 temporarily_unavailable with Retry-After, never
    a 200 or a 500 (the introspection cache is off so that the server is asked)."""
    token = live.token(live.jwt)
    rs = live.resource_server
    introspection = IntrospectionVerifier(
        rs.client_id, rs.client_secret, issuer=live.issuer, cache_ttl_seconds=0, timeout_seconds=2
    )
    jwt = JwtVerifier(live.issuer, live.issuer, timeout_seconds=2)
    stop_process(live.server.process)
    for verifier in (introspection, jwt):
        async with verifier, protected_api(verifier) as api:
            started = time.monotonic()
            answer = await api.get("/read", headers=bearer(token))
            assert time.monotonic() - started < 5
            assert answer.status_code == 503
            assert answer.json()["error"] == "temporarily_unavailable"
            assert answer.headers["retry-after"] == "5"
