"""The ``anti-grazer`` command line on PostgreSQL (``ANTI_GRAZER_DATABASE_URL`` set to a
``postgresql+asyncpg://`` URL): migrations from an empty database, concurrent upgrades,
client registration and batched purging.  Skipped unless ``ANTI_GRAZER_TEST_POSTGRES_URL``
names a PostgreSQL server (``.ci/run`` starts a throwaway one)."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.tokens import verify_client_secret
from anti_grazer.store.runtime import open_stores
from anti_grazer.store.sql.engine import create_engine
from anti_grazer.store.sql.migrate import head_revision
from anti_grazer.store.sql.schema_version import current_revision
from tests.e2e.process import CLI_TIMEOUT_SECONDS, anti_grazer_executable, cli_environment, run_cli
from tests.jwt_helpers import NO_KEK_NOTE
from tests.support import postgres_url

pytestmark = pytest.mark.slow


@asynccontextmanager
async def autocommit(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        await engine.dispose()


async def _create_database(url: str, name: str) -> None:
    async with autocommit(url) as engine, engine.connect() as connection:
        await connection.execute(text(f'CREATE DATABASE "{name}"'))


async def _drop_database(url: str, name: str) -> None:
    async with autocommit(url) as engine, engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty database on the run's PostgreSQL server, dropped afterwards."""
    url = postgres_url()
    if url is None:
        pytest.skip("ANTI_GRAZER_TEST_POSTGRES_URL is not set")
    name = f"anti_grazer_cli_{secrets.token_hex(4)}"
    try:
        asyncio.run(_create_database(url, name))
    except DBAPIError as error:
        pytest.skip(f"cannot create a database on the test server: {error.orig}")
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_drop_database(url, name))


async def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


def test_db_upgrade_migrates_an_empty_database(empty_database: str) -> None:
    """Before ``db upgrade`` the CLI refuses to run on the unmigrated schema; ``db upgrade``
    brings it to the newest revision, and running it again changes nothing."""
    env = cli_environment(empty_database)
    refused = run_cli(["clients", "list"], env)
    assert refused.returncode == 1
    assert "run 'anti-grazer db upgrade'" in refused.stderr
    assert asyncio.run(_revision(empty_database)) is None

    for _ in range(2):
        upgraded = run_cli(["db", "upgrade"], env)
        assert upgraded.returncode == 0, upgraded.stderr
        assert upgraded.stdout.strip() == f"database at revision {head_revision()}"
    assert asyncio.run(_revision(empty_database)) == head_revision()


def test_concurrent_db_upgrades_apply_each_migration_once(empty_database: str) -> None:
    """Several instances deploying at once may all run ``db upgrade``: every one succeeds
    (an advisory lock serialises them) and the schema ends at the newest revision."""
    env = cli_environment(empty_database)
    processes = [
        subprocess.Popen(
            [anti_grazer_executable(), "db", "upgrade"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = []
    try:
        for process in processes:
            out, err = process.communicate(timeout=CLI_TIMEOUT_SECONDS)
            outcomes.append((process.returncode, out.strip(), err.strip()))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=CLI_TIMEOUT_SECONDS)
    expected = f"database at revision {head_revision()}"
    # No key-encryption key here: each run says it made no signing key.
    assert outcomes == [(0, expected, NO_KEK_NOTE.strip())] * len(processes)
    assert asyncio.run(_revision(empty_database)) == head_revision()


async def _stored_client(url: str, client_id: str) -> tuple[bool, datetime, str] | None:
    async with open_stores(url) as stores:
        client = await stores.clients.get_client(client_id)
    if client is None:
        return None
    return client.enabled, client.created_at, client.secrets[0].digest


def test_clients_create_json_registers_a_client(empty_database: str) -> None:
    """``clients create --json`` prints the id and the one-time secret; the client is stored
    enabled (a PostgreSQL boolean) with an aware UTC creation time and only the secret's
    digest; ``clients disable`` turns the boolean off."""
    env = cli_environment(empty_database)
    assert run_cli(["db", "upgrade"], env).returncode == 0
    before = datetime.now(UTC)
    created = run_cli(
        ["clients", "create", "partner", "--scope", "a b", "--default-scope", "a", "--json"],
        env,
    )
    assert created.returncode == 0, created.stderr
    body = json.loads(created.stdout)
    assert body["name"] == "partner"
    assert body["scope"] == "a b"
    assert body["default_scope"] == "a"
    assert body["enabled"] is True

    stored = asyncio.run(_stored_client(empty_database, body["client_id"]))
    assert stored is not None
    enabled, created_at, digest = stored
    assert enabled is True
    assert created_at.tzinfo is not None
    assert created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=5) <= created_at <= datetime.now(UTC)
    assert body["client_secret"] not in digest
    assert verify_client_secret(body["client_secret"], [digest]) == 0

    listed = run_cli(["clients", "list", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    assert [c["client_id"] for c in json.loads(listed.stdout)] == [body["client_id"]]

    disabled = run_cli(["clients", "disable", body["client_id"]], env)
    assert disabled.returncode == 0, disabled.stderr
    stored = asyncio.run(_stored_client(empty_database, body["client_id"]))
    assert stored is not None
    assert stored[0] is False


async def _add_tokens(url: str, client_id: str, expired: int, live: int) -> None:
    now = datetime.now(UTC)
    async with open_stores(url) as stores:
        for index in range(expired + live):
            offset = -timedelta(hours=1) if index < expired else timedelta(hours=1)
            await stores.tokens.add_token(
                TokenRecord(
                    digest=secrets.token_hex(32),
                    client_id=client_id,
                    scopes=frozenset({"a"}),
                    issued_at=now - timedelta(hours=2),
                    expires_at=now + offset,
                    revoked_at=None,
                )
            )


async def _count_tokens(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return int(
                (await connection.execute(text("SELECT count(*) FROM access_tokens"))).scalar_one()
            )
    finally:
        await engine.dispose()


def test_tokens_purge_expired_deletes_in_batches(empty_database: str) -> None:
    """``tokens purge-expired --batch-size 2`` deletes every expired token (several batches,
    the last one short) and no live one."""
    env = cli_environment(empty_database)
    assert run_cli(["db", "upgrade"], env).returncode == 0
    created = run_cli(["clients", "create", "purger", "--scope", "a", "--json"], env)
    assert created.returncode == 0, created.stderr
    asyncio.run(
        _add_tokens(empty_database, json.loads(created.stdout)["client_id"], expired=5, live=3)
    )
    purged = run_cli(["tokens", "purge-expired", "--batch-size", "2"], env)
    assert purged.returncode == 0, purged.stderr
    assert purged.stdout.strip() == "purged 5 expired tokens"
    assert asyncio.run(_count_tokens(empty_database)) == 3
