"""The Host header steers nothing (RFC 9110 §7.2: it names the target; a forged one must
not reach what a client reads): a path with or without a trailing slash gets its answer,
never a redirect whose Location the Host header built."""

from __future__ import annotations

import httpx
import pytest

from tests.http_helpers import bearer
from tests.support import Registered, issue

FORGED_HOST = "attacker.example"
# Routes of the app, each with a trailing slash added (Starlette's redirect_slashes
# answered these with a 307 to http(s)://<Host header>/<path without the slash>).
WITH_A_TRAILING_SLASH = [
    ("GET", "/v1/reports/"),
    ("POST", "/v1/reports/"),
    ("GET", "/v1/blocklist/"),
    ("GET", "/health/"),
    ("GET", "/docs/"),
    ("GET", "/docs/assets"),
    ("GET", "/openapi.json/"),
    ("POST", "/oauth/token/"),
    ("POST", "/oauth/revoke/"),
    ("POST", "/oauth/introspect/"),
    ("GET", "/.well-known/oauth-authorization-server/"),
]
AS_ROUTED = [
    ("GET", "/health"),
    ("GET", "/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/docs/assets/swagger-ui.css"),
    ("GET", "/v1/blocklist"),
    ("GET", "/v1/profiles/facebook/x/"),
    ("POST", "/v1/reports"),
    ("POST", "/oauth/token"),
    ("GET", "/oauth/token"),
    ("POST", "/oauth/introspect"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/nowhere"),
    ("DELETE", "/health"),
]


def assert_host_not_reflected(response: httpx.Response) -> None:
    assert not response.is_redirect
    for name, value in response.headers.multi_items():
        assert FORGED_HOST not in value.lower(), (name, value)
    assert FORGED_HOST.encode() not in response.content.lower()


@pytest.mark.parametrize(("method", "path"), WITH_A_TRAILING_SLASH)
async def test_a_trailing_slash_is_a_json_404_not_a_redirect(
    http: httpx.AsyncClient, registered: Registered, method: str, path: str
) -> None:
    """RFC 9110 §15.5.5: the path names no resource; nothing redirects to the Host's
    origin, also with a valid token."""
    token = await issue(http, registered, "reports:write profiles:read")
    response = await http.request(
        method,
        path,
        headers={"Host": FORGED_HOST, **bearer(token)},
    )
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert_host_not_reflected(response)


@pytest.mark.parametrize(("method", "path"), WITH_A_TRAILING_SLASH + AS_ROUTED)
async def test_a_forged_host_appears_in_no_response(
    http: httpx.AsyncClient, method: str, path: str
) -> None:
    """Whatever the path and method, no header or body echoes the Host header."""
    response = await http.request(method, path, headers={"Host": FORGED_HOST})
    assert_host_not_reflected(response)
