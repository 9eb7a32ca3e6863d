"""HTTPS end to end (DESIGN.md §4.9): a real ``anti-grazer serve`` process given a
certificate answers a verifying client over TLS on 127.0.0.1.  The plain-HTTP guard of the
``serve`` command is tested in tests/cli/test_serve.py."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import TLSServer
from tests.e2e.process import read_token
from tests.http_helpers import assert_issued, assert_revoked_ok


@pytest.mark.slow
def test_token_and_revocation_over_https(tls_server: TLSServer) -> None:
    """With --tls-cert/--tls-key the server speaks HTTPS; a client verifying against the
    CA gets a token and revokes it."""
    client = tls_server.client
    assert tls_server.base_url.startswith("https://127.0.0.1:")
    with httpx.Client(
        base_url=tls_server.base_url, verify=tls_server.ssl_context(), timeout=10.0
    ) as http:
        issued = http.post(
            "/oauth/token",
            data={
                "client_id": client.client_id,
                "client_secret": client.client_secret,
                "grant_type": "client_credentials",
            },
        )
        token = assert_issued(issued, "profiles:read")
        revoked = http.post(
            "/oauth/revoke",
            data={"token": token},
            auth=(client.client_id, client.client_secret),
        )
        assert_revoked_ok(revoked)
    record = read_token(tls_server.database_path, token)
    assert record is not None
    assert record.revoked_at is not None


@pytest.mark.slow
def test_https_certificate_is_not_trusted_without_the_ca(tls_server: TLSServer) -> None:
    """The server presents the test CA's certificate: a client trusting only the system
    CAs refuses the connection."""
    with (
        httpx.Client(base_url=tls_server.base_url, timeout=10.0) as http,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        http.get("/health")
