"""The seed's requests (seed/authentication.md) against the real ``anti-grazer serve``
process over a real socket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from tests.e2e.conftest import E2EServer
from tests.e2e.process import read_token
from tests.http_helpers import FORM, assert_invalid_client, assert_issued, assert_revoked_ok

pytestmark = pytest.mark.slow


@pytest.fixture
def http(e2e_server: E2EServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=e2e_server.base_url, timeout=10.0) as client:
        yield client


def issue(http: httpx.Client, e2e_server: E2EServer) -> str:
    """The seed's token request: credentials and grant type in the form body."""
    response = http.post(
        "/oauth/token",
        data={
            "client_id": e2e_server.client.client_id,
            "client_secret": e2e_server.client.client_secret,
            "grant_type": "client_credentials",
        },
    )
    assert response.status_code == 200
    token: str = response.json()["access_token"]
    return token


def test_health(http: httpx.Client) -> None:
    response = http.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_seed_token_request(http: httpx.Client, e2e_server: E2EServer) -> None:
    """Seed "Obtaining an Access Token" (RFC 6749 §4.4.2–4.4.3, §5.1): a form body with
    client_id, client_secret and grant_type gets a Bearer token living 3600 s."""
    client = e2e_server.client
    response = http.post(
        "/oauth/token",
        content=(
            f"client_id={client.client_id}&client_secret={client.client_secret}"
            "&grant_type=client_credentials"
        ),
        headers={"Content-Type": FORM},
    )
    token = assert_issued(response, "profiles:read")
    assert token.startswith("ag_at_")
    assert len(token) == 63
    record = read_token(e2e_server.database_path, token)
    assert record is not None
    assert record.client_id == client.client_id
    assert record.scopes == frozenset({"profiles:read"})
    assert record.expires_at - record.issued_at == timedelta(seconds=3600)
    assert record.revoked_at is None


def test_seed_revoke_request_without_credentials_is_refused(
    http: httpx.Client, e2e_server: E2EServer
) -> None:
    """The seed's revocation example carries no credentials: DESIGN.md §4.6 answers the
    seed's 401 invalid_client (RFC 7009 §2.1) and the token stays valid."""
    token = issue(http, e2e_server)
    response = http.post("/oauth/revoke", content=f"token={token}", headers={"Content-Type": FORM})
    assert_invalid_client(response)
    record = read_token(e2e_server.database_path, token)
    assert record is not None
    assert record.revoked_at is None


def test_seed_revoke_request_with_credentials(http: httpx.Client, e2e_server: E2EServer) -> None:
    """RFC 7009 §2.2: the owner's revocation answers an empty 200 and the token is
    revoked at once; revoking again still answers 200."""
    client = e2e_server.client
    token = issue(http, e2e_server)
    form = {"token": token, "client_id": client.client_id, "client_secret": client.client_secret}
    response = http.post("/oauth/revoke", data=form)
    assert_revoked_ok(response)
    record = read_token(e2e_server.database_path, token)
    assert record is not None
    assert record.revoked_at is not None
    again = http.post("/oauth/revoke", data=form)
    assert again.status_code == 200
    assert read_token(e2e_server.database_path, token) == record


@pytest.mark.parametrize("how", ["basic", "body"])
def test_client_authentication_failure_shape(
    http: httpx.Client, e2e_server: E2EServer, how: str
) -> None:
    """Seed "Error Handling", RFC 6749 §5.2: a wrong secret answers exactly 401
    invalid_client with the seed's description, no-store, and a Basic challenge."""
    form = {"grant_type": "client_credentials"}
    wrong = "ag_cs_" + "0" * 49
    if how == "basic":
        response = http.post("/oauth/token", data=form, auth=(e2e_server.client.client_id, wrong))
    else:
        response = http.post(
            "/oauth/token",
            data={**form, "client_id": e2e_server.client.client_id, "client_secret": wrong},
        )
    assert_invalid_client(response)


def test_logs_are_json_and_never_carry_a_secret_or_token(
    http: httpx.Client, e2e_server: E2EServer
) -> None:
    """DESIGN.md §4.8: the server's log lines are JSON and hold no token or secret."""
    token = issue(http, e2e_server)
    client = e2e_server.client
    http.post(
        "/oauth/revoke",
        data={"token": token},
        auth=(client.client_id, client.client_secret),
    )
    http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client.client_id, "x")
    )
    log = e2e_server.server.log_text()
    lines = [line for line in log.splitlines() if line]
    assert lines
    events = [json.loads(line) for line in lines]
    assert any(e.get("path") == "/oauth/revoke" and e.get("status") == 200 for e in events)
    assert token not in log
    assert client.client_secret not in log
    assert "ag_at_" not in log
    assert "ag_cs_" not in log
