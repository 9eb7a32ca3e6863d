"""Smoke test of the token endpoint through HTTP (RFC 6749 §4.4)."""

from __future__ import annotations

import httpx

from tests.http_helpers import assert_issued
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
    token = assert_issued(response, "profiles:read")
    assert token.startswith("ag_at_")
