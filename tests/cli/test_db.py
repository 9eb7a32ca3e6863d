"""``anti-grazer db upgrade`` (cli/db.py) on a SQLite file: a new file, or one in folders
that do not exist yet, is brought to the newest revision; running it again changes
nothing (DESIGN.md §4.10)."""

from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import Cli
from tests.support import HEAD, INDEXES, TABLES, schema_of


def db_upgrade(path: Path) -> tuple[int, str]:
    result = Cli(path)("db", "upgrade")
    return result.exit_code, result.output


def test_db_upgrade_creates_the_schema_at_head(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    assert not database.exists()
    assert db_upgrade(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])


def test_db_upgrade_creates_a_missing_folder(tmp_path: Path) -> None:
    database = tmp_path / "var" / "nested" / "anti-grazer.db"
    assert db_upgrade(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "twice.db"
    assert db_upgrade(database) == (0, f"database at revision {HEAD}\n")
    assert db_upgrade(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])
