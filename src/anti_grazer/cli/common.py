"""What every command shares: settings, opening the database, clean error exits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import click
from pydantic import ValidationError

from anti_grazer.settings import Settings, load_settings
from anti_grazer.store.sql.runtime import SqlStores, open_sql_stores

T = TypeVar("T")


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


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; any failure becomes one clear line and exit status 1."""
    try:
        return asyncio.run(coroutine)
    except click.ClickException:
        raise
    except Exception as error:  # the user gets one line; no traceback
        raise click.ClickException(f"{type(error).__name__}: {error}") from None


def with_stores(action: Callable[[SqlStores], Awaitable[T]]) -> T:
    """Open the database named by the settings, run ``action`` on it, close it."""
    settings = settings_or_exit()

    async def go() -> T:
        async with open_sql_stores(
            settings.database_url, sqlite_synchronous=settings.sqlite_synchronous
        ) as stores:
            return await action(stores)

    return run(go())
