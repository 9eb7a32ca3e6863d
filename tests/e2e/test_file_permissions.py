"""The real ``anti-grazer serve`` and CLI on a fresh SQLite path keep the database to
their user: the database, its -wal and -shm files 0600, the folder they create 0700,
even under the common umask 022 (which leaves files created with 0644 readable by all)."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from tests.e2e.process import cli_environment, create_client, run_cli, serving, sqlite_url

pytestmark = pytest.mark.slow

PERMISSIVE_UMASK = 0o022


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of ``folder`` (as ``"."``) and of each file in it."""
    found = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    return {".": stat.S_IMODE(folder.stat().st_mode), **found}


def test_the_server_creates_its_database_files_private(tmp_path: Path) -> None:
    """Started on a path whose folder does not exist, the server migrates a new database
    and, once it has issued a token, holds it in three files, each 0600."""
    folder = tmp_path / "var"
    env = cli_environment(sqlite_url(folder / "anti-grazer.db"))
    with serving(env, tmp_path / "server.log", umask=PERMISSIVE_UMASK) as server:
        client = create_client(env)
        response = httpx.post(
            f"{server.base_url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client.client_id, client.client_secret),
            timeout=10.0,
        )
        assert response.status_code == 200
        assert modes(folder) == {
            ".": 0o700,
            "anti-grazer.db": 0o600,
            "anti-grazer.db-wal": 0o600,
            "anti-grazer.db-shm": 0o600,
        }


@pytest.mark.parametrize(
    "command",
    [["db", "upgrade"], ["clients", "create", "cli client", "--scope", "profiles:read"]],
)
def test_the_cli_creates_the_database_private(tmp_path: Path, command: list[str]) -> None:
    """``db upgrade`` and any command on the store create a new database as the server
    does: every file SQLite leaves beside it is 0600 too."""
    folder = tmp_path / "new" / "var"
    env = cli_environment(sqlite_url(folder / "anti-grazer.db"))
    completed = run_cli(command, env, umask=PERMISSIVE_UMASK)
    assert completed.returncode == 0, completed.stderr
    assert modes(tmp_path / "new")["."] == 0o700
    found = modes(folder)
    assert found.pop(".") == 0o700
    assert "anti-grazer.db" in found
    assert set(found.values()) == {0o600}
