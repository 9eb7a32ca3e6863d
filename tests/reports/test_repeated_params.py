"""A query parameter given more than once on ``/v1`` is a 422 naming it, not its last
value taken silently (web/repeated_params.py)."""

from __future__ import annotations

import httpx
import pytest

from tests.reports.helpers import Headers, bearer_for
from tests.support import Registered


def repeated(*names: str) -> dict[str, list[dict[str, object]]]:
    return {
        "detail": [
            {
                "type": "repeated_parameter",
                "loc": ["query", name],
                "msg": "Parameter given more than once; give it once",
            }
            for name in names
        ]
    }


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("platform=facebook&platform=x", ["platform"]),
        ("limit=1&limit=2", ["limit"]),
        ("limit=1&limit=1", ["limit"]),
        ("since=2026-06-01T00:00:00Z&limit=5&since=2026-01-01T00:00:00Z", ["since"]),
        ("cursor=a&limit=2&cursor=b&limit=3&cursor=c", ["cursor", "limit"]),
        ("limit=2&unknown=1&unknown=2", ["unknown"]),
    ],
)
async def test_a_repeated_blocklist_parameter_is_422(
    http: httpx.AsyncClient, auth: Headers, query: str, names: list[str]
) -> None:
    response = await http.get(f"/v1/blocklist?{query}", headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == repeated(*names)


async def test_parameters_given_once_are_fine(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.get("/v1/blocklist?platform=x&limit=2", headers=auth)
    assert response.status_code == 200


async def test_every_v1_route_refuses_repeated_parameters(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    profile = await http.get("/v1/profiles/facebook/grazer?a=1&a=2", headers=auth)
    assert (profile.status_code, profile.json()) == (422, repeated("a"))
    body = {"platform": "facebook", "profile_id": "grazer", "reporter_id": "user-1"}
    created = await http.post("/v1/reports?a=1&a=2", json=body, headers=auth)
    assert (created.status_code, created.json()) == (422, repeated("a"))
    after = await http.get("/v1/profiles/facebook/grazer", headers=auth)
    assert after.json()["reporters"] == 0


async def test_the_guard_answers_before_repeated_parameters(
    http: httpx.AsyncClient, registered: Registered
) -> None:
    """RFC 6750 §3.1: no token is 401, a token without the route's scope 403, as for any
    other invalid input."""
    response = await http.get("/v1/blocklist?limit=1&limit=2")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'
    writer = await bearer_for(http, registered, "reports:write")
    response = await http.get("/v1/blocklist?limit=1&limit=2", headers=writer)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
