"""Helpers of the reports API tests: bearer tokens from the real token endpoint, and
reports through HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support import Registered

ALL_SCOPES = "reports:write profiles:read"
Headers = dict[str, str]


async def bearer(http: httpx.AsyncClient, who: Registered, scope: str = ALL_SCOPES) -> Headers:
    """An ``Authorization`` header with a fresh token of ``who`` for ``scope``."""
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(who.client_id, who.secret),
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def report(
    http: httpx.AsyncClient,
    headers: Headers,
    profile_id: str,
    reporter_id: str,
    platform: str = "facebook",
    **extra: Any,
) -> httpx.Response:
    """``POST /v1/reports``; asserts it was accepted (201 or 200)."""
    response = await http.post(
        "/v1/reports",
        json={"platform": platform, "profile_id": profile_id, "reporter_id": reporter_id, **extra},
        headers=headers,
    )
    assert response.status_code in (200, 201), response.text
    return response


def error_fields(response: httpx.Response) -> set[tuple[str | int, ...]]:
    """The ``loc`` of every error of a 422 body, e.g. ``("body", "platform")``."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/json"
    return {tuple(error["loc"]) for error in response.json()["detail"]}
