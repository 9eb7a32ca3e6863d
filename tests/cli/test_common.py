"""What every ``anti-grazer`` command shares (cli/common.py): invalid settings, a database
that cannot be opened or a URL that does not parse are one clear line on stderr and exit
status 1, never a traceback — in-process and from the installed console script."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.helpers import NOT_A_TOKEN, UNKNOWN_ID, Cli
from tests.e2e.process import cli_environment, run_cli, sqlite_url


def test_invalid_settings(run: Cli) -> None:
    result = run("clients", "list", env={"ANTI_GRAZER_ACCESS_TOKEN_TTL_SECONDS": "0"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: invalid settings: access_token_ttl_seconds: Input should be greater than 0\n"
    )


def test_database_that_cannot_be_opened(run: Cli, tmp_path: Path) -> None:
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run("clients", "list", env={"ANTI_GRAZER_DATABASE_URL": sqlite_url(folder)})
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: cannot open the SQLite database {folder}: unable to open database file\n"
    )


def test_database_url_that_does_not_parse(run: Cli) -> None:
    result = run("clients", "list", env={"ANTI_GRAZER_DATABASE_URL": "user:password@nowhere"})
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: invalid database URL: expected e.g. sqlite+aiosqlite:///./var/anti-grazer.db "
        "or postgresql+asyncpg://user@host/db\n"
    )
    assert "password" not in result.output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["clients", "show", UNKNOWN_ID], f"Error: no client with id {UNKNOWN_ID!r}\n"),
        (["clients", "create", "svc", "--scope", 'a "b'], "Error: invalid scope: 'a \"b'\n"),
        (
            ["clients", "create", "svc", "--scope", "a", "--default-scope", "b"],
            "Error: the default scope must be part of the allowed scope\n",
        ),
        (["tokens", "revoke", "nope"], NOT_A_TOKEN),
    ],
)
def test_errors_from_the_installed_command(tmp_path: Path, args: list[str], message: str) -> None:
    """The real console script: one line on stderr, exit 1, no traceback."""
    completed = run_cli(args, cli_environment(sqlite_url(tmp_path / "cli.db")))
    assert (completed.returncode, completed.stdout, completed.stderr) == (1, "", message)


@pytest.mark.slow
def test_unopenable_database_from_the_installed_command(tmp_path: Path) -> None:
    """A SQLite "file" that is a folder: one line, exit 1, and no thread traceback (the
    database is checked before aiosqlite's worker thread can race the closing loop)."""
    for _ in range(3):
        completed = run_cli(["clients", "list"], cli_environment(sqlite_url(tmp_path)))
        assert (completed.returncode, completed.stdout, completed.stderr) == (
            1,
            "",
            f"Error: cannot open the SQLite database {tmp_path}: unable to open database file\n",
        )
