"""The audit trail of the command line (issue 18 item 3): every administrative command
records what it did, with the OS user as actor, in the database and as one JSON log
line; ``anti-grazer audit list`` reads it back with its filters.  No event holds a
secret."""

from __future__ import annotations

import getpass
import json

import pytest

from anti_grazer.protocol.token_lookup import presented_token_digest
from anti_grazer.protocol.tokens import token_id
from tests.cli.helpers import Cli, create
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

OPERATOR = f"cli:{getpass.getuser()}"
KEK = {"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY}


def audit_list(run: Cli, *filters: str) -> list[dict[str, object]]:
    result = run("audit", "list", *filters, "--json")
    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)
    assert isinstance(events, list)
    return events


def kinds(events: list[dict[str, object]]) -> list[object]:
    return [event["kind"] for event in events]


def test_client_commands_are_audited_without_secrets(run: Cli) -> None:
    created = create(run)
    client_id = str(created["client_id"])
    rotated = run("clients", "rotate-secret", client_id, "--overlap", "2h", "--json")
    assert rotated.exit_code == 0, rotated.output
    new_secret = json.loads(rotated.stdout)["client_secret"]
    for command in ("retire-secret", "disable", "enable", "delete"):
        assert run("clients", command, client_id).exit_code == 0

    events = audit_list(run)
    assert kinds(events) == [
        "client.created",
        "secret.rotated",
        "secret.retired",
        "client.disabled",
        "client.enabled",
        "client.deleted",
    ]
    for event in events:
        assert event["actor"] == OPERATOR
        assert event["subject"] == client_id
        assert event["client_id"] == client_id
        assert event["outcome"] == "success"
    assert events[0]["details"] == {"name": "svc", "secret_id": created["secret_id"]}
    assert events[1]["details"] == {
        "secret_id": json.loads(rotated.stdout)["secret_id"],
        "overlap_seconds": 7200,
    }
    text = json.dumps(events)
    assert str(created["client_secret"]) not in text
    assert new_secret not in text


def test_a_command_that_changes_nothing_records_nothing(run: Cli) -> None:
    assert run("clients", "delete", "ag_ci_0000000000000000000000").exit_code == 1
    assert audit_list(run) == []


def test_key_commands_and_db_upgrade_are_audited(run: Cli) -> None:
    assert run("db", "upgrade", env=KEK).exit_code == 0
    created = run("keys", "create", "--json", env=KEK)
    assert created.exit_code == 0, created.output
    kid = json.loads(created.stdout)["kid"]
    assert run("keys", "retire", kid, env=KEK).exit_code == 0
    events = audit_list(run)
    assert kinds(events) == ["key.created", "key.activated", "key.created", "key.retired"]
    assert events[2]["subject"] == kid
    assert events[3]["subject"] == kid
    assert all(event["client_id"] is None for event in events)


def test_tokens_revoke_is_audited_by_the_tokens_public_id(run: Cli) -> None:
    created = create(run)
    token = run.issue(str(created["client_id"]), str(created["client_secret"]))
    assert token is not None
    assert run("tokens", "revoke", token).exit_code == 0
    assert run("tokens", "revoke", token).exit_code == 0  # already revoked: no event
    [revoked] = audit_list(run, "--kind", "token.revoked")
    digest = presented_token_digest(token)
    assert digest is not None
    assert revoked["subject"] == token_id(digest)
    assert revoked["client_id"] == created["client_id"]
    assert token not in json.dumps(revoked)


def test_trust_and_binding_commands_are_audited(run: Cli) -> None:
    """Workload identity federation's commands: the issuer is the subject of ``trust.*``,
    the client of ``binding.*`` (so ``audit list --client`` shows when its workloads were
    let in or cut off, a cascade included); a refused command records nothing."""
    issuer = "https://token.actions.githubusercontent.com"
    assert run("trust", "add", issuer, "--audience", "aud", "--no-check").exit_code == 0
    client_id = str(create(run)["client_id"])
    bind = ("clients", "bind", client_id, "--issuer", issuer)
    assert run(*bind, "--claim", "repository=org/app").exit_code == 0
    assert run(*bind, "--claim", "sub=x").exit_code == 1  # bound already: refused
    assert run(*bind, "--claim", "sub=repo:org/app:*", "--replace").exit_code == 0
    assert run("clients", "unbind", client_id, "--issuer", issuer).exit_code == 0
    assert run(*bind, "--claim", "sub=x").exit_code == 0
    assert run("trust", "remove", issuer).exit_code == 1  # a client is bound: refused
    assert run("trust", "remove", issuer, "--cascade").exit_code == 0

    events = audit_list(run)
    assert kinds(events) == [
        "trust.added",
        "client.created",
        "binding.added",
        "binding.added",
        "binding.removed",
        "binding.added",
        "trust.removed",
        "binding.removed",
    ]
    assert all(event["actor"] == OPERATOR for event in events)
    added, removed = events[0], events[6]
    assert (added["subject"], added["client_id"]) == (issuer, None)
    assert added["details"] == {"audience": "aud", "jwks_uri": None}
    assert (removed["subject"], removed["details"]) == (issuer, {"unbound": 1})
    bindings = [event for event in events if str(event["kind"]).startswith("binding.")]
    details = [event["details"] for event in bindings]
    assert all(isinstance(detail, dict) and detail["issuer"] == issuer for detail in details)
    assert [(event["subject"], event["client_id"]) for event in bindings] == [
        (client_id, client_id)
    ] * 5
    assert [detail.get("claims") for detail in details if isinstance(detail, dict)] == [
        '{"repository":"org/app"}',
        '{"sub":"repo:org/app:*"}',
        None,
        '{"sub":"x"}',
        None,
    ]
    assert kinds(audit_list(run, "--client", client_id))[-1] == "binding.removed"


def test_list_filters_by_client_kind_and_time(run: Cli) -> None:
    first = str(create(run, "first")["client_id"])
    second = str(create(run, "second")["client_id"])
    assert run("clients", "disable", second).exit_code == 0
    assert [e["subject"] for e in audit_list(run, "--client", second)] == [second, second]
    assert kinds(audit_list(run, "--kind", "client.created")) == ["client.created"] * 2
    assert [e["subject"] for e in audit_list(run, "--limit", "1")] == [second]
    assert len(audit_list(run, "--since", "1h")) == 3
    assert audit_list(run, "--since", "2999-01-01T00:00:00Z") == []
    assert [e["subject"] for e in audit_list(run, "--client", first)] == [first]


def test_the_text_listing_has_one_line_per_event(run: Cli) -> None:
    client_id = str(create(run)["client_id"])
    result = run("audit", "list")
    assert result.exit_code == 0
    [line] = result.output.splitlines()
    assert "client.created" in line
    assert OPERATOR in line
    assert client_id in line


@pytest.mark.parametrize(
    ("option", "value"), [("--since", "yesterday"), ("--kind", "client.eaten")]
)
def test_bad_filters_are_one_line_errors(run: Cli, option: str, value: str) -> None:
    result = run("audit", "list", option, value)
    assert result.exit_code == 2
    assert option in result.output
