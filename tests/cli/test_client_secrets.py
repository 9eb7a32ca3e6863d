"""``anti-grazer clients rotate-secret / retire-secret / create --secret-ttl`` and what
``clients show`` lists of a client's secrets (issue 17 item 3)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.cli.helpers import Cli, create


def rotate(run: Cli, client_id: str, *options: str) -> dict[str, object]:
    result = run("clients", "rotate-secret", client_id, "--json", *options)
    assert result.exit_code == 0, result.output
    rotated: dict[str, object] = json.loads(result.stdout)
    return rotated


def shown_secrets(run: Cli, client_id: str) -> list[dict[str, object]]:
    result = run("clients", "show", client_id, "--json")
    assert result.exit_code == 0
    secrets: list[dict[str, object]] = json.loads(result.stdout)["secrets"]
    return secrets


def moment(value: object) -> datetime:
    assert isinstance(value, str)
    return datetime.fromisoformat(value)


def test_rotate_keeps_the_previous_secret_for_24_hours_by_default(run: Cli) -> None:
    created = create(run)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    rotated = rotate(run, client_id)
    new = str(rotated["client_secret"])
    assert run.issue(client_id, old) is not None
    assert run.issue(client_id, new) is not None
    previous, current = shown_secrets(run, client_id)
    assert previous["secret_id"] == created["secret_id"]
    assert current["secret_id"] == rotated["secret_id"]
    assert current["expires_at"] is None
    overlap = moment(previous["expires_at"]) - moment(current["created_at"])
    assert timedelta(hours=24) - timedelta(seconds=5) < overlap <= timedelta(hours=24)


def test_show_lists_ids_times_and_last_use_never_a_secret(run: Cli) -> None:
    created = create(run)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    new = str(rotate(run, client_id, "--overlap", "90m")["client_secret"])
    assert run.issue(client_id, new) is not None
    result = run("clients", "show", client_id)
    previous, current = json.loads(result.stdout)["secrets"]
    assert set(previous) == {"secret_id", "created_at", "expires_at", "last_used_at"}
    assert previous["last_used_at"] is None
    assert current["last_used_at"] is not None
    overlap = moment(previous["expires_at"]) - moment(current["created_at"])
    assert timedelta(minutes=90) - timedelta(seconds=5) < overlap <= timedelta(minutes=90)
    client = run.client(client_id)
    assert client is not None
    for value in (old, new, *(s.digest for s in client.secrets)):
        assert value not in result.output
    assert "sha256" not in result.output


def test_retire_secret_ends_the_previous_secret(run: Cli) -> None:
    created = create(run)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    rotated = rotate(run, client_id)
    new = str(rotated["client_secret"])
    result = run("clients", "retire-secret", client_id)
    assert (result.exit_code, result.output) == (
        0,
        f"{client_id}: the previous secret no longer works\n",
    )
    assert run.issue(client_id, old) is None
    assert run.issue(client_id, new) is not None
    assert [s["secret_id"] for s in shown_secrets(run, client_id)] == [rotated["secret_id"]]
    again = run("clients", "retire-secret", client_id)
    assert (again.exit_code, again.stdout) == (1, "")
    assert again.stderr == f"Error: {client_id} has no previous secret in its overlap\n"


def test_a_third_rotation_ends_the_oldest_secret(run: Cli) -> None:
    created = create(run)
    client_id, first = str(created["client_id"]), str(created["client_secret"])
    second = str(rotate(run, client_id)["client_secret"])
    third = rotate(run, client_id)
    assert run.issue(client_id, first) is None
    assert run.issue(client_id, second) is not None
    assert run.issue(client_id, str(third["client_secret"])) is not None
    assert len(shown_secrets(run, client_id)) == 2


def test_overlap_zero_ends_the_previous_secret_at_once(run: Cli) -> None:
    created = create(run)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    rotated = rotate(run, client_id, "--overlap", "0")
    assert run.issue(client_id, old) is None
    assert [s["secret_id"] for s in shown_secrets(run, client_id)] == [rotated["secret_id"]]


def test_secret_ttl_on_create_and_rotate(run: Cli) -> None:
    created = create(run, "svc", "--secret-ttl", "2h")
    client_id = str(created["client_id"])
    (secret,) = shown_secrets(run, client_id)
    lifetime = moment(secret["expires_at"]) - moment(secret["created_at"])
    assert lifetime == timedelta(hours=2)
    rotated = rotate(run, client_id, "--secret-ttl", "30d", "--overlap", "0")
    lifetime = moment(rotated["expires_at"]) - moment(
        shown_secrets(run, client_id)[0]["created_at"]
    )
    assert timedelta(days=30) - timedelta(seconds=5) < lifetime <= timedelta(days=30)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--overlap", "1w"], "Error: Invalid value for --overlap: invalid duration: '1w'"),
        (["--overlap", "-5m"], "Error: Invalid value for --overlap: invalid duration: '-5m'"),
        (
            ["--secret-ttl", "soon"],
            "Error: Invalid value for --secret-ttl: invalid duration: 'soon'",
        ),
    ],
)
def test_rotate_refuses_bad_durations(run: Cli, options: list[str], message: str) -> None:
    created = create(run)
    client_id = str(created["client_id"])
    result = run("clients", "rotate-secret", client_id, *options)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
    assert len(shown_secrets(run, client_id)) == 1


@pytest.mark.parametrize("command", [["rotate-secret", "--secret-ttl", "0"], ["create", "svc"]])
def test_a_zero_secret_ttl_is_refused(run: Cli, command: list[str]) -> None:
    target = [command[0], str(create(run)["client_id"]), *command[1:]]
    if command[0] == "create":
        target = ["create", "svc", "--secret-ttl", "0"]
    result = run("clients", *target)
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == "Error: the secret TTL must be positive\n"
