"""``anti-grazer tokens ...`` (cli/tokens.py) on a SQLite file: revoking a token (given
or read from standard input) and purging expired ones, with the effects checked through
the stores, and every error a single clear line with a non-zero status (DESIGN.md §5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from anti_grazer.protocol.jwt_assertion import replay_key
from anti_grazer.protocol.models import TokenRecord
from anti_grazer.protocol.tokens import access_token_digest, generate_access_token
from anti_grazer.store.runtime import OpenedStores
from tests.cli.helpers import NO_SUCH_TOKEN, NOT_A_TOKEN, Cli, create
from tests.jwt_helpers import KEY_ENCRYPTION_KEY
from tests.support import altered


def test_tokens_revoke(run: Cli) -> None:
    created = create(run)
    token = run.issue(str(created["client_id"]), str(created["client_secret"]))
    assert token is not None
    before = datetime.now(UTC)
    result = run("tokens", "revoke", token)
    assert (result.exit_code, result.output) == (0, "token revoked\n")
    record = run.token(token)
    assert record is not None
    assert record.revoked_at is not None
    assert before <= record.revoked_at <= datetime.now(UTC)
    # Revoking again succeeds and keeps the first revocation time.
    again = run("tokens", "revoke", token)
    assert (again.exit_code, again.output) == (0, "token revoked\n")
    assert run.token(token) == record


def test_tokens_revoke_a_jwt(run: Cli) -> None:
    """A JWT access token is revoked by its record, like an opaque one (RFC 9068 tokens
    are recorded: issue 16 item 3)."""
    kek = {"ANTI_GRAZER_KEY_ENCRYPTION_KEY": KEY_ENCRYPTION_KEY}
    assert run("db", "upgrade", env=kek).exit_code == 0
    created = create(run, "svc", "--token-format", "jwt")
    token = run.issue(str(created["client_id"]), str(created["client_secret"]))
    assert token is not None
    assert token.startswith("eyJ")
    result = run("tokens", "revoke", token)
    assert (result.exit_code, result.output) == (0, "token revoked\n")
    record = run.token(token)
    assert record is not None
    assert record.revoked_at is not None
    assert record.jti is not None


def test_tokens_revoke_reads_the_token_from_stdin(run: Cli) -> None:
    created = create(run)
    token = run.issue(str(created["client_id"]), str(created["client_secret"]))
    assert token is not None
    result = run("tokens", "revoke", "-", stdin=token + "\n")
    assert (result.exit_code, result.output) == (0, "token revoked\n")
    record = run.token(token)
    assert record is not None
    assert record.revoked_at is not None


def test_tokens_purge_expired(run: Cli) -> None:
    created = create(run)
    client_id = str(created["client_id"])
    now = datetime.now(UTC)
    expired = [
        TokenRecord(
            digest=access_token_digest(f"expired-{i}"),
            client_id=client_id,
            scopes=frozenset({"a"}),
            issued_at=now - timedelta(hours=2),
            expires_at=now - timedelta(hours=1, seconds=i),
        )
        for i in range(5)
    ]
    live = TokenRecord(
        digest=access_token_digest("live"),
        client_id=client_id,
        scopes=frozenset({"a"}),
        issued_at=now,
        expires_at=now + timedelta(hours=1),
    )

    async def add(stores: OpenedStores) -> None:
        for record in (*expired, live):
            await stores.tokens.add_token(record)

    run.stores(add)
    result = run("tokens", "purge-expired", "--batch-size", "2")
    assert (result.exit_code, result.output) == (0, "purged 5 expired tokens\n")
    for record in expired:
        assert run.record(record.digest) is None
    assert run.record(live.digest) == live
    again = run("tokens", "purge-expired")
    assert (again.exit_code, again.output) == (0, "purged 0 expired tokens\n")


def test_tokens_purge_expired_forgets_expired_client_assertions(run: Cli) -> None:
    """A used jti is remembered until its assertion expires (RFC 7523 §3 item 7), no
    longer: the command forgets what the janitor would (a private_key_jwt assertion's
    key and a federated token's alike)."""
    now = datetime.now(UTC)
    old, new = replay_key("ag_ci_client", "j1"), replay_key("federated:https://i.example", "j2")

    async def remember(stores: OpenedStores) -> None:
        await stores.assertion_replays.remember(old, now - timedelta(seconds=1))
        await stores.assertion_replays.remember(new, now + timedelta(hours=1))

    run.stores(remember)
    result = run("tokens", "purge-expired")
    assert (result.exit_code, result.output) == (
        0,
        "purged 0 expired tokens; forgot 1 used assertions\n",
    )
    later = now + timedelta(hours=1)
    assert run.stores(lambda s: s.assertion_replays.remember(old, later)) is True
    assert run.stores(lambda s: s.assertion_replays.remember(new, later)) is False


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", NOT_A_TOKEN),
        ("", NOT_A_TOKEN),
        (altered(generate_access_token(datetime.now(UTC))), NOT_A_TOKEN),
        (generate_access_token(datetime.now(UTC)), NO_SUCH_TOKEN),
    ],
)
def test_tokens_revoke_bad_token(run: Cli, token: str, message: str) -> None:
    result = run("tokens", "revoke", token)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message
