"""A client's audiences on the command line (RFC 8707 resource indicators, issue 17 item
4): ``clients create --audience URI`` (repeatable, the first the default), ``clients
update ID`` for them and the other settings ``create`` takes, and ``show``/``list``
printing them.  Every refusal is one clear line, with nothing changed."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import (
    DEFAULT_LIMITS,
    STORE_NOTICE,
    UNKNOWN_ID,
    Cli,
    create,
    describe,
    describe_secrets,
)
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

REPORTS = "https://reports.example.com/v1"
CALENDAR = "urn:example:calendar"


def test_create_with_audiences(run: Cli) -> None:
    """Each ``--audience`` once, in the order given; ``create``, ``show`` and ``list``
    print them; a token request that names none gets the first (RFC 8707 §2 default)."""
    created = create(
        run, "svc", "--audience", REPORTS, "--audience", CALENDAR, "--audience", REPORTS
    )
    client_id = str(created["client_id"])
    stored = run.client(client_id)
    assert stored is not None
    assert stored.audiences == (REPORTS, CALENDAR)
    assert created["audiences"] == [REPORTS, CALENDAR]
    shown = json.loads(run("clients", "show", client_id).stdout)
    assert shown == {
        **describe(stored),
        "secrets": describe_secrets(stored),
        "limits": DEFAULT_LIMITS,
    }
    assert json.loads(run("clients", "list", "--json").stdout) == [describe(stored)]
    assert run("clients", "list").stdout == (
        f"{client_id}  enabled   svc  []  default []  audiences [{REPORTS} {CALENDAR}]\n"
    )
    token = run.issue(client_id, str(created["client_secret"]))
    assert token is not None
    record = run.token(token)
    assert record is not None
    assert record.audience == (REPORTS,)


@pytest.mark.parametrize(
    ("audience", "problem"),
    [
        (
            "reports.example.com",
            "is not an absolute URI (RFC 3986 §4.3: a scheme, ':', then URI characters)",
        ),
        (
            "https://reports.example.com/ v1",
            "is not an absolute URI (RFC 3986 §4.3: a scheme, ':', then URI characters)",
        ),
        (REPORTS + "#part", "has a fragment (RFC 8707 §2: it MUST NOT)"),
        (REPORTS + "?tenant=a", "has a query (RFC 8707 §2: it SHOULD NOT; not accepted here)"),
        ("https://x/" + "a" * 2040, "is longer than 2048 characters"),
    ],
    ids=["relative", "space", "fragment", "query", "too-long"],
)
def test_create_refuses_an_audience_rfc8707_refuses(run: Cli, audience: str, problem: str) -> None:
    """RFC 8707 §2: "MUST be an absolute URI", "MUST NOT include a fragment"; a query
    "SHOULD NOT" be there, and we do not register one (protocol/audience.py says why)."""
    result = run("clients", "create", "svc", "--audience", CALENDAR, "--audience", audience)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: the audience {audience!r} {problem}\n"
    assert run("clients", "list").stdout == ""


# -- clients update ---------------------------------------------------------------------


def test_update_replaces_and_removes_the_audiences(run: Cli) -> None:
    created = create(run, "svc", "--audience", REPORTS)
    client_id = str(created["client_id"])
    before = run.client(client_id)
    assert before is not None
    result = run("clients", "update", client_id, "--audience", CALENDAR, "--audience", REPORTS)
    assert (result.exit_code, result.output) == (0, f"{client_id} updated\n")
    after = run.client(client_id)
    assert after is not None
    assert after.audiences == (CALENDAR, REPORTS)
    assert (after.created_at, after.secrets) == (before.created_at, before.secrets)
    assert after.updated_at > before.updated_at
    cleared = run("clients", "update", client_id, "--no-audience", "--json")
    assert cleared.exit_code == 0
    stored = run.client(client_id)
    assert stored is not None
    assert stored.audiences == ()
    assert json.loads(cleared.stdout) == describe(stored)
    assert cleared.stdout.count("\n") == 1


def test_update_changes_the_other_settings_create_takes(run: Cli) -> None:
    """Only the settings given change; each is checked as ``create`` checks it."""
    created = create(run)  # --scope "a b" --default-scope a --token-ttl 60
    client_id, secret = str(created["client_id"]), str(created["client_secret"])
    result = run(
        "clients",
        "update",
        client_id,
        *("--name", "renamed", "--scope", "a c", "--default-scope", "c"),
        *("--no-token-ttl", "--introspect", "--json"),
    )
    assert result.exit_code == 0, result.output
    stored = run.client(client_id)
    assert stored is not None
    assert json.loads(result.stdout) == describe(stored)
    assert (stored.name, stored.allowed_scopes, stored.default_scopes) == (
        "renamed",
        frozenset({"a", "c"}),
        frozenset({"c"}),
    )
    assert (stored.token_ttl_seconds, stored.can_introspect) == (None, True)
    assert (
        run("clients", "update", client_id, "--token-ttl", "30", "--no-introspect").exit_code == 0
    )
    again = run.client(client_id)
    assert again is not None
    assert (again.token_ttl_seconds, again.can_introspect, again.name) == (30, False, "renamed")
    assert run.issue(client_id, secret) is not None  # the secret is untouched


def test_update_to_jwt_warns_without_the_key_encryption_key(run: Cli) -> None:
    client_id = str(create(run)["client_id"])
    result = run("clients", "update", client_id, "--token-format", "jwt")
    assert result.exit_code == 0
    assert result.stderr.startswith("Warning: ANTI_GRAZER_KEY_ENCRYPTION_KEY is not set")
    quiet = run(
        "clients",
        "update",
        client_id,
        "--token-format",
        "opaque",
        env={"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY},
    )
    assert (quiet.exit_code, quiet.stderr) == (0, "")
    stored = run.client(client_id)
    assert stored is not None
    assert stored.token_format == "opaque"


@pytest.mark.parametrize(
    ("options", "status", "message"),
    [
        (["--scope", "b"], 1, "Error: the default scope must be part of the allowed scope\n"),
        (["--scope", 'a "b'], 1, "Error: invalid scope: 'a \"b'\n"),
        (["--name", " "], 1, "Error: the client name must not be empty\n"),
        (
            ["--audience", "not-a-uri"],
            1,
            "Error: the audience 'not-a-uri' is not an absolute URI (RFC 3986 §4.3: a "
            "scheme, ':', then URI characters)\n",
        ),
    ],
)
def test_update_refusals_change_nothing(
    run: Cli, options: list[str], status: int, message: str
) -> None:
    created = create(run, "svc", "--scope", "a b", "--default-scope", "a", "--audience", REPORTS)
    client_id = str(created["client_id"])
    before = run.client(client_id)
    result = run("clients", "update", client_id, *options)
    assert (result.exit_code, result.stdout, result.stderr) == (status, "", message)
    assert run.client(client_id) == before


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "give at least one setting to change (see --help)"),
        (["--audience", REPORTS, "--no-audience"], "give --audience or --no-audience, not both"),
        (["--token-ttl", "5", "--no-token-ttl"], "give --token-ttl or --no-token-ttl, not both"),
    ],
)
def test_update_usage_errors(run: Cli, options: list[str], message: str) -> None:
    client_id = str(create(run)["client_id"])
    before = run.client(client_id)
    result = run("clients", "update", client_id, *options)
    assert result.exit_code == 2
    assert f"Error: {message}" in result.stderr
    assert run.client(client_id) == before


def test_update_of_an_unknown_client(run: Cli) -> None:
    result = run("clients", "update", UNKNOWN_ID, "--name", "x")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"Error: no client with id {UNKNOWN_ID!r}\n"


def test_create_text_output_is_unchanged_by_audiences(run: Cli) -> None:
    """The id and secret lines, and the notice, as for any client."""
    result = run("clients", "create", "svc", "--audience", REPORTS)
    assert result.exit_code == 0
    assert result.stdout.startswith("client_id:     ag_ci_")
    assert result.stderr == STORE_NOTICE
