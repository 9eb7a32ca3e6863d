"""Workload identity federation against a live ``anti-grazer serve`` (issue 17 item 2):
the operator trusts a stand-in OpenID issuer on 127.0.0.1 (``trust add``, which fetches
its keys by discovery) and binds a client to it (``clients bind``); a Kubernetes-shaped
service-account token and a GitHub-Actions-shaped token, sent as the client assertion
(RFC 7521 §4.2, RFC 7523 §2.2), get access tokens that the API accepts; a token of an
unbound subject, and a replayed one (RFC 7523 §3 item 7), get the one 401 of RFC 6749
§5.2, with the reason in the server's log and the token nowhere in it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from anti_grazer.protocol.jwt_assertion import REFUSED_EVENT
from tests.client_assertions import assertion_form, rsa_key
from tests.e2e.process import (
    CreatedClient,
    ServerProcess,
    cli_environment,
    create_client,
    run_cli,
    serving,
    sqlite_url,
)
from tests.guard.stand_in_server import StandInServer
from tests.guard.stand_in_server import serving as issuing
from tests.http_helpers import PROFILE, TOKEN, assert_invalid_client, assert_issued, bearer
from tests.readme import example
from tests.workload_tokens import AUDIENCE, github_claims, kubernetes_claims, platform_token

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Federated:
    """A live server trusting ``issuer``, with ``client`` bound to it."""

    server: ServerProcess
    issuer: StandInServer
    client: CreatedClient

    def present(self, token: str) -> httpx.Response:
        form = assertion_form(token, client_id=self.client.client_id)
        return httpx.post(self.server.base_url + TOKEN, data=form, timeout=10)

    def log_events(self) -> list[dict[str, Any]]:
        lines = self.server.log_text().splitlines()
        return [json.loads(line) for line in lines if line.startswith("{")]


def cli_ok(args: list[str], env: dict[str, str]) -> None:
    completed = run_cli(args, env)
    assert completed.returncode == 0, completed.stderr


@pytest.fixture(scope="module")
def federated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federated]:
    folder = tmp_path_factory.mktemp("e2e-federation")
    env = cli_environment(sqlite_url(folder / "anti-grazer.db"))
    client = create_client(env)
    with issuing(StandInServer(keys=[rsa_key()])) as issuer:
        cli_ok(["trust", "add", issuer.issuer, "--audience", AUDIENCE], env)
        rules = ["--claim", "sub=system:serviceaccount:prod:*"]
        cli_ok(["clients", "bind", client.client_id, "--issuer", issuer.issuer, *rules], env)
        github = "https://token.actions.githubusercontent.com"
        cli_ok(["trust", "add", github, "--audience", AUDIENCE, "--no-check"], env)
        with serving(env, folder / "server.log") as server:
            yield Federated(server, issuer, client)


def test_a_service_account_token_gets_an_access_token_the_api_accepts(
    federated: Federated,
) -> None:
    """RFC 7521 §4.2: the platform token authenticates the bound client; the access
    token it gets reads a profile (RFC 6750 §2.1); the access line names the client and,
    in place of a secret id, the issuer."""
    claims = kubernetes_claims(federated.issuer.issuer, datetime.now(UTC))
    token = platform_token(federated.issuer.keys[0], claims)
    access_token = assert_issued(federated.present(token), "profiles:read")
    profile = httpx.get(federated.server.base_url + PROFILE, headers=bearer(access_token))
    assert profile.status_code == 200
    issued = [
        e
        for e in federated.log_events()
        if e.get("event") == "request" and e.get("path") == TOKEN and e.get("status") == 200
    ]
    assert issued[-1]["client_id"] == federated.client.client_id
    assert issued[-1]["secret_id"] == f"federated:{federated.issuer.issuer}"


def test_an_unbound_subject_and_a_replay_are_refused_with_their_reasons_logged(
    federated: Federated,
) -> None:
    """RFC 7523 §3: the dev namespace matches no rule; a GitHub-shaped token with a
    ``jti`` works once (its repository bound), then is a replay."""
    issuer, key, now = federated.issuer.issuer, federated.issuer.keys[0], datetime.now(UTC)
    dev = platform_token(key, kubernetes_claims(issuer, now, "dev"))
    assert_invalid_client(federated.present(dev))
    github = platform_token(
        key, github_claims(issuer, now, sub="system:serviceaccount:prod:ci"), typ="JWT"
    )
    assert_issued(federated.present(github), "profiles:read")
    assert_invalid_client(federated.present(github))
    reasons = [e["reason"] for e in federated.log_events() if e.get("event") == REFUSED_EVENT]
    assert reasons[-2:] == [
        "claim 'sub' 'system:serviceaccount:dev:reporter' does not match the binding's "
        "'system:serviceaccount:prod:*'",
        "the token's jti was used before (a replay)",
    ]
    log = federated.server.log_text()
    for token in (dev, github):
        assert token.split(".")[2] not in log


def test_the_readme_python_example_reads_the_projected_token(
    federated: Federated, tmp_path: Path
) -> None:
    """The README's ``access_token()`` as written, but for the file, the client id and
    the server's URL: it posts the token file's content and gets an access token."""
    token_file = tmp_path / "token"
    claims = kubernetes_claims(federated.issuer.issuer, datetime.now(UTC), name="importer")
    token_file.write_text(platform_token(federated.issuer.keys[0], claims) + "\n")
    source = (
        example("workload-token")
        .replace("https://auth.example.com/oauth/token", federated.server.base_url + TOKEN)
        .replace('"ag_ci_..."', repr(federated.client.client_id))
        .replace('"/var/run/secrets/anti-grazer/token"', repr(str(token_file)))
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "workload-token", "exec"), namespace)  # noqa: S102
    access_token = namespace["access_token"]()
    profile = httpx.get(federated.server.base_url + PROFILE, headers=bearer(access_token))
    assert profile.status_code == 200


def test_the_cli_lists_what_the_server_uses(federated: Federated) -> None:
    """``trust list`` names both issuers and the client bound to the first."""
    env = cli_environment(sqlite_url(federated.server.log_path.parent / "anti-grazer.db"))
    completed = run_cli(["trust", "list", "--json"], env)
    assert completed.returncode == 0, completed.stderr
    listed = {item["issuer"]: item["clients"] for item in json.loads(completed.stdout)}
    assert listed == {
        federated.issuer.issuer: [federated.client.client_id],
        "https://token.actions.githubusercontent.com": [],
    }
