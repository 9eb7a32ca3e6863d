"""``anti-grazer clients ...`` (cli/clients.py) on a SQLite file: exact output, the effects
checked through the stores and the protocol layer, and every error a single clear line
with a non-zero status that changes nothing (DESIGN.md §4.1, §4.5, §5)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from anti_grazer.protocol.tokens import client_secret_digest
from tests.cli.helpers import (
    DEFAULT_LIMITS,
    STORE_NOTICE,
    UNKNOWN_ID,
    Cli,
    create,
    create_bare,
    describe,
    describe_secrets,
)
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

# -- clients create -------------------------------------------------------------------


def test_create_json_prints_one_object_with_id_and_secret(run: Cli) -> None:
    result = run(
        "clients",
        "create",
        "svc",
        "--scope",
        "a b",
        "--default-scope",
        "a",
        "--token-ttl",
        "60",
        "--json",
    )
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1
    created = json.loads(result.stdout)
    client_id, secret = created["client_id"], created["client_secret"]
    assert client_id.startswith("ag_ci_")
    assert len(client_id) == 28
    assert secret.startswith("ag_cs_")
    assert len(secret) == 55
    stored = run.client(client_id)
    assert stored is not None
    assert created == {
        **describe(stored),
        "client_secret": secret,
        "secret_id": stored.secrets[0].secret_id,
    }
    assert stored.name == "svc"
    assert stored.allowed_scopes == frozenset({"a", "b"})
    assert stored.default_scopes == frozenset({"a"})
    assert stored.token_ttl_seconds == 60
    assert stored.enabled is True
    assert [s.digest for s in stored.secrets] == [client_secret_digest(secret)]
    assert stored.secrets[0].expires_at is None


def test_create_text_prints_id_and_secret_once(run: Cli) -> None:
    result = run("clients", "create", "svc", "--scope", "a b", "--default-scope", "a")
    assert result.exit_code == 0
    (listed,) = json.loads(run("clients", "list", "--json").stdout)
    client_id = listed["client_id"]
    secret_line = result.stdout.splitlines()[1]
    secret = secret_line.removeprefix("client_secret: ")
    assert result.stdout == f"client_id:     {client_id}\nclient_secret: {secret}\n"
    assert result.stderr == STORE_NOTICE
    assert result.output.count(secret) == 1
    assert result.output.count(client_id) == 1
    assert run.issue(client_id, secret) is not None


def test_created_client_gets_tokens_with_its_ttl_and_default_scope(run: Cli) -> None:
    created = create(run)
    token = run.issue(str(created["client_id"]), str(created["client_secret"]))
    assert token is not None
    record = run.token(token)
    assert record is not None
    assert record.scopes == frozenset({"a"})
    assert record.expires_at - record.issued_at == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("options", "stored_default", "effective"),
    [
        ((), "", ""),
        (("--scope", "b a"), "", "a b"),
        (("--scope", "b a", "--default-scope", "b"), "b", "b"),
        (("--scope", "b a", "--default-scope", "a b"), "a b", "a b"),
    ],
    ids=["no-options", "scope-only", "explicit-subset", "explicit-all"],
)
def test_created_client_without_default_scope_defaults_to_every_allowed_scope(
    run: Cli, options: tuple[str, ...], stored_default: str, effective: str
) -> None:
    """RFC 6749 §3.3, DESIGN.md §4.5: without ``--default-scope`` a token request that
    names no scope gets every allowed scope; ``create``, ``show`` and ``list`` print that
    effective default, while the stored default stays what the operator gave."""
    created = create(run, "svc", *options) if options else create_bare(run)
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    assert created["default_scope"] == effective
    stored = run.client(client_id)
    assert stored is not None
    assert stored.default_scopes == frozenset(stored_default.split())
    assert json.loads(run("clients", "show", client_id).stdout)["default_scope"] == effective
    (listed,) = json.loads(run("clients", "list", "--json").stdout)
    assert listed["default_scope"] == effective
    allowed = " ".join(sorted(stored.allowed_scopes))
    assert run("clients", "list").stdout == (
        f"{client_id}  enabled   svc  [{allowed}]  default [{effective}]\n"
    )
    token = run.issue(client_id, secret)
    assert token is not None
    record = run.token(token)
    assert record is not None
    assert record.scopes == frozenset(effective.split())


def test_create_help_states_the_default_scope_rule(run: Cli) -> None:
    """The ``--default-scope`` help says what happens without it."""
    result = run("clients", "create", "--help")
    assert result.exit_code == 0
    assert "(default: all of --scope)" in " ".join(result.stdout.split())


def test_create_with_the_jwt_token_format(run: Cli) -> None:
    """Issue 16 item 3: JWT access tokens (RFC 9068) are opt-in per client; opaque stays
    the default.  The format is shown by ``show --json`` and ``list --json``."""
    kek = {"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY}
    result = run("clients", "create", "svc", "--token-format", "jwt", "--json", env=kek)
    assert (result.exit_code, result.stderr) == (0, "")
    created = json.loads(result.stdout)
    assert created["token_format"] == "jwt"
    shown = run("clients", "show", str(created["client_id"]), "--json")
    assert shown.stdout.count("\n") == 1
    assert json.loads(shown.stdout)["token_format"] == "jwt"
    stored = run.client(str(created["client_id"]))
    assert stored is not None
    assert stored.token_format == "jwt"
    assert create_bare(run, "plain")["token_format"] == "opaque"


def test_a_jwt_client_without_the_key_encryption_key_is_warned_about(run: Cli) -> None:
    """The server cannot sign its tokens yet: registered all the same, with a warning
    naming the setting."""
    result = run("clients", "create", "svc", "--token-format", "jwt", "--json")
    assert result.exit_code == 0
    assert result.stderr == (
        "Warning: ANTI_GRAZER_KEY_ENCRYPTION_KEY is not set: the server cannot sign this "
        "client's JWT access tokens (its token requests get server_error) until it is set "
        "and a signing key is active.\n"
    )
    assert json.loads(result.stdout)["token_format"] == "jwt"


def test_create_refuses_an_unknown_token_format(run: Cli) -> None:
    result = run("clients", "create", "svc", "--token-format", "paseto")
    assert result.exit_code == 2
    assert "'paseto' is not one of 'opaque', 'jwt'" in result.stderr
    assert run("clients", "list").stdout == ""


def test_create_introspect_registers_a_resource_server(run: Cli) -> None:
    """``--introspect``: the client may introspect any token (RFC 7662 §2.1); ``create``,
    ``show`` and ``list`` say so, and a client created without it may not."""
    server = create(run, "resource server", "--introspect")
    plain = create_bare(run, "plain")
    assert server["introspect"] is True
    assert plain["introspect"] is False
    server_id, plain_id = str(server["client_id"]), str(plain["client_id"])
    stored = run.client(server_id)
    assert stored is not None
    assert stored.can_introspect is True
    assert stored.allowed_scopes == frozenset()
    assert json.loads(run("clients", "show", server_id).stdout)["introspect"] is True
    listed = {
        c["client_id"]: c["introspect"] for c in json.loads(run("clients", "list", "--json").stdout)
    }
    assert listed == {server_id: True, plain_id: False}
    assert run("clients", "list").stdout == (
        f"{server_id}  enabled   resource server  []  default []  introspect\n"
        f"{plain_id}  enabled   plain  []  default []\n"
    )


# -- list, show -----------------------------------------------------------------------


def test_list(run: Cli) -> None:
    assert run("clients", "list").stdout == ""
    assert run("clients", "list", "--json").stdout == "[]\n"
    first = create(run, "first")
    second = create(run, "second", "--scope", "reports:write")
    assert run("clients", "disable", str(second["client_id"])).exit_code == 0
    listed = run("clients", "list")
    assert listed.exit_code == 0
    assert listed.stdout == (
        f"{first['client_id']}  enabled   first  [a b]  default [a]\n"
        f"{second['client_id']}  disabled  second  [reports:write]  default [reports:write]\n"
    )
    clients = run.stores(lambda s: s.clients.list_clients())
    as_json = run("clients", "list", "--json")
    assert json.loads(as_json.stdout) == [describe(c) for c in clients]
    for created in (first, second):
        assert str(created["client_secret"]) not in listed.output + as_json.output
    assert "sha256$" not in listed.output + as_json.output


def test_show_never_prints_the_secret_or_its_digest(run: Cli) -> None:
    created = create(run)
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    result = run("clients", "show", client_id)
    assert result.exit_code == 0
    stored = run.client(client_id)
    assert stored is not None
    shown = {**describe(stored), "secrets": describe_secrets(stored), "limits": DEFAULT_LIMITS}
    assert json.loads(result.stdout) == shown
    assert result.stdout == json.dumps(shown, indent=2) + "\n"
    assert secret not in result.output
    digest = stored.secrets[0].digest
    assert digest not in result.output
    assert digest.removeprefix("sha256$") not in result.output
    assert "sha256" not in result.output
    assert "ag_cs_" not in result.output


# -- disable, enable, delete, rotate-secret -------------------------------------------


def test_disable_and_enable(run: Cli) -> None:
    created = create(run)
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    result = run("clients", "disable", client_id)
    assert (result.exit_code, result.output) == (0, f"{client_id} disabled\n")
    stored = run.client(client_id)
    assert stored is not None
    assert stored.enabled is False
    assert run.issue(client_id, secret) is None
    result = run("clients", "enable", client_id)
    assert (result.exit_code, result.output) == (0, f"{client_id} enabled\n")
    assert run.issue(client_id, secret) is not None


def test_delete_removes_the_client_and_its_tokens(run: Cli) -> None:
    created = create(run)
    kept = create(run, "kept")
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    token = run.issue(client_id, secret)
    kept_token = run.issue(str(kept["client_id"]), str(kept["client_secret"]))
    assert token is not None
    assert kept_token is not None
    result = run("clients", "delete", client_id)
    assert (result.exit_code, result.output) == (0, f"{client_id} deleted\n")
    assert run.client(client_id) is None
    assert run.token(token) is None
    assert run.token(kept_token) is not None
    assert run.issue(client_id, secret) is None
    again = run("clients", "delete", client_id)
    assert (again.exit_code, again.output) == (1, f"Error: no client with id {client_id!r}\n")


@pytest.mark.parametrize("as_json", [True, False])
def test_rotate_secret(run: Cli, as_json: bool) -> None:
    created = create(run)
    client_id, old = str(created["client_id"]), str(created["client_secret"])
    before = run.client(client_id)
    overlap = ["--overlap", "0"]
    result = run("clients", "rotate-secret", client_id, *overlap, *(["--json"] if as_json else []))
    assert result.exit_code == 0
    after = run.client(client_id)
    assert after is not None
    secret_id = after.secrets[-1].secret_id
    if as_json:
        rotated = json.loads(result.stdout)
        assert set(rotated) == {"client_id", "client_secret", "secret_id", "expires_at"}
        assert rotated["client_id"] == client_id
        assert rotated["secret_id"] == secret_id
        assert rotated["expires_at"] is None
        new = rotated["client_secret"]
        assert result.stderr == ""
    else:
        new = result.stdout.splitlines()[1].removeprefix("client_secret: ")
        assert result.stdout == (
            f"client_id:     {client_id}\nclient_secret: {new}\nsecret_id:     {secret_id}\n"
        )
        assert result.stderr == STORE_NOTICE
    assert new.startswith("ag_cs_")
    assert new != old
    assert run.issue(client_id, old) is None  # --overlap 0: the old secret ends at once
    assert run.issue(client_id, new) is not None
    assert before is not None
    assert [s.digest for s in after.secrets] == [client_secret_digest(new)]
    assert after.created_at == before.created_at
    assert after.updated_at >= before.updated_at


# -- errors: one line, non-zero, nothing changed --------------------------------------


@pytest.mark.parametrize(
    "command", ["show", "enable", "disable", "delete", "rotate-secret", "retire-secret"]
)
def test_unknown_client_id(run: Cli, command: str) -> None:
    create(run)
    result = run("clients", command, UNKNOWN_ID)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no client with id {UNKNOWN_ID!r}\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--scope", 'a "b'], "Error: invalid scope: 'a \"b'\n"),
        (["--scope", "a\\b"], "Error: invalid scope: 'a\\\\b'\n"),
        (["--scope", "a b", "--default-scope", "é"], "Error: invalid scope: 'é'\n"),
        (
            ["--scope", "a b", "--default-scope", "c"],
            "Error: the default scope must be part of the allowed scope\n",
        ),
        (["--default-scope", "a"], "Error: the default scope must be part of the allowed scope\n"),
    ],
)
def test_create_with_bad_scope(run: Cli, options: list[str], message: str) -> None:
    result = run("clients", "create", "svc", *options)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message
    assert run("clients", "list").stdout == ""


def test_create_with_an_empty_name(run: Cli) -> None:
    result = run("clients", "create", "  ")
    assert (result.exit_code, result.stderr) == (1, "Error: the client name must not be empty\n")
    assert run("clients", "list").stdout == ""


def test_create_with_a_non_positive_ttl(run: Cli) -> None:
    result = run("clients", "create", "svc", "--token-ttl", "0")
    assert result.exit_code == 2
    assert "Error: Invalid value for '--token-ttl': 0 is not in the range x>=1." in result.stderr
    assert run("clients", "list").stdout == ""
