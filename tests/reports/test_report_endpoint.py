"""``POST /v1/reports``: one report per reporter and profile, idempotent, validated,
and guarded by the ``reports:write`` scope (RFC 6750 §3.1)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.clock import FrozenClock
from tests.reports.helpers import Headers, bearer_for, error_fields, report
from tests.support import Registered

REPORT = {"platform": "facebook", "profile_id": "grazer.1", "reporter_id": "user-1"}


async def test_a_report_is_created_with_201(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.post(
        "/v1/reports", json={**REPORT, "reason": "fake army doctor"}, headers=auth
    )
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "platform": "facebook",
        "profile_id": "grazer.1",
        "reporter_id": "user-1",
        "reason": "fake army doctor",
        "created_at": "2026-06-01T12:00:00Z",
    }


async def test_a_repeated_report_answers_200_with_the_first_report(
    http: httpx.AsyncClient, auth: Headers, clock: FrozenClock
) -> None:
    """Idempotent: the repeat changes nothing and returns the original body, including
    the original ``created_at`` and reason."""
    first = await http.post("/v1/reports", json={**REPORT, "reason": "first"}, headers=auth)
    assert first.status_code == 201
    clock.advance(600)
    again = await http.post("/v1/reports", json={**REPORT, "reason": "second"}, headers=auth)
    assert again.status_code == 200
    assert again.json() == first.json()
    profile = await http.get("/v1/profiles/facebook/grazer.1", headers=auth)
    assert profile.json()["reporters"] == 1


async def test_the_same_reporter_id_of_another_client_is_another_report(
    http: httpx.AsyncClient, auth: Headers, other_auth: Headers
) -> None:
    assert (await http.post("/v1/reports", json=REPORT, headers=auth)).status_code == 201
    assert (await http.post("/v1/reports", json=REPORT, headers=other_auth)).status_code == 201
    assert (await http.post("/v1/reports", json=REPORT, headers=other_auth)).status_code == 200


async def test_a_reporter_may_report_several_profiles(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    await report(http, auth, "grazer.1", "user-1")
    second = await report(http, auth, "grazer.2", "user-1")
    third = await report(http, auth, "grazer.1", "user-1", platform="x")
    assert second.status_code == third.status_code == 201


async def test_the_reason_is_optional_and_may_be_null(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    response = await report(http, auth, "grazer.1", "user-1", reason=None)
    assert response.json()["reason"] is None


async def test_ids_of_200_characters_and_a_reason_of_1000_are_accepted(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    response = await report(http, auth, "p" * 200, "r" * 200, reason="x" * 1000)
    assert response.status_code == 201
    assert response.json()["profile_id"] == "p" * 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**REPORT, "platform": "myspace"}, "platform"),
        ({**REPORT, "platform": "Facebook"}, "platform"),
        ({**REPORT, "platform": 1}, "platform"),
        ({**REPORT, "profile_id": "p" * 201}, "profile_id"),
        ({**REPORT, "profile_id": ""}, "profile_id"),
        ({**REPORT, "profile_id": 42}, "profile_id"),
        ({**REPORT, "reporter_id": "r" * 201}, "reporter_id"),
        ({**REPORT, "reporter_id": ""}, "reporter_id"),
        ({**REPORT, "reason": "x" * 1001}, "reason"),
        ({"profile_id": "p", "reporter_id": "r"}, "platform"),
        ({"platform": "x", "reporter_id": "r"}, "profile_id"),
        ({"platform": "x", "profile_id": "p"}, "reporter_id"),
    ],
)
async def test_invalid_reports_are_422_naming_the_field(
    http: httpx.AsyncClient, auth: Headers, body: dict[str, object], field: str
) -> None:
    response = await http.post("/v1/reports", json=body, headers=auth)
    assert error_fields(response) == {("body", field)}
    profile = await http.get("/v1/profiles/x/p", headers=auth)
    assert profile.json()["reporters"] == 0


@pytest.mark.parametrize("field", ["platform", "profile_id", "reporter_id", "reason"])
async def test_a_lone_surrogate_is_422_naming_the_field(
    http: httpx.AsyncClient, auth: Headers, field: str
) -> None:
    """A JSON ``\\u`` escape can spell a lone surrogate (RFC 8259 §8.2), which no UTF-8
    text holds: refused before the rules or the storage see it."""
    body = json.dumps({**REPORT, field: "a\ud800"})  # ASCII: the escape "a\\ud800"
    assert "a\\ud800" in body
    response = await http.post(
        "/v1/reports", content=body, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["body", field],
                "msg": "Value error, must be valid Unicode, without lone surrogates",
                "ctx": {"error": {}},
            }
        ]
    }
    profile = await http.get("/v1/profiles/facebook/grazer.1", headers=auth)
    assert profile.json()["reporters"] == 0


async def test_an_empty_body_names_every_missing_field(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    response = await http.post("/v1/reports", json={}, headers=auth)
    assert error_fields(response) == {
        ("body", "platform"),
        ("body", "profile_id"),
        ("body", "reporter_id"),
    }


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'"report"'])
async def test_a_body_that_is_not_a_json_object_is_422(
    http: httpx.AsyncClient, auth: Headers, content: bytes
) -> None:
    response = await http.post(
        "/v1/reports", content=content, headers={**auth, "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


async def test_no_token_is_401(http: httpx.AsyncClient) -> None:
    """RFC 6750 §3.1: no credentials, a bare challenge and no error code; the body's
    validity is not even looked at."""
    response = await http.post("/v1/reports", json={"platform": "myspace"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="anti-grazer"'
    assert "error" not in response.json()


async def test_an_invalid_token_is_401_invalid_token(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/reports", json=REPORT, headers={"Authorization": "Bearer ag_at_forged"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_token_without_reports_write_is_403_insufficient_scope(
    http: httpx.AsyncClient, registered: Registered, auth: Headers
) -> None:
    """RFC 6750 §3.1: a valid token lacking the scope is 403 ``insufficient_scope``
    naming the scope needed; nothing is stored."""
    read_only = await bearer_for(http, registered, "profiles:read")
    response = await http.post("/v1/reports", json=REPORT, headers=read_only)
    assert response.status_code == 403
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="reports:write"' in challenge
    assert response.json()["error"] == "insufficient_scope"
    profile = await http.get("/v1/profiles/facebook/grazer.1", headers=auth)
    assert profile.json()["status"] == "clear"


async def test_a_client_registered_for_reading_only_cannot_report(
    http: httpx.AsyncClient, reader: Registered
) -> None:
    headers = await bearer_for(http, reader, "profiles:read")
    response = await http.post("/v1/reports", json=REPORT, headers=headers)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
