"""``GET /ready``: 200 while the database answers at this code's schema and, when JWTs are
on, a signing key is active; 503 naming what is wrong otherwise, and 200 again once it
is fixed.  ``/health`` stays liveness: 200 whatever the database does."""

from __future__ import annotations

import io

import httpx
from sqlalchemy import text

from anti_grazer.store.runtime import OpenedStores
from anti_grazer.store.sql.schema_version import SCHEMA_REVISION
from tests.clock import FrozenClock
from tests.jwt_helpers import first_key, jwt_settings
from tests.support import create_app, log_events, running

READY = "/ready"


def assert_not_ready(response: httpx.Response, checks: dict[str, str]) -> None:
    assert response.status_code == 503
    assert response.json() == {"status": "not_ready", "checks": checks}
    assert response.headers["cache-control"] == "no-store"


async def test_ready_when_the_database_answers_at_the_current_schema(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get(READY)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_database_behind_the_code_is_not_ready_until_migrated(
    http: httpx.AsyncClient, sql: OpenedStores, log_stream: io.StringIO
) -> None:
    """Another deployment moved the schema (or it was restored from an old backup): this
    instance must leave the load balancer, and come back once the schema is current."""
    async with sql.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert_not_ready(
        await http.get(READY),
        {"database": f"at revision 0001, this server needs {SCHEMA_REVISION}"},
    )
    assert_not_ready(
        await http.get(READY),
        {"database": f"at revision 0001, this server needs {SCHEMA_REVISION}"},
    )
    async with sql.engine.begin() as connection:
        await connection.execute(
            text("UPDATE alembic_version SET version_num = :revision"),
            {"revision": SCHEMA_REVISION},
        )
    assert (await http.get(READY)).status_code == 200
    changes = [event for event in log_events(log_stream) if event["event"] == "readiness_changed"]
    assert [(event["ready"], event["level"]) for event in changes] == [
        (False, "warning"),
        (True, "info"),
    ], "each change of state is logged once, not every probe"


async def test_with_jwts_on_a_signing_key_must_be_active(
    database_url: str, sql: OpenedStores, clock: FrozenClock
) -> None:
    """With the key-encryption key set, the server issues JWTs: it is not ready while no
    key can sign them (``db upgrade`` makes the first one)."""
    app = create_app(jwt_settings(database_url), clock=clock)
    async with running(app) as http:
        assert_not_ready(
            await http.get(READY),
            {
                "database": "ok",
                "signing_key": "no active signing key: run 'anti-grazer keys create' and "
                "'anti-grazer keys activate KID'",
            },
        )
        await first_key(sql.signing_keys, clock)
        response = await http.get(READY)
        assert response.status_code == 200
        assert response.json() == {
            "status": "ready",
            "checks": {"database": "ok", "signing_key": "ok"},
        }


async def test_liveness_does_not_depend_on_the_database(
    http: httpx.AsyncClient, sql: OpenedStores
) -> None:
    async with sql.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    try:
        assert (await http.get(READY)).status_code == 503
        response = await http.get("/health")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}
    finally:
        # PostgreSQL's database outlives the test: the next one must find it current.
        async with sql.engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :revision"),
                {"revision": SCHEMA_REVISION},
            )


async def test_readiness_is_not_part_of_the_api_document(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert "/ready" not in paths
    assert "/health" not in paths
