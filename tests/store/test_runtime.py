"""The one seam the server and the CLI open storage through (store/runtime.py): the URL's
scheme picks the adapter, a SQLite worker loads nothing of PostgreSQL's, and an
unsupported database is refused before anything is opened."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from anti_grazer.protocol.ports import InactiveClientError
from anti_grazer.store.runtime import open_stores
from tests.e2e.process import sqlite_url
from tests.support import SQL_BACKENDS, fresh_database_url, make_client, make_token, reset_database


@pytest.mark.parametrize("backend", SQL_BACKENDS)
async def test_the_scheme_picks_the_adapter(backend: str, tmp_path: Path) -> None:
    adapter = {"sqlite": "anti_grazer.store.sqlite.", "postgresql": "anti_grazer.store.postgres."}
    async with open_stores(await fresh_database_url(backend, tmp_path)) as opened:
        for store in (opened.clients, opened.tokens, opened.reports):
            assert type(store).__module__.startswith(adapter[backend]), type(store)


async def test_an_unsupported_database_is_refused() -> None:
    with pytest.raises(
        ValueError, match=r"^unsupported database 'mysql' \(SQLite or PostgreSQL\)$"
    ):
        async with open_stores("mysql+aiomysql://user@localhost/anti_grazer"):
            pass


async def test_a_sqlite_file_uri_is_opened_like_a_path(tmp_path: Path) -> None:
    """A ``file:`` URI (``?uri=true``): the engine and the reader and writer threads open
    the same file."""
    path = tmp_path / "uri.db"
    url = f"sqlite+aiosqlite:///file:{path}?mode=rwc&uri=true"
    async with open_stores(url) as opened:
        await opened.clients.add_client(make_client())
        token = make_token("through the writer thread")
        await opened.tokens.add_token(token)
        assert await opened.tokens.get_token(token.digest) == token
        with pytest.raises(InactiveClientError):
            await opened.tokens.add_token(make_token("of no client", "ghost"))
    async with open_stores(sqlite_url(path), migrate_sqlite=False) as reopened:
        assert await reopened.tokens.get_token(token.digest) == token


def test_a_sqlite_worker_loads_nothing_of_postgresql(tmp_path: Path) -> None:
    """The PostgreSQL adapter, SQLAlchemy's PostgreSQL dialect and asyncpg stay out of a
    process that serves a current SQLite file (a fresh interpreter with what a worker
    loads; migrating would load Alembic, and Alembic loads the PostgreSQL dialect)."""
    database = tmp_path / "sqlite-only.db"
    asyncio.run(reset_database(sqlite_url(database)))
    program = (
        "import asyncio, sys\n"
        "import anti_grazer.cli.main, anti_grazer.web.asgi\n"
        "from anti_grazer.store.runtime import open_stores\n"
        "async def main():\n"
        f"    async with open_stores({sqlite_url(database)!r}) as opened:\n"
        "        await opened.clients.list_clients()\n"
        "asyncio.run(main())\n"
        # web/background.py imports the LISTEN/NOTIFY module, which loads neither.
        "postgres = ('anti_grazer.store.postgres.', 'sqlalchemy.dialects.postgresql', 'asyncpg')\n"
        "print(sorted(m for m in sys.modules if m.startswith(postgres) and m not in\n"
        "    ('anti_grazer.store.postgres.notify',)))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "[]\n"
