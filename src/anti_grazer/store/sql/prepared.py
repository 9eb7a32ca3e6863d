"""Statements compiled once by SQLAlchemy for the stdlib ``sqlite3`` threads
(``store.sqlite.writer``, ``store.sqlite.reader``): values converted by the columns' own bind
processors on the way in, and rows by their result processors on the way out, so that
what these threads store and read is what the engine would have."""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Dialect, Select
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement


class Prepared:
    """A statement compiled once for SQLite: its SQL and a converter from named values to
    the positional parameters it takes."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.sql = str(compiled)
        names: list[str] = list(compiled.positiontup or ())
        self._defaults: dict[str, Any] = dict(compiled.params)  # values bound in the statement
        self._steps: list[tuple[str, Callable[[Any], Any] | None]] = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        """The positional parameters for ``values`` (by bind name; a name not given takes
        the value bound in the statement), each through its column's bind processor."""
        defaults = self._defaults
        converted = []
        for name, processor in self._steps:
            value = values[name] if name in values else defaults[name]
            converted.append(value if processor is None else processor(value))
        return tuple(converted)


class PreparedQuery(Prepared):
    """A ``SELECT`` compiled once, whose rows come back as named tuples of the values the
    engine would have returned (aware datetimes, booleans)."""

    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        super().__init__(statement, dialect)
        columns = list(statement.selected_columns)
        self._make_row = _row_type([str(column.key) for column in columns])._make
        self._converters: list[tuple[int, Callable[[Any], Any]]] = [
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None))
            is not None
        ]

    def first(self, connection: sqlite3.Connection, values: dict[str, Any]) -> Any | None:
        """The first row for ``values``, or None."""
        raw = connection.execute(self.sql, self.params(values)).fetchone()
        return None if raw is None else self._convert(raw)

    def all(self, connection: sqlite3.Connection, values: dict[str, Any]) -> list[Any]:
        """Every row for ``values``."""
        rows = connection.execute(self.sql, self.params(values)).fetchall()
        return [self._convert(raw) for raw in rows]

    def _convert(self, raw: tuple[Any, ...]) -> Any:
        if not self._converters:
            return self._make_row(raw)
        values = list(raw)
        for index, processor in self._converters:
            values[index] = processor(values[index])
        return self._make_row(values)


def _row_type(names: list[str]) -> Any:
    """A named tuple of ``names``, so that rows read like the engine's (``row.name``)."""
    return namedtuple("Row", names)
