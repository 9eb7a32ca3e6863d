"""Schema migrations (Alembic) and the SQLite engine settings (DESIGN.md §4.10: SQLite is
a file in WAL mode, migrated by ``anti-grazer db upgrade`` or on server start)."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import String, column, insert, inspect, table, text

from anti_grazer.store.runtime import SchemaNotCurrentError, open_stores
from anti_grazer.store.sql.engine import SQLITE_READERS, create_engine
from anti_grazer.store.sql.migrate import MIGRATIONS, upgrade
from anti_grazer.store.sql.rows import client_row
from anti_grazer.store.sql.schema_version import SCHEMA_REVISION, current_revision
from anti_grazer.store.sql.tables import CLIENT_LIMIT_COLUMNS, clients, metadata
from tests.e2e.process import cli_environment, serving, sqlite_url
from tests.store.sql.migration_steps import migrate
from tests.support import (
    HEAD,
    INDEXES,
    TABLES,
    invoke_cli,
    make_client,
    running,
    schema_of,
    settings_for,
)
from tests.support import create_app as build_app

# The clients table as revision 0003 left it: without ``can_introspect``.
# The clients table as 0003 left it: before 0004's can_introspect, 0005's token_format
# and 0007's jwks and jwks_uri, 0009's audiences.
clients_0003 = table(
    "clients",
    *(
        column(c.name, c.type)
        for c in clients.columns
        if c.name
        not in (
            "can_introspect",
            "token_format",
            "jwks",
            "jwks_uri",
            "audiences",
            *CLIENT_LIMIT_COLUMNS,
        )
    ),
    column("secret_digest", String),  # moved to client_secrets by 0006
)


def journal_mode(path: Path) -> str:
    with closing(sqlite3.connect(path)) as connection:
        (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
    assert isinstance(mode, str)
    return mode


def test_migrations_form_one_line_of_history() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert script.get_heads() == [HEAD]
    assert [s.revision for s in script.walk_revisions("base", "heads")][-1] == "0001"
    assert {"clients", "access_tokens"} <= TABLES
    assert {"ix_access_tokens_expires_at", "ix_access_tokens_client_id"} <= INDEXES


def test_the_schema_check_knows_the_newest_migration() -> None:
    """Workers check the schema without Alembic, against ``SCHEMA_REVISION``."""
    assert SCHEMA_REVISION == HEAD


async def test_current_revision_reads_the_database(tmp_path: Path) -> None:
    """None for an empty file, the head once migrated: what Alembic itself reports."""
    engine = create_engine(sqlite_url(tmp_path / "revision.db"))
    try:
        assert await current_revision(engine) is None
        await upgrade(engine)
        assert await current_revision(engine) == HEAD
        async with engine.connect() as connection:
            alembic_says = await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        assert alembic_says == HEAD
    finally:
        await engine.dispose()


def test_a_worker_on_a_current_sqlite_file_imports_no_alembic_nor_asyncpg(
    tmp_path: Path,
) -> None:
    """Alembic and Mako cost a worker 10 MiB, asyncpg 3 MiB: a worker whose SQLite file is
    already at head imports none of them (a fresh interpreter with what ``anti-grazer
    serve`` loads)."""
    database = tmp_path / "current.db"
    assert invoke_cli(sqlite_url(database), "db", "upgrade").exit_code == 0
    program = (
        "import asyncio, sys\n"
        "import anti_grazer.cli.main, anti_grazer.web.asgi\n"
        "from anti_grazer.store.runtime import open_stores\n"
        "async def main():\n"
        f"    async with open_stores({sqlite_url(database)!r}):\n"
        "        pass\n"
        "asyncio.run(main())\n"
        "heavy = ('alembic', 'mako', 'asyncpg')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "[]\n"


async def test_migrated_schema_matches_the_declared_tables(tmp_path: Path) -> None:
    """Alembic's autogenerate finds nothing to change between head and tables.py."""
    engine = create_engine(sqlite_url(tmp_path / "compare.db"))
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            differences = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
            )
    finally:
        await engine.dispose()
    assert differences == []


