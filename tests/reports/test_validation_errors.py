"""The ``422`` of every ``/v1`` input (body, path, query): FastAPI's error format without
the ``input`` echo (web/validation_errors.py), so that no answer carries more of the
input than the field's name, and inputs with no JSON form (NaN) are answered too."""

from __future__ import annotations

import httpx
import pytest

from tests.reports.helpers import Headers

REPORT = {"platform": "facebook", "profile_id": "grazer.1", "reporter_id": "user-1"}
JSON = {"Content-Type": "application/json"}


async def test_an_over_long_reason_is_not_echoed(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.post("/v1/reports", json={**REPORT, "reason": "x" * 8000}, headers=auth)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": [
            {
                "type": "string_too_long",
                "loc": ["body", "reason"],
                "msg": "String should have at most 1000 characters",
                "ctx": {"max_length": 1000},
            }
        ]
    }


async def test_a_missing_field_does_not_echo_the_body(
    http: httpx.AsyncClient, auth: Headers
) -> None:
    response = await http.post(
        "/v1/reports", json={"profile_id": "p", "reporter_id": "r"}, headers=auth
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"type": "missing", "loc": ["body", "platform"], "msg": "Field required"}]
    }


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_a_non_finite_reason_is_422(
    http: httpx.AsyncClient, auth: Headers, literal: str
) -> None:
    """Python's JSON reader takes NaN and Infinity (not JSON, RFC 8259 §6) and overflows
    1e400 to infinity: the reason must be a string, and the error renders without them."""
    body = b'{"platform": "x", "profile_id": "p", "reporter_id": "r", "reason": %s}' % (
        literal.encode()
    )
    response = await http.post("/v1/reports", content=body, headers={**auth, **JSON})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_type",
                "loc": ["body", "reason"],
                "msg": "Input should be a valid string",
            }
        ]
    }


async def test_a_body_of_nan_is_422(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.post("/v1/reports", content=b"[NaN]", headers={**auth, **JSON})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "model_attributes_type",
                "loc": ["body"],
                "msg": "Input should be a valid dictionary or object to extract fields from",
            }
        ]
    }


async def test_invalid_json_is_422_without_the_body(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.post("/v1/reports", content=b"{", headers={**auth, **JSON})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "json_invalid",
                "loc": ["body", 1],
                "msg": "JSON decode error",
                "ctx": {"error": "Expecting property name enclosed in double quotes"},
            }
        ]
    }


async def test_a_path_parameter_error_has_no_input(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.get("/v1/profiles/facebook/" + "p" * 201, headers=auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "string_too_long",
                "loc": ["path", "profile_id"],
                "msg": "String should have at most 200 characters",
                "ctx": {"max_length": 200},
            }
        ]
    }


async def test_a_query_parameter_error_has_no_input(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.get("/v1/blocklist", params={"limit": "9" * 5000}, headers=auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "int_parsing_size",
                "loc": ["query", "limit"],
                "msg": "Unable to parse input string as an integer, exceeded maximum size",
            }
        ]
    }


async def test_a_cursor_error_has_no_input(http: httpx.AsyncClient, auth: Headers) -> None:
    response = await http.get("/v1/blocklist", params={"cursor": "g" * 2000}, headers=auth)
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "value_error",
                "loc": ["query", "cursor"],
                "msg": "Invalid cursor: cursor check failed",
            }
        ]
    }
