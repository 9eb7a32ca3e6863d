"""``anti-grazer keys ...`` (cli/keys.py) on a SQLite file: every command with its text
and ``--json`` output, the rotation with overlap it enforces, and every refusal a single
clear line with status 1 that changes nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import Result

from anti_grazer.protocol.models import SigningKey
from tests.cli.helpers import Cli
from tests.jwt_helpers import KEY_ENCRYPTION_KEY

KEK = {"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY}
# Verifiers cache nothing: a created key may be activated at once.
NO_WAIT = {**KEK, "ANTI_GRAZER_JWKS_MAX_AGE_SECONDS": "0", "ANTI_GRAZER_CACHE_TTL_SECONDS": "0"}
NEEDS_KEK = (
    "needs ANTI_GRAZER_KEY_ENCRYPTION_KEY (base64url of 32 random bytes), which is not set\n"
)


def ok(result: Result) -> Any:
    """The JSON a successful ``--json`` command printed on one line."""
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1
    return json.loads(result.stdout)


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: {message}\n"


def stored(run: Cli) -> list[SigningKey]:
    return list(run.stores(lambda s: s.signing_keys.list_keys()))


def create(run: Cli, *options: str, env: dict[str, str] = KEK) -> dict[str, Any]:
    created: dict[str, Any] = ok(run("keys", "create", *options, "--json", env=env))
    return created


def active(run: Cli, env: dict[str, str] = NO_WAIT) -> str:
    """A key created and activated; its kid."""
    kid = str(create(run)["kid"])
    assert run("keys", "activate", kid, env=env).exit_code == 0
    return kid


def test_create_prints_the_new_published_key(run: Cli) -> None:
    before = datetime.now(UTC)
    created = create(run)
    (key,) = stored(run)
    assert created == {
        "kid": key.kid,
        "alg": "ES256",
        "state": "new",
        "published": True,
        "created_at": key.created_at.isoformat(),
        "activated_at": None,
        "retired_at": None,
        "published_until": None,
        # JWKS_MAX_AGE_SECONDS (300) plus CACHE_TTL_SECONDS (1) after its creation.
        "activate_after": (key.created_at + timedelta(seconds=301)).isoformat(),
    }
    assert before <= key.created_at <= datetime.now(UTC)
    assert "d" not in json.loads(key.public_jwk)


def test_create_eddsa_in_text(run: Cli) -> None:
    result = run("keys", "create", "--alg", "EdDSA", env=KEK)
    assert result.exit_code == 0
    (key,) = stored(run)
    after = (key.created_at + timedelta(seconds=301)).isoformat()
    assert result.stdout == f"{key.kid} created (EdDSA): published now; activate it after {after}\n"
    assert key.alg == "EdDSA"


def test_create_refuses_without_the_key_encryption_key(run: Cli) -> None:
    refused(run("keys", "create"), "creating a signing key " + NEEDS_KEK.rstrip("\n"))
    assert stored(run) == []


def test_an_invalid_key_encryption_key_is_refused_without_echoing_it(run: Cli) -> None:
    value = "not-base64url-of-32-bytes"
    result = run("keys", "create", env={"ANTI_GRAZER_KEY_ENCRYPTION_KEY": value})
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: invalid settings: key_encryption_key: ")
    assert value not in result.output


def test_create_refuses_an_unknown_algorithm(run: Cli) -> None:
    result = run("keys", "create", "--alg", "RS256", env=KEK)
    assert result.exit_code == 2
    assert "'RS256' is not one of 'ES256', 'EdDSA'" in result.stderr


def test_list_in_text_and_json(run: Cli) -> None:
    assert run("keys", "list").stdout == ""
    assert ok(run("keys", "list", "--json")) == []
    first = active(run)
    second = str(create(run, "--alg", "EdDSA")["kid"])
    keys = {key.kid: key for key in stored(run)}
    listed = ok(run("keys", "list", "--json"))
    assert [(k["kid"], k["state"], k["alg"], k["published"]) for k in listed] == [
        (first, "active", "ES256", True),
        (second, "new", "EdDSA", True),
    ]
    assert run("keys", "list").stdout == "".join(
        f"{kid}  {state:7}  {alg:5}  created {keys[kid].created_at.isoformat()}\n"
        for kid, state, alg in ((first, "active", "ES256"), (second, "new", "EdDSA"))
    )


def test_activate_retires_the_previous_key_which_stays_published(run: Cli) -> None:
    first = active(run)
    second = str(create(run)["kid"])
    answer = ok(run("keys", "activate", second, "--json", env=NO_WAIT))
    keys = {key.kid: key for key in stored(run)}
    retired = keys[first]
    assert answer["activated"]["kid"] == second
    assert answer["activated"]["state"] == "active"
    assert answer["retired"]["kid"] == first
    assert answer["retired"]["state"] == "retired"
    assert answer["retired"]["published"] is True
    assert retired.retired_at is not None
    # MAX_ACCESS_TOKEN_TTL_SECONDS (86400) plus CACHE_TTL_SECONDS (0) after retirement.
    assert retired.published_until == retired.retired_at + timedelta(seconds=86400)
    assert answer["retired"]["published_until"] == retired.published_until.isoformat()
    assert keys[second].activated_at == retired.retired_at


def test_activate_in_text(run: Cli) -> None:
    first = active(run)
    second = str(create(run)["kid"])
    result = run("keys", "activate", second, env=NO_WAIT)
    assert result.exit_code == 0
    until = {k.kid: k for k in stored(run)}[first].published_until
    assert until is not None
    assert result.stdout == (
        f"{second} is the active signing key\n"
        f"{first} retired: published until {until.isoformat()}, deletable after\n"
    )


def test_activate_waits_for_verifiers_unless_forced(run: Cli) -> None:
    """A created key is published before it signs: activating it before every cached
    key set can hold it is refused, unless --force."""
    created = create(run)
    kid = created["kid"]
    refused(
        run("keys", "activate", kid, env=KEK),
        f"{kid} was published at {created['created_at']}; verifiers may cache the key set "
        f"until {created['activate_after']}: activate it then, or give --force",
    )
    assert stored(run)[0].activated_at is None
    assert ok(run("keys", "activate", kid, "--force", "--json", env=KEK))["retired"] is None
    assert stored(run)[0].is_active


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "activating a signing key " + NEEDS_KEK.rstrip("\n")),
        (
            {**NO_WAIT, "ANTI_GRAZER_KEY_ENCRYPTION_KEY": "A" * 43},
            "the private key of {kid} does not open with this key-encryption key",
        ),
    ],
    ids=["no-kek", "another-kek"],
)
def test_activate_needs_the_key_encryption_key_that_opens_it(
    run: Cli, env: dict[str, str], message: str
) -> None:
    """The server must be able to sign with the key it is told to use."""
    kid = str(create(run)["kid"])
    refused(run("keys", "activate", kid, "--force", env=env), message.format(kid=kid))
    assert not stored(run)[0].is_active


def test_activate_refuses_the_active_a_retired_and_an_unknown_key(run: Cli) -> None:
    first = active(run)
    second = active(run)
    refused(
        run("keys", "activate", second, env=NO_WAIT), f"{second} is already the active signing key"
    )
    refused(
        run("keys", "activate", first, env=NO_WAIT),
        f"{first} is retired: a retired key never signs again",
    )
    refused(run("keys", "activate", "nope", env=NO_WAIT), "no signing key 'nope'")


def test_retire_withdraws_a_key_that_never_signed(run: Cli) -> None:
    kid = str(create(run)["kid"])
    result = run("keys", "retire", kid)
    assert result.stdout == f"{kid} retired: it signed nothing, so it is no longer published\n"
    (key,) = stored(run)
    assert key.retired_at is not None
    assert key.published_until == key.retired_at
    refused(run("keys", "retire", kid), f"{kid} is already retired")


def test_retire_refuses_the_active_key(run: Cli) -> None:
    kid = active(run)
    refused(
        run("keys", "retire", kid, "--json"),
        f"{kid} is the active signing key: activate another key, which retires it",
    )
    assert stored(run)[0].is_active
    refused(run("keys", "retire", "nope"), "no signing key 'nope'")


def test_retire_json(run: Cli) -> None:
    kid = str(create(run)["kid"])
    answer = ok(run("keys", "retire", kid, "--json"))
    assert (answer["kid"], answer["state"], answer["published"]) == (kid, "expired", False)


def test_withdraw_unpublishes_a_compromised_key_at_once(run: Cli) -> None:
    """A retired key's publication (24 h by default) ends now; the active key is
    refused (a successor first), and so is a key no longer published."""
    first = active(run)
    refused(
        run("keys", "withdraw", first),
        f"{first} is the active signing key: activate another key first (--force if "
        "verifiers may not know it yet), then withdraw this one",
    )
    active(run)  # the successor: first is retired, published for a day
    result = run("keys", "withdraw", first)
    assert result.stdout == (
        f"{first} withdrawn: no longer published; the tokens it signed stop verifying\n"
    )
    key = {k.kid: k for k in stored(run)}[first]
    assert key.published_until is not None
    assert key.retired_at is not None
    assert key.published_until - key.retired_at < timedelta(minutes=1)
    refused(run("keys", "withdraw", first, "--json"), f"{first} is no longer published")
    refused(run("keys", "withdraw", "nope"), "no signing key 'nope'")


def test_delete_refuses_the_active_key_and_one_whose_tokens_may_be_valid(run: Cli) -> None:
    first = active(run)
    refused(
        run("keys", "delete", first), f"{first} is the active signing key: it cannot be deleted"
    )
    active(run)
    until = {k.kid: k for k in stored(run)}[first].published_until
    assert until is not None
    refused(
        run("keys", "delete", first, "--json"),
        f"tokens signed by {first} may be valid until {until.isoformat()}: delete it after that",
    )
    assert len(stored(run)) == 2
    refused(run("keys", "delete", "nope"), "no signing key 'nope'")


def test_delete_a_key_once_its_tokens_expired(run: Cli) -> None:
    """Tokens live at most MAX_ACCESS_TOKEN_TTL_SECONDS: one second here."""
    short = {
        **NO_WAIT,
        "ANTI_GRAZER_MAX_ACCESS_TOKEN_TTL_SECONDS": "1",
        "ANTI_GRAZER_ACCESS_TOKEN_TTL_SECONDS": "1",
    }
    first = active(run, short)
    second = active(run, short)
    time.sleep(1.05)
    answer = ok(run("keys", "delete", first, "--json"))
    assert (answer["kid"], answer["state"], answer["deleted"]) == (first, "expired", True)
    assert [key.kid for key in stored(run)] == [second]


def test_delete_a_key_that_never_signed(run: Cli) -> None:
    kid = str(create(run)["kid"])
    assert run("keys", "delete", kid).stdout == f"{kid} deleted\n"
    assert stored(run) == []
