"""Smoke test of the token endpoint through HTTP (RFC 6749 §4.4)."""

from __future__ import annotations

import httpx

from tests.support import Registered


async def test_client_credentials_grant_issues_a_bearer_token(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6749 §4.4.3: a successful response carries token, type, lifetime and scope."""
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(registered.client_id, registered.secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "profiles:read"
    assert body["access_token"].startswith("ag_at_")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