def test_sqlite_is_in_wal_mode(tmp_path: Path) -> None:
    """WAL is a property of the file: any later connection sees it."""
    database = tmp_path / "wal.db"
    assert invoke_cli(sqlite_url(database), "db", "upgrade").exit_code == 0
    assert journal_mode(database) == "wal"


async def test_engine_connections_have_the_pragmas(tmp_path: Path) -> None:
    """Every engine connection: WAL, enforced foreign keys, a busy timeout, and the
    configured durability (FULL = 2, NORMAL = 1)."""
    for level, number in (("FULL", 2), ("NORMAL", 1)):
        engine = create_engine(sqlite_url(tmp_path / "pragmas.db"), sqlite_synchronous=level)
        try:
            async with engine.connect() as connection:
                values = [
                    (await connection.execute(text(f"PRAGMA {name}"))).scalar_one()
                    for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
                ]
        finally:
            await engine.dispose()
        assert values == ["wal", 1, 5000, number]


async def test_sqlite_engines_keep_a_small_pool_of_readers(tmp_path: Path) -> None:
    """Concurrent requests wait for one of ``SQLITE_READERS`` connections instead of
    opening more (each is a thread with its own page cache)."""
    engine = create_engine(sqlite_url(tmp_path / "pool.db"))
    try:
        connections = [await engine.connect() for _ in range(SQLITE_READERS)]
        one_more = asyncio.ensure_future(engine.connect())
        await asyncio.sleep(0.2)
        assert not one_more.done()
        await connections.pop().close()
        await (await asyncio.wait_for(one_more, 5)).close()
        for connection in connections:
            await connection.close()
    finally:
        await engine.dispose()


async def test_stores_refuse_an_unmigrated_database_when_told_not_to_migrate(
    tmp_path: Path,
) -> None:
    with pytest.raises(SchemaNotCurrentError, match=r"^The database schema is not current: "):
        async with open_stores(sqlite_url(tmp_path / "empty.db"), migrate_sqlite=False):
            pass


async def test_app_start_migrates_a_fresh_sqlite_file(tmp_path: Path) -> None:
    """The application's start-up (its lifespan) brings a new SQLite file to head."""
    database = tmp_path / "app.db"
    app = build_app(settings_for(sqlite_url(database)))
    async with running(app) as http:
        response = await http.get("/health")
        assert response.status_code == 200
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])
    assert journal_mode(database) == "wal"


@pytest.mark.slow
def test_server_process_migrates_a_fresh_sqlite_file(tmp_path: Path) -> None:
    """``anti-grazer serve`` on a SQLite file that does not exist yet: it starts, answers,
    and the file is at the head revision, in WAL mode."""
    database = tmp_path / "var" / "served.db"
    env = cli_environment(sqlite_url(database))
    with serving(env, tmp_path / "server.log"):
        assert schema_of(database) == (TABLES, INDEXES, [HEAD])
    assert journal_mode(database) == "wal"


async def test_0004_keeps_existing_clients_to_their_own_tokens(tmp_path: Path) -> None:
    """Revision 0004 adds ``can_introspect``: a client registered before it may still
    introspect only its own tokens (false), and the downgrade removes the column."""
    url = sqlite_url(tmp_path / "0004.db")
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0003")
            row = {**client_row(make_client()), "secret_digest": make_client().secrets[0].digest}
            row = {c.name: row[c.name] for c in clients_0003.columns}
            await connection.execute(insert(clients_0003).values(row))
        await upgrade(engine)
        async with open_stores(url) as stores:
            client = await stores.clients.get_client("client-a")
        assert client is not None
        assert replace(client, secrets=()) == replace(make_client(), secrets=())
        assert [s.digest for s in client.secrets] == [make_client().secrets[0].digest]
        assert client.can_introspect is False
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0003", down=True)
            columns = await connection.run_sync(
                lambda sync: {c["name"] for c in inspect(sync).get_columns("clients")}
            )
        assert columns == {c.name for c in clients_0003.columns}
    finally:
        await engine.dispose()
