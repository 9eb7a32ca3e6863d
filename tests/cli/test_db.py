"""``anti-grazer db upgrade`` (cli/db.py) on a SQLite file: a new file, or one in folders
that do not exist yet, is brought to the newest revision; running it again changes
nothing (DESIGN.md §4.10).  On a database without signing keys it creates and activates
the first one when the key-encryption key is set, and says why not when it is not."""

from __future__ import annotations

from pathlib import Path

from click.testing import Result

from tests.cli.helpers import Cli
from tests.jwt_helpers import KEY_ENCRYPTION_KEY, NO_KEK_NOTE
from tests.support import HEAD, INDEXES, TABLES, schema_of

KEK = {"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY}


def db_upgrade(path: Path, env: dict[str, str] | None = None) -> Result:
    return Cli(path)("db", "upgrade", env=env)


def upgraded(path: Path) -> tuple[int, str]:
    result = db_upgrade(path)
    return result.exit_code, result.stdout


def test_db_upgrade_creates_the_schema_at_head(tmp_path: Path) -> None:
    database = tmp_path / "fresh.db"
    assert not database.exists()
    assert upgraded(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])


def test_db_upgrade_creates_a_missing_folder(tmp_path: Path) -> None:
    database = tmp_path / "var" / "nested" / "anti-grazer.db"
    assert upgraded(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    database = tmp_path / "twice.db"
    assert upgraded(database) == (0, f"database at revision {HEAD}\n")
    assert upgraded(database) == (0, f"database at revision {HEAD}\n")
    assert schema_of(database) == (TABLES, INDEXES, [HEAD])


def test_db_upgrade_creates_and_activates_the_first_signing_key(tmp_path: Path) -> None:
    run = Cli(tmp_path / "keys.db")
    first = db_upgrade(run.database, KEK)
    (key,) = run.stores(lambda s: s.signing_keys.list_keys())
    assert first.stdout == (
        f"database at revision {HEAD}\nsigning key {key.kid} created and activated (ES256)\n"
    )
    assert first.stderr == ""
    assert key.is_active
    again = db_upgrade(run.database, KEK)
    assert (again.stdout, again.stderr) == (f"database at revision {HEAD}\n", "")
    assert len(run.stores(lambda s: s.signing_keys.list_keys())) == 1


def test_without_the_key_encryption_key_no_key_is_made_and_a_note_says_why(
    tmp_path: Path,
) -> None:
    run = Cli(tmp_path / "no-kek.db")
    result = db_upgrade(run.database)
    assert (result.exit_code, result.stderr) == (0, NO_KEK_NOTE)
    assert run.stores(lambda s: s.signing_keys.list_keys()) == []
    db_upgrade(run.database, KEK)
    quiet = db_upgrade(run.database)
    assert (quiet.stdout, quiet.stderr) == (f"database at revision {HEAD}\n", "")
