"""Helpers of the reports API tests: bearer tokens from the real token endpoint, reports
through HTTP, and cursors' base64url."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.http_helpers import bearer
from tests.support import Registered, issue

ALL_SCOPES = "reports:write profiles:read"
Headers = dict[str, str]


async def bearer_for(http: httpx.AsyncClient, who: Registered, scope: str = ALL_SCOPES) -> Headers:
    """An ``Authorization`` header with a fresh token of ``who`` for ``scope``."""
    return bearer(await issue(http, who, scope))


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


def b64url(data: bytes) -> str:
    """Unpadded base64url (RFC 4648 §5), as cursors are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
