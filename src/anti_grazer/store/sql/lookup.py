"""A ``SELECT`` of one row by key, on the SQLite reader thread when there is one
(``sqlite_reader``), else through the async engine (PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncEngine

from anti_grazer.store.sql.prepared import PreparedQuery
from anti_grazer.store.sqlite.reader import SqliteReader


class Lookup:
    """``await lookup(values)``: the first row of ``statement`` for ``values``, or None;
    either way its values are the engine's (aware datetimes, booleans)."""

    def __init__(
        self, statement: Select[Any], engine: AsyncEngine, reader: SqliteReader | None
    ) -> None:
        self._statement = statement
        self._engine = engine
        self._on_reader = (
            (reader, PreparedQuery(statement, engine.dialect)) if reader is not None else None
        )

    async def __call__(self, values: dict[str, Any]) -> Any | None:
        if self._on_reader is not None:
            reader, prepared = self._on_reader
            return await reader.first(prepared, values)
        async with self._engine.connect() as connection:
            return (await connection.execute(self._statement, values)).first()
