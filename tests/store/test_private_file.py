"""The SQLite database and the files SQLite makes beside it are private to their owner:
0600 files, 0700 folders where we create them (the database holds every client's secret
digest and every token's digest)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from anti_grazer.store.sql.engine import create_sqlite_file
from anti_grazer.store.sql.private_file import create_private_file
from anti_grazer.store.sql.runtime import open_sql_stores
from tests.e2e.process import sqlite_url


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_and_each_missing_folder_are_private(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "anti-grazer.db"
    create_private_file(path)
    assert mode(path) == 0o600
    assert path.read_bytes() == b""
    assert mode(tmp_path / "a") == mode(tmp_path / "a" / "b") == 0o700


def test_existing_files_and_folders_keep_their_mode_and_content(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o750)
    path = folder / "anti-grazer.db"
    path.write_bytes(b"kept")
    path.chmod(0o640)
    create_private_file(path)
    assert (mode(folder), mode(path), path.read_bytes()) == (0o750, 0o640, b"kept")


def test_an_in_memory_database_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite+aiosqlite://", "sqlite+aiosqlite:///:memory:"):
        create_sqlite_file(url)
    assert list(tmp_path.iterdir()) == []


async def test_the_database_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    """SQLite gives the -wal and -shm files the database file's mode."""
    path = tmp_path / "var" / "anti-grazer.db"
    async with open_sql_stores(sqlite_url(path)) as stores, stores.engine.connect() as connection:
        await connection.exec_driver_sql("SELECT count(*) FROM clients")
        files = sorted(p.name for p in path.parent.iterdir())
        modes = {p.name: mode(p) for p in path.parent.iterdir()}
    assert files == ["anti-grazer.db", "anti-grazer.db-shm", "anti-grazer.db-wal"]
    assert modes == dict.fromkeys(files, 0o600)
    assert mode(path.parent) == 0o700
