"""Third-party OAuth clients against the real server's reports API: a token from
``POST /oauth/token`` works end to end (RFC 6749 §4.4 then RFC 6750 §2.1)."""

from __future__ import annotations

import httpx
import httpx_auth
import pytest
from authlib.integrations.requests_client import OAuth2Session

from tests.e2e.conftest import E2EServer

pytestmark = pytest.mark.slow

REPORT = {"platform": "x", "profile_id": "clients-e2e", "reporter_id": "reporter-1"}


def test_httpx_auth_client_credentials_reports_and_reads(e2e_server: E2EServer) -> None:
    """httpx-auth's ``OAuth2ClientCredentials`` fetches a token (Basic) and uses it."""
    auth = httpx_auth.OAuth2ClientCredentials(
        f"{e2e_server.base_url}/oauth/token",
        client_id=e2e_server.client.client_id,
        client_secret=e2e_server.client.client_secret,
        scope="reports:write profiles:read",
    )
    with httpx.Client(base_url=e2e_server.base_url, auth=auth, timeout=10) as client:
        created = client.post("/v1/reports", json=REPORT)
        assert created.status_code in (200, 201), created.text
        profile = client.get("/v1/profiles/x/clients-e2e")
        assert profile.status_code == 200
        assert profile.json()["reporters"] >= 1
        assert profile.json()["status"] == "reported"


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_authlib_client_reads_profile_and_revoked_token_is_refused(
    e2e_server: E2EServer, method: str
) -> None:
    """Authlib's ``OAuth2Client`` fetches a token, reads a profile, revokes the token,
    and the API refuses it from then on (RFC 7009 §2.2, RFC 6750 §3.1)."""
    with OAuth2Session(
        e2e_server.client.client_id,
        e2e_server.client.client_secret,
        token_endpoint_auth_method=method,
        scope="profiles:read",
    ) as session:
        token = session.fetch_token(
            f"{e2e_server.base_url}/oauth/token", grant_type="client_credentials"
        )
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "profiles:read"
        read = session.get(f"{e2e_server.base_url}/v1/profiles/facebook/authlib", timeout=10)
        assert read.status_code == 200
        assert read.json()["status"] == "clear"
        revoked = session.revoke_token(
            f"{e2e_server.base_url}/oauth/revoke", token=token["access_token"]
        )
        assert revoked.status_code == 200
        refused = session.get(f"{e2e_server.base_url}/v1/profiles/facebook/authlib", timeout=10)
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        assert 'error="invalid_token"' in refused.headers["www-authenticate"]
