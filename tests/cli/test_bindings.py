"""``anti-grazer clients bind / unbind`` (cli/bindings.py) and the bindings ``clients
show`` lists: a client authenticated by the tokens of a trusted issuer whose claims match
every ``--claim`` rule (workload identity federation).  Every refusal is one clear line
with status 1 that changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import Result

from tests.cli.helpers import UNKNOWN_ID, Cli, create

ISSUER = "https://token.actions.githubusercontent.com"


def ok(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def trusted_client(run: Cli) -> str:
    """A client, and the issuer trusted (without fetching its keys)."""
    assert run("trust", "add", ISSUER, "--audience", "aud", "--no-check").exit_code == 0
    return str(create(run)["client_id"])


def bindings_of(run: Cli, client_id: str) -> list[Any]:
    """The client's bindings as ``clients show`` prints them: none, no ``bindings``."""
    shown = ok(run("clients", "show", client_id, "--json"))
    assert shown.get("bindings") != []
    bindings: list[Any] = shown.get("bindings", [])
    return bindings


def test_bind_stores_every_rule_and_show_lists_them(run: Cli) -> None:
    client_id = trusted_client(run)
    before = datetime.now(UTC)
    bound = ok(
        run(
            *("clients", "bind", client_id, "--issuer", ISSUER),
            *("--claim", "repository=org/app", "--claim", "ref=refs/heads/*", "--json"),
        )
    )
    created_at = datetime.fromisoformat(bound.pop("created_at"))
    assert before <= created_at <= datetime.now(UTC)
    assert bound == {
        "client_id": client_id,
        "issuer": ISSUER,
        "claims": {"ref": "refs/heads/*", "repository": "org/app"},
    }
    assert bindings_of(run, client_id) == [{**bound, "created_at": created_at.isoformat()}]
    shown = ok(run("clients", "show", client_id, "--json"))
    assert shown["token_endpoint_auth_method"] == "client_secret_basic"  # its secret stays


def test_bind_prints_a_line_without_json(run: Cli) -> None:
    client_id = trusted_client(run)
    result = run("clients", "bind", client_id, "--issuer", ISSUER, "--claim", "sub=repo:org/*")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{client_id} bound to {ISSUER}: sub=repo:org/*\n"


def test_a_second_binding_to_the_issuer_needs_replace(run: Cli) -> None:
    client_id = trusted_client(run)
    ok(run("clients", "bind", client_id, "--issuer", ISSUER, "--claim", "sub=a", "--json"))
    refused(
        run("clients", "bind", client_id, "--issuer", ISSUER, "--claim", "sub=b"),
        f"{client_id} is bound to {ISSUER} already (--replace changes its rules)",
    )
    assert [b["claims"] for b in bindings_of(run, client_id)] == [{"sub": "a"}]
    replaced = ["--claim", "sub=b", "--replace", "--json"]
    ok(run("clients", "bind", client_id, "--issuer", ISSUER, *replaced))
    assert [b["claims"] for b in bindings_of(run, client_id)] == [{"sub": "b"}]


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (["sub"], "a claim rule is NAME=PATTERN, e.g. sub=repo:org/app:*: 'sub'"),
        (["sub=a", "sub=b"], "each claim may be named by one rule only"),
        (["iss=x"], "the claim 'iss' is checked by the server itself; bind on others"),
    ],
)
def test_unusable_rules_are_refused(run: Cli, claims: list[str], message: str) -> None:
    client_id = trusted_client(run)
    options = [part for claim in claims for part in ("--claim", claim)]
    refused(run("clients", "bind", client_id, "--issuer", ISSUER, *options), message)
    assert bindings_of(run, client_id) == []


def test_a_binding_needs_a_rule(run: Cli) -> None:
    """Without a rule every token of the issuer for the audience would do: required."""
    client_id = trusted_client(run)
    result = run("clients", "bind", client_id, "--issuer", ISSUER)
    assert result.exit_code == 2
    assert "Missing option '--claim'" in result.stderr


def test_the_client_and_the_issuer_must_exist(run: Cli) -> None:
    client_id = trusted_client(run)
    refused(
        run("clients", "bind", UNKNOWN_ID, "--issuer", ISSUER, "--claim", "sub=x"),
        f"no client with id {UNKNOWN_ID!r}",
    )
    other = "https://other.example"
    refused(
        run("clients", "bind", client_id, "--issuer", other, "--claim", "sub=x"),
        f"{other} is not a trusted issuer ('anti-grazer trust add' first)",
    )


def test_unbind(run: Cli) -> None:
    client_id = trusted_client(run)
    ok(run("clients", "bind", client_id, "--issuer", ISSUER, "--claim", "sub=x", "--json"))
    unbound = ok(run("clients", "unbind", client_id, "--issuer", ISSUER, "--json"))
    assert unbound == {"client_id": client_id, "issuer": ISSUER, "unbound": True}
    assert bindings_of(run, client_id) == []
    refused(
        run("clients", "unbind", client_id, "--issuer", ISSUER),
        f"{client_id} is not bound to {ISSUER}",
    )


def test_a_deleted_client_leaves_no_binding(run: Cli) -> None:
    client_id = trusted_client(run)
    ok(run("clients", "bind", client_id, "--issuer", ISSUER, "--claim", "sub=x", "--json"))
    assert run("clients", "delete", client_id).exit_code == 0
    assert ok(run("trust", "list", "--json"))[0]["clients"] == []
