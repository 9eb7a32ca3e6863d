"""Shared test helpers: database URLs, app construction, client registration, the command
line run in-process, the records the storage tests store, and what they count in the
database."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from secrets import token_bytes
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.cli.main import cli
from anti_grazer.protocol.client_admin import register_client
from anti_grazer.protocol.models import OPAQUE, Client, ClientSecret, TokenRecord
from anti_grazer.protocol.ports import ClientStore, TokenStore
from anti_grazer.protocol.tokens import client_secret_digest
from anti_grazer.settings import Settings, load_settings
from anti_grazer.store.memory import MemoryStores
from anti_grazer.store.memory_reports import MemoryReportStore
from anti_grazer.store.runtime import OpenedStores, open_stores
from anti_grazer.store.sql.engine import create_engine, is_sqlite
from anti_grazer.store.sql.migrate import head_revision, upgrade
from anti_grazer.store.sql.tables import access_tokens, metadata
from anti_grazer.store.sqlite.thread import Batch, SqliteThread
from anti_grazer.web.app import Stores, StoresFactory, create_app
from anti_grazer.web.edge import Edge
from tests.clock import FrozenClock

# When set (by .ci/run), SQL tests also run against this PostgreSQL database.
POSTGRES_URL_ENV = "ANTI_GRAZER_TEST_POSTGRES_URL"
# When set to a PostgreSQL URL, the HTTP suite runs on it instead of a SQLite file.
DATABASE_URL_ENV = "ANTI_GRAZER_TEST_DATABASE_URL"
# When set (by .ci/run, scripts/lib/redis.sh), the tests of counters shared by several
# workers or instances run on this Redis (its keys are flushed by each).
REDIS_URL_ENV = "ANTI_GRAZER_TEST_REDIS_URL"

BASE_URL = "https://testserver"

# Property tests whose examples share one running app and database (function-scoped
# fixtures), so that every example also checks that earlier ones broke nothing.
property_settings = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def postgres_url() -> str | None:
    """The throwaway PostgreSQL database of this test run, if any."""
    return os.environ.get(POSTGRES_URL_ENV) or None


NEEDS_POSTGRES = pytest.mark.skipif(postgres_url() is None, reason=f"{POSTGRES_URL_ENV} is not set")


def redis_url() -> str | None:
    """The throwaway Redis of this test run, if any."""
    return os.environ.get(REDIS_URL_ENV) or None


NEEDS_REDIS = pytest.mark.skipif(redis_url() is None, reason=f"{REDIS_URL_ENV} is not set")
# Where the rate limits' counters live: ``pytest.fixture(params=COUNTER_BACKENDS)``.
COUNTER_BACKENDS = ["memory", pytest.param("redis", marks=NEEDS_REDIS)]


async def flushed_redis_url() -> str:
    """The run's Redis, emptied."""
    url = redis_url()
    if url is None:
        raise RuntimeError(f"{REDIS_URL_ENV} is not set")
    # Imported here: most tests never talk to Redis.
    from redis.asyncio import Redis  # noqa: PLC0415

    client = Redis.from_url(url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return url


# Backends for storage tests: ``pytest.fixture(params=STORE_BACKENDS)``.
SQL_BACKENDS = ["sqlite", pytest.param("postgresql", marks=NEEDS_POSTGRES)]
STORE_BACKENDS = ["memory", *SQL_BACKENDS]


async def fresh_database_url(backend: str, folder: Path) -> str:
    """An empty, migrated database for ``backend`` ("sqlite": a file in ``folder``;
    "postgresql": the run's database, emptied)."""
    url = f"sqlite+aiosqlite:///{folder / 'store.db'}" if backend == "sqlite" else postgres_url()
    if url is None:
        raise RuntimeError(f"{POSTGRES_URL_ENV} is not set")
    await reset_database(url)
    return url


@asynccontextmanager
async def stores_with_client(
    backend: str, folder: Path, client_id: str = "client-a"
) -> AsyncIterator[OpenedStores]:
    """Fresh stores on ``backend`` (as ``fresh_database_url``) with ``make_client(client_id)``
    registered."""
    async with open_stores(await fresh_database_url(backend, folder)) as opened:
        await opened.clients.add_client(make_client(client_id))
        yield opened


async def reset_database(url: str) -> None:
    """Bring the database at ``url`` to the newest schema with no rows in it."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        if not is_sqlite(url):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "TRUNCATE clients, access_tokens, reports, profiles, server_keys, "
                        "signing_keys, client_assertion_jtis, audit_events, trusted_issuers, "
                        "federation_bindings CASCADE"
                    )
                )
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class StorePair:
    """A client store and a token store over one backend, as the storage tests use them."""

    clients: ClientStore
    tokens: TokenStore


@dataclass
class Registered:
    """A registered client and its one-time secret."""

    client: Client
    secret: str

    @property
    def client_id(self) -> str:
        return self.client.client_id


async def register(
    clients: ClientStore,
    clock: FrozenClock,
    scope: str = "reports:write profiles:read",
    default_scope: str = "profiles:read",
    ttl: int | None = None,
    name: str = "test client",
    token_format: str = OPAQUE,
    *,
    can_introspect: bool = False,
    audiences: tuple[str, ...] = (),
) -> Registered:
    """Register a client with the given scopes (and token format) through the real
    registry (``can_introspect``: a resource server, which may introspect any token;
    ``audiences``: the resources it may ask for, RFC 8707)."""
    client, secret = await register_client(
        clients,
        clock,
        name,
        frozenset(scope.split()),
        frozenset(default_scope.split()),
        token_ttl_seconds=ttl,
        token_format=token_format,
        can_introspect=can_introspect,
        audiences=audiences,
    )
    return Registered(client, secret)


async def request_token(
    http: httpx.AsyncClient,
    client_id: str,
    secret: str,
    scope: str | None = None,
    resources: tuple[str, ...] = (),
) -> httpx.Response:
    """A client_credentials token request with HTTP Basic (RFC 6749 §4.4.2), naming each
    of ``resources`` (RFC 8707 §2, one ``resource`` parameter each)."""
    data: dict[str, str | list[str]] = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    if resources:
        data["resource"] = list(resources)
    return await http.post("/oauth/token", data=data, auth=(client_id, secret))


async def issue(
    http: httpx.AsyncClient,
    who: Registered,
    scope: str | None = None,
    resources: tuple[str, ...] = (),
) -> str:
    """A token from the real token endpoint (the request must succeed)."""
    response = await request_token(http, who.client_id, who.secret, scope, resources)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def settings_for(database_url: str, **overrides: object) -> Settings:
    """Settings for an in-process app on ``database_url``.  The caches are off unless a
    test turns them on, so that changes tests make straight in the database are seen at
    once (tests of the caches set ``cache_ttl_seconds``); so is the lockout, so that
    tests of refused credentials may send many from one address (its tests set
    ``lockout_failures``)."""
    defaults: dict[str, object] = {"cache_ttl_seconds": 0, "lockout_failures": 0}
    return load_settings(database_url=database_url, **{**defaults, **overrides})


def memory_stores_factory(stores: MemoryStores) -> StoresFactory:
    """A ``create_app`` stores factory serving ``stores`` (clients registered in them
    beforehand can get tokens) and fresh memory reports."""

    @asynccontextmanager
    async def serve(_settings: Settings) -> AsyncIterator[Stores]:
        yield Stores(
            stores.clients,
            stores.tokens,
            MemoryReportStore(),
            token_bytes(32),
            signing_keys=stores.signing_keys,
            assertion_replays=stores.assertion_replays,
            trust=stores.trust,
        )

    return serve


@asynccontextmanager
async def running(app: Edge) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan and yield an httpx client speaking to it in-process."""
    async with app.lifespan():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


def log_events(stream: io.StringIO) -> list[dict[str, Any]]:
    """The log lines written to ``stream`` (the ``log_stream`` fixture): every line is
    one JSON object."""
    lines = stream.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    assert all(isinstance(event, dict) for event in events)
    return events


def access_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    """The access lines (logger ``anti_grazer.access``) logged to ``stream`` so far."""
    return [e for e in log_events(stream) if e.get("logger_name") == "anti_grazer.access"]


def invoke_cli(
    database_url: str, *args: str, env: dict[str, str] | None = None, stdin: str = ""
) -> Result:
    """``anti-grazer ARGS`` run in-process on ``database_url`` (click's runner), with any
    ``ANTI_GRAZER_*`` of the surrounding environment hidden and ``env`` added.  Every
    outcome must be a clean exit: no exception escaped the command, no traceback shown."""
    hidden: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ANTI_GRAZER_")}
    result = CliRunner().invoke(
        cli,
        list(args),
        env={**hidden, "ANTI_GRAZER_DATABASE_URL": database_url, **(env or {})},
        input=stdin,
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result


__all__ = [
    "BASE_URL",
    "Registered",
    "StorePair",
    "Stores",
    "create_app",
    "postgres_url",
    "register",
    "reset_database",
    "running",
    "settings_for",
]


def altered(value: str) -> str:
    """``value`` with its last character replaced by another letter (never by itself, as a
    fixed replacement would be one time in 62 for a random token)."""
    return value[:-1] + ("A" if value[-1] != "A" else "B")


def batch_sizes(monkeypatch: pytest.MonkeyPatch, thread: type[SqliteThread]) -> list[int]:
    """From now on, the size of every batch an instance of ``thread`` runs in one
    transaction (``SqliteThread._commit``), in order."""
    sizes: list[int] = []
    original = thread._commit

    def counting(self: SqliteThread, connection: sqlite3.Connection, batch: Batch) -> None:
        sizes.append(len(batch))
        original(self, connection, batch)

    monkeypatch.setattr(thread, "_commit", counting)
    return sizes


# -- records the storage tests store: clients and token records at known instants, with
# digests derived from readable labels -------------------------------------------------

# Microseconds included: every backend must give them back.
T0 = datetime(2026, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """``T0`` plus ``seconds``."""
    return T0 + timedelta(seconds=seconds)


def secret_of(
    value: str, created_at: datetime = T0, expires_at: datetime | None = None
) -> ClientSecret:
    """A stored secret whose value is ``value``, its id derived from it."""
    return ClientSecret(
        secret_id="ag_sid_" + digest_of(value)[:12],
        digest=client_secret_digest(value),
        created_at=created_at,
        expires_at=expires_at,
    )


def make_client(
    client_id: str = "client-a",
    *,
    created_at: datetime = T0,
    allowed: str = "reports:write profiles:read",
    default: str = "profiles:read",
    ttl: int | None = None,
    secret: str | None = None,
) -> Client:
    """A client stored as the registry would store it, with a chosen id and ``secret``
    (by default its id: the registry only generates them)."""
    return Client(
        client_id=client_id,
        name=f"name of {client_id}",
        secrets=(secret_of(client_id if secret is None else secret, created_at),),
        allowed_scopes=frozenset(allowed.split()),
        default_scopes=frozenset(default.split()),
        token_ttl_seconds=ttl,
        enabled=True,
        created_at=created_at,
        updated_at=created_at,
    )


def digest_of(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def make_token(
    label: str,
    client_id: str = "client-a",
    *,
    expires_in: float = 3600,
    scopes: str = "profiles:read",
) -> TokenRecord:
    return TokenRecord(
        digest=digest_of(label),
        client_id=client_id,
        scopes=frozenset(scopes.split()),
        issued_at=T0,
        expires_at=at(expires_in),
    )


# -- what the storage tests count in the database ----------------------------------------


class CommitCounter:
    """Counts the transactions an engine commits."""

    def __init__(self) -> None:
        self.commits = 0

    def __call__(self, _connection: object) -> None:
        self.commits += 1


@contextmanager
def counting_commits(engine: AsyncEngine) -> Iterator[CommitCounter]:
    """The commits of ``engine`` from now until the context closes."""
    counter = CommitCounter()
    event.listen(engine.sync_engine, "commit", counter)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "commit", counter)


async def stored_digests(engine: AsyncEngine) -> set[str]:
    """The digests of every stored token."""
    async with engine.connect() as connection:
        result = await connection.execute(select(access_tokens.c.digest))
        return {row.digest for row in result}


async def count_tokens(engine: AsyncEngine) -> int:
    """How many tokens are stored."""
    async with engine.connect() as connection:
        result = await connection.execute(select(func.count()).select_from(access_tokens))
        count: int = result.scalar_one()
        return count


# -- what a migrated SQLite file holds ---------------------------------------------------

HEAD = head_revision()
# The migrations at head mirror the schema declared in tables.py.
TABLES = {"alembic_version", *metadata.tables}
INDEXES = {str(index.name) for table in metadata.tables.values() for index in table.indexes}


def schema_of(path: Path) -> tuple[set[str], set[str], list[str]]:
    """Tables, named indexes and the Alembic revision of the SQLite file at ``path``."""
    with closing(sqlite3.connect(path)) as connection:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        indexes = {
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND name NOT LIKE 'sqlite_%'"
            )
        }
        revisions = [
            revision
            for (revision,) in connection.execute("SELECT version_num FROM alembic_version")
        ]
    return tables, indexes, revisions
