"""Alembic run on an open connection, to a given revision: how the migration tests put a
database where an older release left it, and bring it back."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, inspect

from anti_grazer.store.sql.migrate import MIGRATIONS


def migrate(connection: Connection, revision: str, *, down: bool = False) -> None:
    """Upgrade (or with ``down``, downgrade) the database of ``connection`` to
    ``revision``; run it with ``AsyncConnection.run_sync``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    (command.downgrade if down else command.upgrade)(config, revision)


def client_columns(connection: Connection) -> set[str]:
    """The names of the ``clients`` table's columns as the database has them."""
    return {c["name"] for c in inspect(connection).get_columns("clients")}


def index_names(connection: Connection, table: str) -> set[str]:
    """The names of ``table``'s indexes as the database has them."""
    return {str(index["name"]) for index in inspect(connection).get_indexes(table)}
