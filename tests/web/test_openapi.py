"""The OpenAPI document served at ``/openapi.json``: every API operation names the
client-credentials flow and the scopes its guard requires (Swagger UI's "Authorize"
asks for them)."""

from __future__ import annotations

import httpx

CLIENT_CREDENTIALS = "OAuth2ClientCredentials"


async def test_each_api_operation_lists_the_scopes_its_guard_requires(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    security = {
        (method, path): operation.get("security")
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if path.startswith("/v1/")
    }
    assert security == {
        ("post", "/v1/reports"): [{CLIENT_CREDENTIALS: ["reports:write"]}],
        ("get", "/v1/profiles/{platform}/{profile_id}"): [{CLIENT_CREDENTIALS: ["profiles:read"]}],
        ("get", "/v1/blocklist"): [{CLIENT_CREDENTIALS: ["profiles:read"]}],
    }


async def test_the_flow_is_client_credentials_at_the_token_endpoint(
    http: httpx.AsyncClient,
) -> None:
    scheme = (await http.get("/openapi.json")).json()["components"]["securitySchemes"][
        CLIENT_CREDENTIALS
    ]
    assert scheme == {
        "type": "oauth2",
        "flows": {
            "clientCredentials": {
                "tokenUrl": "/oauth/token",
                "scopes": {
                    "reports:write": "Report profiles as grazers.",
                    "profiles:read": "Read profiles' status and the blocklist.",
                },
            }
        },
    }


async def test_the_token_request_documents_resource_indicators(http: httpx.AsyncClient) -> None:
    """RFC 8707 §2: ``resource`` at the token endpoint, one parameter per value (an
    exploded form array); introspection's ``aud`` is a string or an array (RFC 7519
    §4.1.3)."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    form = paths["/oauth/token"]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"
    ]
    resource = form["schema"]["properties"]["resource"]
    assert (resource["type"], resource["items"]) == (
        "array",
        {"type": "string", "anyOf": [{"format": "uri"}, {"const": ""}]},
    )
    assert form["encoding"] == {"resource": {"style": "form", "explode": True}}
    active = paths["/oauth/introspect"]["post"]["responses"]["200"]["content"]["application/json"]
    assert active["schema"]["properties"]["aud"]["oneOf"] == [
        {"type": "string"},
        {"type": "array", "items": {"type": "string"}},
    ]


async def test_every_operation_documents_the_refusals_it_can_get(
    http: httpx.AsyncClient,
) -> None:
    """The edge's refusals on every operation (408, 413, 431), the bearer guard's on
    every ``/v1`` one (RFC 6750 §3.1: 400, 401 with ``WWW-Authenticate``, 403): API
    fuzzing (tests/e2e/test_api_fuzzing.py) checks every answer against the document."""
    paths = (await http.get("/openapi.json")).json()["paths"]
    for path, operations in paths.items():
        for operation in operations.values():
            statuses = set(operation["responses"])
            assert {"408", "413", "431"} <= statuses, path
            if path.startswith("/v1/"):
                assert {"400", "401", "403"} <= statuses, path
                assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
