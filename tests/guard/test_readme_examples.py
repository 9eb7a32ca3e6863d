"""The README's guard examples, run as written (only the database URL is the test's)."""

from __future__ import annotations

import httpx
import pytest

from tests.clock import FrozenClock
from tests.http_helpers import bearer
from tests.readme import example
from tests.support import Registered

README_URL = "sqlite+aiosqlite:///./var/anti-grazer.db"


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
    namespace: dict[str, object] = {}
    exec(compile(source.replace(README_URL, database_url), name, "exec"), namespace)  # noqa: S102
    app = namespace["app"]
    issued = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(registered.client_id, registered.secret),
    )
    token = issued.json()["access_token"]
    # The example opens its stores in its lifespan, which ASGITransport does not run.
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="https://api.test") as api:
            refused = await api.get("/hello")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'
            served = await api.get("/hello", headers=bearer(token))
            assert served.status_code == 200
            assert served.json() == {"hello": registered.client_id}
