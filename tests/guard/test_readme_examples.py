"""The README's guard examples, run as written (only the database URL, or the
authorization server's URL, is the test's)."""

from __future__ import annotations

import httpx
import pytest

from tests.clock import FrozenClock
from tests.guard.stand_in_server import StandInServer, access_claims, sign
from tests.http_helpers import bearer
from tests.readme import example
from tests.support import Registered

README_URL = "sqlite+aiosqlite:///./var/anti-grazer.db"
README_ISSUER = 'ISSUER = "http://127.0.0.1:8000"'


@pytest.fixture
def clock() -> FrozenClock:
    """The examples use the system clock: the server's must agree with it."""
    return FrozenClock()


@pytest.mark.parametrize("name", ["fastapi-guard", "starlette-guard"])
async def test_readme_guard_example_protects_its_route(
    name: str, database_url: str, http: httpx.AsyncClient, registered: Registered
) -> None:
    """The example app refuses a request without a token (RFC 6750 §3.1) and serves one
    with a token from our token endpoint."""
    source = example(name)
    assert README_URL in source
    app = run_example(name, source.replace(README_URL, database_url))
    issued = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(registered.client_id, registered.secret),
    )
    token = issued.json()["access_token"]
    await assert_protects(app, token, registered.client_id)


def run_example(name: str, source: str) -> object:
    """The ``app`` that ``source`` defines."""
    namespace: dict[str, object] = {}
    exec(compile(source, name, "exec"), namespace)  # noqa: S102
    return namespace["app"]


async def assert_protects(app: object, token: str, client_id: str) -> None:
    """The example app refuses a request without a token (RFC 6750 §3.1) and serves one
    with ``token``, as ``client_id``."""
    # The example opens its stores in its lifespan, which ASGITransport does not run.
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as api:
            refused = await api.get("/hello")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'
            served = await api.get("/hello", headers=bearer(token))
            assert served.status_code == 200
            assert served.json() == {"hello": client_id}


def served_by(stand_in: StandInServer, name: str) -> str:
    """The example ``name`` with the stand-in as its authorization server."""
    source = example(name)
    assert README_ISSUER in source
    return source.replace(README_ISSUER, f"ISSUER = {stand_in.issuer!r}")


async def test_readme_introspection_example_protects_its_route(
    stand_in: StandInServer, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's ``IntrospectionVerifier`` example, against an authorization server
    (the stand-in) that calls the token active; its credentials from the environment."""
    monkeypatch.setenv("RS_CLIENT_ID", "ag_ci_resource")
    monkeypatch.setenv("RS_CLIENT_SECRET", "ag_cs_resource")
    stand_in.introspection = {
        "active": True,
        "client_id": "ag_ci_partner",
        "scope": "profiles:read",
        "exp": int(clock.now().timestamp()) + 60,
    }
    source = example("fastapi-introspection")
    assert README_ISSUER in source
    app = run_example(
        "fastapi-introspection", source.replace(README_ISSUER, f"ISSUER = {stand_in.issuer!r}")
    )
    await assert_protects(app, "ag_at_opaque", "ag_ci_partner")
    [(authorization, _form)] = stand_in.introspection_requests
    assert authorization == "Basic YWdfY2lfcmVzb3VyY2U6YWdfY3NfcmVzb3VyY2U="


async def test_readme_jwt_example_protects_its_route(
    stand_in: StandInServer, clock: FrozenClock
) -> None:
    """The README's ``JwtVerifier`` example, with a JWT access token of the stand-in
    (audience: the issuer, as our server's default)."""
    app = run_example("fastapi-jwt", served_by(stand_in, "fastapi-jwt"))
    claims = access_claims(stand_in.issuer, clock.now(), aud=stand_in.issuer)
    await assert_protects(app, sign(stand_in.keys[0], claims), "ag_ci_partner")
