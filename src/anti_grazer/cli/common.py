"""What every command shares: settings, opening the database, clean error exits."""

from __future__ import annotations

import asyncio
import getpass
import os
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import ValidationError
from sqlalchemy.exc import ArgumentError

from anti_grazer.protocol.audit import SUCCESS, AuditEvent, AuditTrail, Detail, cli_actor
from anti_grazer.protocol.clock import SystemClock
from anti_grazer.protocol.ports import AuditStore
from anti_grazer.settings import Settings, load_settings
from anti_grazer.store.runtime import OpenedStores, open_stores
from anti_grazer.store.sql.engine import create_sqlite_file, is_sqlite, sqlite_file

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


def json_option(help_text: str = "Print one JSON object.") -> Callable[[F], F]:
    """The ``--json`` flag of a command (its ``as_json`` argument), with its help."""
    return click.option("--json", "as_json", is_flag=True, help=help_text)


def settings_or_exit(**overrides: object) -> Settings:
    """Load settings; an invalid one is a one-line error, not a traceback."""
    try:
        return load_settings(**overrides)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}"
            for e in error.errors()
        )
        raise click.ClickException(f"invalid settings: {problems}") from None


def _one_line(error: BaseException) -> str:
    """``Type: message`` on one line (SQLAlchemy appends a "Background" line)."""
    lines = [line for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__


def check_database_url(url: str) -> None:
    """Fail with one clear line if ``url`` is unusable, before any event loop runs.

    A SQLite file is opened synchronously first: when aiosqlite fails to open one, its
    worker thread may report to an event loop that has already closed and print a thread
    traceback, so a missing permission or a directory in place of the file must be caught
    here.  A missing file is created as the engine would: private to its owner.
    """
    try:
        sqlite = is_sqlite(url)
    except ArgumentError:
        # The URL itself is not echoed: it may hold a password.
        raise click.ClickException(
            "invalid database URL: expected e.g. sqlite+aiosqlite:///./var/anti-grazer.db "
            "or postgresql+asyncpg://user@host/db"
        ) from None
    database = sqlite_file(url) if sqlite else None
    if database is None:
        return
    path = Path(database)
    try:
        create_sqlite_file(url)
        with closing(sqlite3.connect(path)) as connection:
            connection.execute("PRAGMA schema_version").fetchone()
    except (OSError, sqlite3.Error) as error:
        raise click.ClickException(f"cannot open the SQLite database {path}: {error}") from None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; any failure becomes one clear line and exit status 1."""
    try:
        return asyncio.run(coroutine)
    except click.ClickException:
        raise
    except Exception as error:  # the user gets one line; no traceback
        raise click.ClickException(_one_line(error)) from None


def with_stores(action: Callable[[OpenedStores], Awaitable[T]]) -> T:
    """Open the database named by the settings, run ``action`` on it, close it."""
    settings = settings_or_exit()
    check_database_url(settings.database_url)

    async def go() -> T:
        async with open_stores(
            settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
        ) as stores:
            return await action(stores)

    return run(go())


def operator() -> str:
    """The audit actor of a command: the OS user who runs it."""
    try:
        return cli_actor(getpass.getuser())
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return cli_actor(f"uid {os.getuid()}")


async def audited(
    store: AuditStore,
    kind: str,
    subject: str | None,
    *,
    client_id: str | None = None,
    outcome: str = SUCCESS,
    details: Mapping[str, Detail] | None = None,
) -> AuditEvent:
    """Record what a command did in the audit trail, with the operator as its actor."""
    trail = AuditTrail(store, SystemClock())
    return await trail.record(
        kind, operator(), subject, client_id=client_id, outcome=outcome, details=details
    )
